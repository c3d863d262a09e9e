/** Figures as the Markdown report shows them: deterministic (no locale); escaped where they are written. */

export const NONE = '–';

export function percent(x: number | null | undefined, digits = 2): string {
  return x == null ? NONE : `${(x * 100).toFixed(digits)}%`;
}

export function fixed(x: number | null | undefined, digits = 3): string {
  return x == null ? NONE : x.toFixed(digits);
}

export function whole(x: number | null | undefined): string {
  return x == null ? NONE : group(Math.round(x).toString());
}

export function ms(x: number | null | undefined): string {
  return x == null ? NONE : `${Math.round(x)} ms`;
}

/** Dollars: cents from one dollar up, four significant digits below (per-decision AI costs are small). */
export function usd(x: number | null | undefined): string {
  if (x == null) return NONE;
  const sign = x < 0 ? '-' : '';
  const abs = Math.abs(x);
  if (abs === 0) return '$0';
  if (abs >= 1) {
    const [int, dec] = abs.toFixed(2).split('.');
    return `${sign}$${group(int!)}.${dec}`;
  }
  return `${sign}$${Number(abs.toPrecision(4)).toString()}`;
}

/** A required or actual value of a criterion: numbers as they are, at most four decimals. */
export function value(x: number | string | null | undefined): string {
  if (x == null) return 'none yet';
  if (typeof x === 'string') return x;
  return Number.isInteger(x) ? String(x) : String(Number(x.toFixed(4)));
}

function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
