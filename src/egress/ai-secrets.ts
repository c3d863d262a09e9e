import { isIP } from 'node:net';
import { EgressRefusedError } from './egress-refused-error.js';
import {
  canonicalHost,
  describePattern,
  type HostPattern,
  hostMatches,
  parseHostPattern,
} from './host-pattern.js';
import { refusedKind } from './refused-addresses.js';

/**
 * The secrets a plan's `ai.apiKeyEnv` may name, from `SHADOWGATE_AI_SECRETS`:
 * `NAME[:HOST[|HOST…]][,NAME…]`, e.g. `OPENAI_KEY:api.openai.com,AZURE_KEY:*.openai.azure.com`.
 * A name with hosts is sent only to those hosts (names, `*.domain`, IP addresses); a name without
 * may go to any AI destination the destination policy allows. A secret travels over https only,
 * except to a loopback host (it never leaves the machine then). Values are read once, at start.
 */
export interface SecretGrant {
  name: string;
  /** Null: any allowed AI destination. */
  hosts: readonly HostPattern[] | null;
}

const SECRET_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const MAX_GRANTS = 100;

/**
 * Prefixes of variables the controller, its database driver or Node itself read: never an AI
 * secret, whatever the operator lists (the controller's own variables are refused by name too).
 */
const RESERVED_PREFIXES = ['SHADOWGATE_', 'UNLEASH_', 'DATABASE_', 'REDIS_', 'PG', 'NODE_'];

/** Parses the setting; returns the grants or the problems. */
export function parseSecretGrants(text: string): SecretGrant[] | string[] {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length > MAX_GRANTS) return [`more than ${MAX_GRANTS} secrets`];
  const problems: string[] = [];
  const grants: SecretGrant[] = [];
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const name = (colon < 0 ? entry : entry.slice(0, colon)).trim();
    if (!SECRET_NAME.test(name)) {
      problems.push(`"${name.slice(0, 40)}" is not a variable name (A-Z, 0-9, _; at most 128)`);
      continue;
    }
    if (grants.some((g) => g.name === name)) problems.push(`${name} is listed twice`);
    if (colon < 0) {
      grants.push({ name, hosts: null });
      continue;
    }
    const hosts: HostPattern[] = [];
    for (const host of entry.slice(colon + 1).split('|')) {
      const pattern = parseHostPattern(host);
      if (typeof pattern === 'string') problems.push(`${name}: ${pattern}`);
      else hosts.push(pattern);
    }
    grants.push({ name, hosts });
  }
  return problems.length > 0 ? problems : grants;
}

export interface SecretRefusal {
  /** The plan field to fix: the variable's name, or the URL it would be sent to. */
  field: 'apiKeyEnv' | 'url';
  problem: string;
}

export class AiSecrets {
  static readonly none = new AiSecrets([], new Map());

  readonly #values: ReadonlyMap<string, string>;

  private constructor(
    private readonly grants: readonly SecretGrant[],
    values: ReadonlyMap<string, string>,
  ) {
    this.#values = values;
  }

  /**
   * The store of the granted secrets' values. Refuses (returns the problems) a name the controller
   * reads itself (`controllerVariables` or a reserved prefix), an unset or empty variable, and a
   * value a header cannot carry.
   */
  static create(
    grants: readonly SecretGrant[],
    read: (name: string) => string | undefined,
    controllerVariables: readonly string[],
  ): AiSecrets | string[] {
    const problems: string[] = [];
    const values = new Map<string, string>();
    for (const { name } of grants) {
      const value = read(name);
      if (controllerVariables.includes(name) || RESERVED_PREFIXES.some((p) => name.startsWith(p))) {
        problems.push(`${name} is a variable the controller reads itself: it cannot be an AI secret`);
      } else if (!value) {
        problems.push(`${name} is not set`);
      } else if (CONTROL_CHARACTER.test(value)) {
        problems.push(`${name} holds a control character: it cannot be sent as a bearer token`);
      } else values.set(name, value);
    }
    return problems.length > 0 ? problems : new AiSecrets(grants, values);
  }

  get names(): string[] {
    return this.grants.map((g) => g.name);
  }

  /** Why a plan may not send the secret `name` with its calls to `url`, or null. */
  refusal(name: string, url: string): SecretRefusal | null {
    const grant = this.grants.find((g) => g.name === name);
    if (!grant || !this.#values.has(name)) {
      const allowed = this.grants.length > 0 ? this.names.join(', ') : 'none';
      return {
        field: 'apiKeyEnv',
        problem: `${name} is not an AI secret of this controller (SHADOWGATE_AI_SECRETS: ${allowed})`,
      };
    }
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return { field: 'url', problem: 'not a URL' };
    }
    const host = canonicalHost(target.hostname);
    if (grant.hosts && !grant.hosts.some((p) => hostMatches(p, host))) {
      const bound = grant.hosts.map(describePattern).join(', ');
      return { field: 'url', problem: `${name} may be sent only to ${bound}, not to ${host}` };
    }
    if (target.protocol !== 'https:' && !isLoopbackHost(host)) {
      return { field: 'url', problem: `${name} is sent over https only (or to a loopback host)` };
    }
    return null;
  }

  /** The value to send to `url`; throws an `EgressRefusedError` when the plan may not send it there. */
  bearer(name: string, url: string): string {
    const refused = this.refusal(name, url);
    if (refused) throw new EgressRefusedError(refused.problem);
    return this.#values.get(name) as string;
  }

  /** Names only: a logged or serialised store never shows a value. */
  toJSON(): { names: string[] } {
    return { names: this.names };
  }
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || (isIP(host) !== 0 && refusedKind(host) === 'loopback');
}
