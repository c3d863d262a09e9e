import type { Command } from 'commander';
import {
  ControllerApi,
  ControllerApiError,
  type ControllerTarget,
  ControllerUnavailableError,
} from '../client/controller-api.js';
import { readEnvironment } from '../config.js';
import { CliError, EXIT, exitCodeForStatus } from './exit-codes.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** The controller named by `--url`/`--key` (on the program) or SHADOWGATE_URL/SHADOWGATE_KEY. */
export function clientFor(command: Command): ControllerApi {
  const { url, key } = command.optsWithGlobals<{ url?: string; key?: string }>();
  return new ControllerApi(resolveTarget({ url, key }, readEnvironment()));
}

/** Flags win over the environment; the key is required, the URL defaults to the local controller. */
export function resolveTarget(
  flags: { url?: string | undefined; key?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): ControllerTarget {
  const raw = flags.url ?? env.SHADOWGATE_URL ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`invalid controller URL "${raw}" (--url or SHADOWGATE_URL)`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`invalid controller URL "${raw}": expected http:// or https://`, EXIT.usage);
  }
  const key = flags.key ?? env.SHADOWGATE_KEY;
  if (!key) throw new CliError('no API key: pass --key or set SHADOWGATE_KEY', EXIT.usage);
  return { url: url.toString().replace(/\/+$/, ''), key };
}

/**
 * A failed call to the controller as the CLI reports it: the controller's message and status,
 * each of its problems on a detail line, and the exit code for the status. Other errors pass.
 */
export function asCliError(error: unknown): unknown {
  if (error instanceof ControllerApiError) {
    return new CliError(
      `${error.apiMessage} (HTTP ${error.status})`,
      exitCodeForStatus(error.status),
      error.problemLines,
    );
  }
  if (error instanceof ControllerUnavailableError) return new CliError(error.message, EXIT.unavailable);
  return error;
}

/** Path segment for a use case or key id typed by a person. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
