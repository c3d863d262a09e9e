import { statfsSync } from 'node:fs';
import type postgres from 'postgres';

/**
 * Disk for the gates benchmark's stored decisions: what its database takes after each point, and
 * whether the disk PostgreSQL writes to has room for the next one. A point that would fill the disk
 * is skipped with the reason, rather than failing after hours of generating (the 100M point needs
 * about 110 GB at the size a decision took in the 10M point: rows, indexes and rollups).
 */

/** Bytes a stored decision took in the 10M point (10.1 GB), for a first point with nothing measured yet. */
export const ASSUMED_BYTES_PER_DECISION = 1_100;
/** Room asked beyond the estimate: index builds and vacuum need space of their own while they run. */
const HEADROOM = 1.3;

export interface DiskUse {
  /** The benchmark database, everything in it. */
  databaseBytes: number;
  /** `decisions` with its month partitions and their indexes. */
  decisionsBytes: number;
}

export async function diskUse(sql: postgres.Sql): Promise<DiskUse> {
  const [row] = await sql<{ database: string; decisions: string | null }[]>`
    select pg_database_size(current_database())::text as database,
      (select sum(pg_total_relation_size(relid))::text from pg_partition_tree('decisions')) as decisions`;
  return { databaseBytes: Number(row?.database ?? 0), decisionsBytes: Number(row?.decisions ?? 0) };
}

export interface Room {
  /** Bytes free on the file system of PostgreSQL's data directory; null when it cannot be read from here. */
  freeBytes: number | null;
  neededBytes: number;
  enough: boolean;
  /** Why the point is skipped, when it is. */
  reason?: string;
}

/**
 * Whether `more` decisions fit, at the bytes a decision took so far (`perDecision`). The data
 * directory is looked at only when PostgreSQL runs on this machine (a loopback or socket URL);
 * otherwise the point is attempted, as the benchmark cannot see the other machine's disk.
 */
export async function roomFor(
  sql: postgres.Sql,
  postgresUrl: string,
  more: number,
  perDecision: number,
): Promise<Room> {
  const neededBytes = Math.round(more * perDecision * HEADROOM);
  if (!isLocal(postgresUrl)) return { freeBytes: null, neededBytes, enough: true };
  let freeBytes: number;
  try {
    const [row] = await sql<{ data_directory: string }[]>`show data_directory`;
    const stats = statfsSync(row!.data_directory);
    freeBytes = stats.bavail * stats.bsize;
  } catch {
    // Not allowed to read the setting, or not this machine's path after all.
    return { freeBytes: null, neededBytes, enough: true };
  }
  const enough = freeBytes >= neededBytes;
  return {
    freeBytes,
    neededBytes,
    enough,
    ...(enough
      ? {}
      : {
          reason:
            `${more.toLocaleString('en-US')} more decisions need about ${gigabytes(neededBytes)} GB ` +
            `(${Math.round(perDecision)} bytes a decision as stored so far, ×${HEADROOM} for index builds ` +
            `and vacuum), and PostgreSQL's disk has ${gigabytes(freeBytes)} GB free`,
        }),
  };
}

export const gigabytes = (bytes: number) => Math.round(bytes / 1e8) / 10;

function isLocal(postgresUrl: string): boolean {
  let host: string;
  try {
    host = new URL(postgresUrl).hostname;
  } catch {
    return false;
  }
  return host === '' || host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}
