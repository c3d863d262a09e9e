/**
 * Segment values are the client's: per stage version a segment holds at most this many values by
 * name, and a value longer than SEGMENT_VALUE_CHARS characters is never kept by name; the rest are
 * counted, and judged, together as OTHER_SEGMENT_VALUE (README "Metrics"). The rollup trigger
 * (migration 0017) states these numbers in SQL; test/unit/rollup-trigger-migrations.test.ts holds
 * them equal.
 */
export const SEGMENT_VALUES_PER_STAGE = 100;
export const SEGMENT_VALUE_CHARS = 200;
export const OTHER_SEGMENT_VALUE = '__other__';
