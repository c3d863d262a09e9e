import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { withinDeadline } from '../db/database-deadline.js';
import { apiKeys, auditEvents } from '../db/schema.js';
import type { Principal, Role } from './roles.js';
import { UnknownKeyLimiter } from './unknown-key-limiter.js';

export interface KeyRecord {
  id: string;
  name: string;
  role: Role;
  useCases: string[] | null;
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** What a presented key is worth: a principal, nothing, or a wait (too many unknown keys from its address). */
export type Authentication =
  | { outcome: 'accepted'; principal: Principal }
  | { outcome: 'unknown' }
  | { outcome: 'limited'; retryAfterSeconds: number };

/** How often a key's last-used time is written, at most. */
const TOUCH_EVERY_MS = 60_000;
/** The default of the constructor's `lookupTimeoutMs` (SHADOWGATE_DATABASE_WAIT_MS). */
export const KEY_LOOKUP_TIMEOUT_MS = 5_000;

/**
 * API keys, stored as sha256 of the secret (the secret is random, 32 bytes, so a fast hash
 * is enough: there is nothing to brute-force). A stored key is found by an index lookup on
 * that hash, which compares hashes, never the secret: however the lookup's timing varies
 * with how many leading bytes of a hash match, a caller can only learn about hashes of
 * secrets they chose, and turning that into a stored key's secret means inverting sha256.
 * The bootstrap key is compared with `timingSafeEqual` (over hashes, so lengths match).
 */
export class KeyStore {
  private readonly touched = new Map<string, number>();
  private readonly nowMs: () => number;
  private readonly unknownKeys: UnknownKeyLimiter;
  private readonly lookupTimeoutMs: number;

  /**
   * `unknownKeysPerSecond`: lookups of keys not accepted lately, per client address (0 or unset:
   * no limit). `lookupTimeoutMs`: how long a request waits for its key's row (default 5 s); every
   * request but the bootstrap admin's waits for it, so a silent database would hold them all.
   */
  constructor(
    private readonly database: Database,
    private readonly bootstrapAdminKey?: string,
    options: { nowMs?: () => number; unknownKeysPerSecond?: number; lookupTimeoutMs?: number } = {},
  ) {
    this.nowMs = options.nowMs ?? Date.now;
    this.lookupTimeoutMs = options.lookupTimeoutMs ?? KEY_LOOKUP_TIMEOUT_MS;
    this.unknownKeys = new UnknownKeyLimiter(options.unknownKeysPerSecond ?? 0, this.nowMs);
  }

  /** `resolve`, within the unknown-key limit for callers at `address` (see UnknownKeyLimiter). */
  async authenticate(secret: string, address: string): Promise<Authentication> {
    const hash = hashSecret(secret);
    const admission = this.unknownKeys.admit(hash, address);
    if (!admission.allowed) return { outcome: 'limited', retryAfterSeconds: admission.retryAfterSeconds };
    const principal = await withinDeadline(() => this.resolve(secret), this.lookupTimeoutMs, 'key lookup');
    this.unknownKeys.settle(hash, principal !== null);
    return principal ? { outcome: 'accepted', principal } : { outcome: 'unknown' };
  }

  async create(input: { name: string; role: Role; useCases: string[] | null; actor: string }) {
    const id = randomBytes(6).toString('hex');
    const secret = `sg_${id}_${randomBytes(32).toString('base64url')}`;
    await this.database.db.transaction(async (tx) => {
      await tx.insert(apiKeys).values({
        id,
        name: input.name,
        role: input.role,
        useCases: input.useCases,
        secretHash: hashSecret(secret),
        createdBy: input.actor,
      });
      await tx.insert(auditEvents).values({
        actor: input.actor,
        action: 'key.create',
        details: { id, name: input.name, role: input.role, useCases: input.useCases },
      });
    });
    return { id, secret };
  }

  async list(): Promise<KeyRecord[]> {
    const rows = await this.database.db
      .select({
        id: apiKeys.id,
        name: apiKeys.name,
        role: apiKeys.role,
        useCases: apiKeys.useCases,
        createdBy: apiKeys.createdBy,
        createdAt: apiKeys.createdAt,
        lastUsedAt: apiKeys.lastUsedAt,
        revokedAt: apiKeys.revokedAt,
      })
      .from(apiKeys)
      .orderBy(asc(apiKeys.createdAt));
    return rows as KeyRecord[];
  }

  async revoke(id: string, actor: string): Promise<boolean> {
    return this.database.db.transaction(async (tx) => {
      const rows = await tx
        .update(apiKeys)
        .set({ revokedAt: sql`now()` })
        .where(sql`${apiKeys.id} = ${id} and ${apiKeys.revokedAt} is null`)
        .returning({ id: apiKeys.id, name: apiKeys.name, role: apiKeys.role });
      const [revoked] = rows;
      if (!revoked) return false;
      await tx.insert(auditEvents).values({ actor, action: 'key.revoke', details: revoked });
      return true;
    });
  }

  /** The principal a presented secret stands for, or null when it is unknown or revoked. */
  async resolve(secret: string): Promise<Principal | null> {
    if (this.bootstrapAdminKey && equalSecrets(secret, this.bootstrapAdminKey)) {
      return { keyId: null, name: 'bootstrap-admin', role: 'admin', useCases: null };
    }
    if (!secret.startsWith('sg_') || secret.length > 200) return null;
    const [row] = await this.database.db
      .select({
        id: apiKeys.id,
        name: apiKeys.name,
        role: apiKeys.role,
        useCases: apiKeys.useCases,
        revokedAt: apiKeys.revokedAt,
      })
      .from(apiKeys)
      .where(eq(apiKeys.secretHash, hashSecret(secret)));
    if (!row || row.revokedAt) return null;
    this.touch(row.id);
    return { keyId: row.id, name: row.name, role: row.role as Role, useCases: row.useCases ?? null };
  }

  /** Writes the last-used time at most once a minute per key and process, without making the request wait. */
  private touch(id: string): void {
    const now = this.nowMs();
    const last = this.touched.get(id);
    if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
    this.touched.set(id, now);
    this.database.db
      .update(apiKeys)
      .set({ lastUsedAt: new Date(now) })
      .where(eq(apiKeys.id, id))
      .catch(() => this.touched.delete(id));
  }
}

function equalSecrets(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
