/** A plain decimal number as text: "12", "-3.5", ".5", "1e3". No hex, no "Infinity", no blanks. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The finite number a JSON number or numeric string stands for; null for anything else. */
export function numericValue(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (!DECIMAL.test(text)) return null;
  const parsed = Number(text);
  return Number.isFinite(parsed) ? parsed : null;
}

/**
 * |a − b| ≤ tolerance, inclusive, with a few ulps of slack so floating-point representation does
 * not decide the verdict: 1.01 vs 1.00 is within 0.01, and 0.1 + 0.2 equals 0.3 at tolerance 0.
 */
export function withinTolerance(a: number, b: number, tolerance: number): boolean {
  const slack = 4 * Number.EPSILON * Math.max(Math.abs(a), Math.abs(b));
  return Math.abs(a - b) - tolerance <= slack;
}
