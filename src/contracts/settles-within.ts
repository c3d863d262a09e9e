/**
 * Resolves true when `work` settles (either way) within `ms`, false otherwise; the work goes on
 * unwatched. For shutdown steps that must not hold a stop for ever. The timer does not keep the
 * process alive by itself.
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms).unref();
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
