import { badRequest } from '../contracts/errors.js';

export const BUCKETS = ['hour', 'day'] as const;
export type Bucket = (typeof BUCKETS)[number];

const HOUR_MS = 3_600_000;
/** Hours in a bucket: the time series is read from hourly rollups, a day is 24 of them. */
export const BUCKET_HOURS: Record<Bucket, number> = { hour: 1, day: 24 };

/** Without `from`, a series starts this long before `to` (or now). */
export const DEFAULT_SPAN_DAYS = 30;
/** The most buckets one read may ask for: 31 days of hours, 366 days. */
export const MAX_BUCKETS: Record<Bucket, number> = { hour: 744, day: 366 };

/** Whole buckets, numbered from the epoch: the series holds buckets first ≤ b < end. */
export interface BucketRange {
  bucket: Bucket;
  first: number;
  end: number;
}

/**
 * The buckets a time-series read covers: those overlapping [from, to), `to` defaulting to now and
 * `from` to DEFAULT_SPAN_DAYS before `to`. A range of more than MAX_BUCKETS, or one that ends before
 * it starts, is refused (400): the cost of a read grows with its buckets.
 */
export function bucketRange(bucket: Bucket, now: Date, from?: Date, to?: Date): BucketRange {
  const width = BUCKET_HOURS[bucket] * HOUR_MS;
  const end = to ?? now;
  const start = from ?? new Date(end.getTime() - DEFAULT_SPAN_DAYS * 86_400_000);
  if (start.getTime() >= end.getTime()) {
    throw badRequest('invalid time range', [{ path: 'from', problem: 'must be before to' }]);
  }
  const range = {
    bucket,
    first: Math.floor(start.getTime() / width),
    end: Math.ceil(end.getTime() / width),
  };
  const buckets = range.end - range.first;
  if (buckets > MAX_BUCKETS[bucket]) {
    throw badRequest('time range too long', [
      {
        path: from ? 'from' : 'to',
        problem: `spans ${buckets} ${bucket} buckets; at most ${MAX_BUCKETS[bucket]} (${
          bucket === 'hour' ? '31 days of hours: ask bucket=day or a shorter range' : '366 days'
        })`,
      },
    ]);
  }
  return range;
}

/** The start of bucket b, ISO 8601 in UTC without milliseconds. */
export function bucketStart(bucket: Bucket, b: number): string {
  return new Date(b * BUCKET_HOURS[bucket] * HOUR_MS).toISOString().replace('.000Z', 'Z');
}
