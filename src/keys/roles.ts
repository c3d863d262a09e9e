/**
 * Roles of API keys and what each may do. `admin` may do everything; reading is
 * open to every role that works on use cases (a release manager reads what they
 * promote); ingest keys only write decisions (and read their flags, as the SDK does).
 */
export const ROLES = ['ingest', 'owner', 'release', 'viewer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = ['read', 'ingest', 'apply-plan', 'release', 'manage-keys'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const granted: Record<Role, readonly Permission[]> = {
  ingest: ['ingest'],
  owner: ['read', 'apply-plan'],
  release: ['read', 'release'],
  viewer: ['read'],
  admin: ['read', 'ingest', 'apply-plan', 'release', 'manage-keys'],
};

export function roleAllows(role: Role, permission: Permission): boolean {
  return granted[role].includes(permission);
}

/** Who made a request: a stored key, the bootstrap admin key, or the controller itself. */
export interface Principal {
  keyId: string | null;
  name: string;
  role: Role;
  /** null: every use case. */
  useCases: string[] | null;
}

export const SYSTEM: Principal = { keyId: null, name: 'system', role: 'admin', useCases: null };

/**
 * What a principal may do: its role's permissions, except that managing keys needs a key
 * scoped to every use case — a scoped admin could otherwise mint itself an unscoped key.
 */
export function principalAllows(principal: Principal, permission: Permission): boolean {
  if (permission === 'manage-keys' && principal.useCases !== null) return false;
  return roleAllows(principal.role, permission);
}

export function inScope(principal: Principal, useCase: string): boolean {
  return principal.useCases === null || principal.useCases.includes(useCase);
}

/** How a principal is named in transitions and the audit log. */
export function actorName(principal: Principal): string {
  return principal.keyId ? `key:${principal.name}` : principal.name;
}
