import type { Command } from 'commander';
import { readEnvironment } from '../config.js';
import { ApiClient, resolveTarget } from './api-client.js';

/** The controller named by `--url`/`--key` (on the program) or SHADOWGATE_URL/SHADOWGATE_KEY. */
export function clientFor(command: Command): ApiClient {
  const { url, key } = command.optsWithGlobals<{ url?: string; key?: string }>();
  return new ApiClient(resolveTarget({ url, key }, readEnvironment()));
}

/** Path segment for a use case or key id typed by a person. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
