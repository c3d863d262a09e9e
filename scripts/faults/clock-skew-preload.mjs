/**
 * Preloaded (`node --import`) into the clock-skew case's controller processes only: their
 * wall clock (Date.now(), new Date() and Date()) reads FAULTS_CLOCK_SKEW_MS ms off the host's,
 * as on a machine whose clock is wrong. Timers and performance.now() are untouched, as they
 * are when a wall clock is wrong. Never loaded by the controller itself.
 */
const MAX_SKEW_MS = 3_600_000;
const skew = Number(process.env.FAULTS_CLOCK_SKEW_MS ?? '0');
if (!Number.isInteger(skew) || Math.abs(skew) > MAX_SKEW_MS) {
  throw new Error(`FAULTS_CLOCK_SKEW_MS must be a whole number of ms within ±${MAX_SKEW_MS}`);
}
if (skew !== 0) {
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  const skewedNow = () => realNow() + skew;
  globalThis.Date = new Proxy(RealDate, {
    construct(target, args, newTarget) {
      return Reflect.construct(target, args.length === 0 ? [skewedNow()] : args, newTarget);
    },
    apply() {
      return new RealDate(skewedNow()).toString();
    },
    get(target, property, receiver) {
      return property === 'now' ? skewedNow : Reflect.get(target, property, receiver);
    },
  });
}
