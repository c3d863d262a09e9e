/**
 * ln Γ(x) and the digamma function ψ(x) = d/dx ln Γ(x) for real x > 0, accurate to about 1e-12
 * absolute. Arguments below SHIFT are moved up with Γ(x) = Γ(x + k) / (x (x + 1) … (x + k − 1));
 * from SHIFT on, the Stirling (de Moivre) asymptotic series is used, its first omitted term being
 * below 1e-11 there. Cheap on purpose: the sequential bound evaluates these at every gate check.
 */

const SHIFT = 10;
const HALF_LOG_TWO_PI = 0.9189385332046728;

export function logGamma(x: number): number {
  return logGammaAndDigamma(x, SCRATCH);
}

export function digamma(x: number): number {
  logGammaAndDigamma(x, SCRATCH);
  return SCRATCH[0]!;
}

const SCRATCH = new Float64Array(1);

/** Returns ln Γ(x) and writes ψ(x) to digammaOut[0]: both share one logarithm and one shift. */
export function logGammaAndDigamma(x: number, digammaOut: Float64Array): number {
  if (!(x > 0)) throw new RangeError(`logGamma: x must be > 0, got ${x}`);
  let product = 1;
  let reciprocals = 0;
  while (x < SHIFT) {
    product *= x;
    reciprocals += 1 / x;
    x += 1;
  }
  const logX = Math.log(x);
  const inv = 1 / x;
  const inv2 = inv * inv;
  digammaOut[0] =
    logX - 0.5 * inv - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 / 240))) - reciprocals;
  const series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)));
  return (x - 0.5) * logX - x + HALF_LOG_TWO_PI + series - (product === 1 ? 0 : Math.log(product));
}
