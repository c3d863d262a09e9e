import { z } from 'zod';
import { AiSecrets, parseSecretGrants } from './egress/ai-secrets.js';
import { DEFAULT_DESTINATIONS, parseDestinations } from './egress/destination-policy.js';
import { parseDurationMs } from './plans/duration.js';

/** A setting parsed by `parse`, whose problems are reported under the variable's name. */
function listSetting<T>(parse: (text: string) => T | string[], unset: T) {
  return z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return unset;
      const parsed = parse(text);
      if (isProblemList(parsed)) {
        for (const message of parsed) ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return parsed;
    });
}

/** How long a pending change may wait for its approvals: at least a minute, at most a year. */
const CHANGE_TTL_MS = { min: 60_000, max: 366 * 86_400_000 };

/** A duration as the plan writes them (`7d`, `12h`, or seconds), as milliseconds. */
const durationSetting = (unset: string, bounds: { min: number; max: number }) =>
  z
    .string()
    .default(unset)
    .transform((text, ctx) => {
      let ms: number;
      try {
        ms = parseDurationMs(/^\d+(?:\.\d+)?$/.test(text.trim()) ? Number(text) : text);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'a duration such as 30m, 12h, 7d or 2w' });
        return z.NEVER;
      }
      if (ms < bounds.min || ms > bounds.max) {
        ctx.addIssue({ code: 'custom', message: 'between 1m and 366d' });
        return z.NEVER;
      }
      return ms;
    });

/** The parsers return their problems as a non-empty list of strings. */
function isProblemList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string');
}

/**
 * The controller's settings, read through `readEnvironment`. Every variable is documented in the
 * README ("Configuration"); an invalid value stops the process with the variable named.
 */
const envSchema = z.object({
  DATABASE_URL: z.string().min(1).optional(),
  /** Where PGlite keeps its files when DATABASE_URL is unset. */
  SHADOWGATE_DATA_DIR: z.string().min(1).default('./.shadowgate'),
  REDIS_URL: z.string().min(1).optional(),
  SHADOWGATE_QUEUE_PREFIX: z.string().min(1).default('shadowgate'),
  UNLEASH_URL: z.string().url().optional(),
  UNLEASH_ADMIN_TOKEN: z.string().min(1).optional(),
  UNLEASH_PROJECT: z.string().min(1).default('default'),
  UNLEASH_ENVIRONMENT: z.string().min(1).default('development'),
  /** How often flags are compared with the stages and repaired. */
  SHADOWGATE_FLAG_SYNC_MS: z.coerce.number().int().min(100).default(5_000),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  SHADOWGATE_TICK_MS: z.coerce.number().int().min(100).default(10_000),
  /** How often owed AI calls are re-enqueued from PostgreSQL. */
  SHADOWGATE_SWEEP_MS: z.coerce.number().int().min(100).default(30_000),
  SHADOWGATE_ADMIN_KEY: z.string().min(16, 'at least 16 characters').optional(),
  /** Largest accepted request body, in bytes. */
  SHADOWGATE_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .default(10 * 1024 * 1024),
  /** Largest AI answer read, in bytes; a larger one is an AI error. */
  SHADOWGATE_MAX_AI_RESPONSE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /**
   * Requests per second per API key and controller process on the ingest routes (a batch is one
   * request) and on the rest of the API; bursts of two seconds' worth; 0 switches the limit off.
   */
  SHADOWGATE_RATE_LIMIT_INGEST_PER_SEC: z.coerce.number().min(0).max(1e6).default(200),
  SHADOWGATE_RATE_LIMIT_API_PER_SEC: z.coerce.number().min(0).max(1e6).default(50),
  /** Where AI calls and webhooks may go (README "Where the controller sends data"). */
  SHADOWGATE_AI_DESTINATIONS: listSetting(parseDestinations, DEFAULT_DESTINATIONS),
  SHADOWGATE_WEBHOOK_DESTINATIONS: listSetting(parseDestinations, DEFAULT_DESTINATIONS),
  /** The variables a plan's `ai.apiKeyEnv` may name, each optionally bound to hosts (egress/ai-secrets.ts). */
  SHADOWGATE_AI_SECRETS: listSetting(parseSecretGrants, []),
  /**
   * Lookups per second, per client address, of keys this process has not accepted lately (ten
   * times that for all addresses together); 0 switches the limit off.
   */
  SHADOWGATE_RATE_LIMIT_UNKNOWN_KEYS_PER_SEC: z.coerce.number().min(0).max(1e6).default(10),
  /** Use cases one deployment holds at most: a plan that would create one more is refused. */
  SHADOWGATE_MAX_USE_CASES: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  /** Statement timeout of the reads a viewer can ask for at will (filtered scans, time series), in ms. */
  SHADOWGATE_READ_TIMEOUT_MS: z.coerce.number().int().min(1).max(3_600_000).default(5_000),
  /**
   * How long a request waits for the database on the SDK's paths (its key lookup, an ingest)
   * before it answers 503 with Retry-After, in ms: a connection gone silent (a network
   * partition) answers nothing for minutes.
   */
  SHADOWGATE_DATABASE_WAIT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  /** `key`: /metrics needs a key that may read every use case (it names them all). */
  SHADOWGATE_METRICS_AUTH: z.enum(['none', 'key']).default('none'),
  /**
   * How long a stopping process lets its in-flight AI calls finish before it hands back the rest
   * (ms); below Kubernetes' default 30 s termination grace, so the hand-back runs before SIGKILL.
   */
  SHADOWGATE_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(20_000),
  /**
   * The evidence floor of an `approval: automatic` gate: its `minSamples` must be at least this
   * (README "Change control"), whoever approves the plan.
   */
  SHADOWGATE_AUTOMATIC_MIN_SAMPLES: z.coerce.number().int().min(1).max(1_000_000).default(100),
  /** How long a pending change waits for its approvals before it expires, in ms (written `7d`). */
  SHADOWGATE_CHANGE_TTL: durationSetting('7d', CHANGE_TTL_MS),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = Readonly<
  z.infer<typeof envSchema> & {
    /** The values of the variables SHADOWGATE_AI_SECRETS names, read once here. */
    aiSecrets: AiSecrets;
  }
>;

/**
 * The environment as every part of Shadowgate sees it: a variable that is empty or only
 * whitespace is unset, as compose files and shells write an unset one (`UNLEASH_URL=`). Values
 * that are set are kept as they are. The one place that reads process.env.
 */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Readonly<Record<string, string>> {
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') set[name] = value;
  }
  return Object.freeze(set);
}

/** The controller's configuration from `env` (default: the process's), empty variables unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseConfig(readEnvironment(env));
}

function parseConfig(env: Readonly<Record<string, string>>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw invalid(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const aiSecrets = AiSecrets.create(
    parsed.data.SHADOWGATE_AI_SECRETS,
    (name) => env[name],
    Object.keys(envSchema.shape),
  );
  if (Array.isArray(aiSecrets)) throw invalid(aiSecrets.map((p) => `SHADOWGATE_AI_SECRETS: ${p}`));
  return Object.freeze({ ...parsed.data, aiSecrets });
}

function invalid(lines: string[]): Error {
  return new Error(`invalid configuration:\n${lines.map((l) => `  ${l}`).join('\n')}`);
}

/**
 * Takes the controller's own secrets out of `env` once the configuration holds them (`serve` does
 * it at start): nothing the process runs later (a plan's apiKeyEnv, a dependency, a child process)
 * can read them from the environment. DATABASE_URL and REDIS_URL go too: they may carry passwords.
 */
export function removeSecretsFromEnvironment(config: Config, env: NodeJS.ProcessEnv = process.env): void {
  const names = ['SHADOWGATE_ADMIN_KEY', 'UNLEASH_ADMIN_TOKEN', 'DATABASE_URL', 'REDIS_URL'];
  for (const name of [...names, ...config.aiSecrets.names]) delete env[name];
}
