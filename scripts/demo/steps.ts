/** How the demo starts, stops and narrates its parts. */

/** Stops what the demo started, last started first, once; a failing stop does not keep the others from running. */
export class Cleanup {
  private readonly steps: Array<() => Promise<void>> = [];
  private running: Promise<void> | null = null;

  add(step: () => Promise<void>): void {
    this.steps.push(step);
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of [...this.steps].reverse()) await step().catch(() => {});
    })();
    return this.running;
  }
}

/** Runs one step; a failure is rethrown with what the demo was doing, for the one-line message. */
export async function step<T>(what: string, run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`);
  }
}

/** Lines of the story told by one actor: the actor's name in brackets, further lines indented under the first. */
export function say(actor: string, ...lines: string[]): string {
  return lines.map((line, i) => `${(i === 0 ? `[${actor}]` : '').padEnd(21)} ${line}`).join('\n');
}
