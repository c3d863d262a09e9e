/**
 * Everything a benchmark creates (databases, child processes, Redis keys) registers its undoing
 * here, so an interrupted run (Ctrl-C, a thrown error) leaves nothing behind.
 */
const pending = new Map<number, { what: string; undo: () => Promise<unknown> }>();
let next = 0;

/** Registers an undo; the returned function runs it now (once) and unregisters it. */
export function onCleanup(what: string, undo: () => Promise<unknown>): () => Promise<void> {
  const id = next++;
  pending.set(id, { what, undo });
  return async () => {
    if (!pending.delete(id)) return;
    await undo();
  };
}

/** Runs every undo still registered, newest first; a failing one is reported and the rest still run. */
export async function cleanupAll(log: (line: string) => void): Promise<void> {
  const entries = [...pending.entries()].reverse();
  pending.clear();
  for (const [, { what, undo }] of entries) {
    await undo().catch((error: unknown) => log(`cleanup of ${what} failed: ${(error as Error).message}`));
  }
}
