import { cpus, release, totalmem, type } from 'node:os';
import { Redis } from 'ioredis';
import postgres from 'postgres';

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  postgres: string;
  /** The PostgreSQL settings the scans of benchmark 3 depend on. */
  postgresSettings: { sharedBuffers: string; workMem: string };
  redis: string;
  os: string;
}

/** The machine the figures were measured on, printed with the table and kept in the JSON. */
export async function describeMachine(postgresUrl: string, redisUrl: string): Promise<Machine> {
  const sql = postgres(postgresUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  let pgVersion = 'unknown';
  const postgresSettings = { sharedBuffers: 'unknown', workMem: 'unknown' };
  try {
    const [row] = await sql<{ server_version: string }[]>`show server_version`;
    pgVersion = row?.server_version ?? pgVersion;
    const [buffers] = await sql<{ shared_buffers: string }[]>`show shared_buffers`;
    const [workMem] = await sql<{ work_mem: string }[]>`show work_mem`;
    postgresSettings.sharedBuffers = buffers?.shared_buffers ?? 'unknown';
    postgresSettings.workMem = workMem?.work_mem ?? 'unknown';
  } finally {
    await sql.end({ timeout: 2 });
  }
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  let redisVersion = 'unknown';
  try {
    await redis.connect();
    const info = await redis.info('server');
    redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? redisVersion;
  } finally {
    redis.disconnect();
  }
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: pgVersion.split(' ')[0] ?? pgVersion,
    postgresSettings,
    redis: redisVersion,
    os: `${type()} ${release()}`,
  };
}
