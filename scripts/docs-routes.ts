import { pathToFileURL } from 'node:url';
import type { RouteSpec } from '../src/http/route-spec.js';
import { ROUTE_TABLE, routeName } from '../src/http/route-table.js';
import {
  PERMISSIONS,
  type Permission,
  principalAllows,
  ROLES,
  type Role,
  roleAllows,
} from '../src/keys/roles.js';

/**
 * `npm run docs:routes`: the README's two tables written from the route table, each between its
 * markers (test/unit/route-table-readme.test.ts checks the README holds them as printed).
 */

const cell = (text: string) => text.replaceAll('|', '\\|');
const code = (text: string) => `\`${text}\``;

/** The role with the fewest permissions that may call the route. */
function leastRole(permission: RouteSpec['permission']): string {
  if (permission === null) return 'none';
  if (permission === 'any') return 'any key';
  const weight = (role: Role) => PERMISSIONS.filter((p) => roleAllows(role, p)).length;
  const allowed = ROLES.filter((role) => roleAllows(role, permission));
  return allowed.reduce((least, role) => (weight(role) < weight(least) ? role : least));
}

/** `GET /v1/use-cases/:id/plan?version=`: the path with the query fields it takes. */
function withQuery(route: RouteSpec): string {
  const fields = Object.keys(route.query?.shape ?? {});
  return fields.length === 0
    ? routeName(route)
    : `${routeName(route)}?${fields.map((f) => `${f}=`).join('&')}`;
}

export function apiTable(routes: readonly RouteSpec[]): string {
  const rows = routes.map(
    (r) =>
      `| ${code(withQuery(r))} | ${leastRole(r.permission)} | ${r.budget ?? '—'} | ${cell(r.description ?? r.summary)} |`,
  );
  return ['| route | role | budget | answer |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** One row per permission: what each role gets, and a caller without a valid key. */
export function rolesTable(routes: readonly RouteSpec[]): string {
  const groups = new Map<RouteSpec['permission'], RouteSpec[]>();
  for (const route of routes) groups.set(route.permission, [...(groups.get(route.permission) ?? []), route]);
  const rows = [...groups].map(([permission, members]) => {
    const cells = ROLES.map((role) => outcome(role, permission));
    const keyless = permission === null ? '✓' : '401';
    return `| ${members.map((r) => code(routeName(r))).join(', ')} | ${cells.join(' | ')} | ${keyless} |`;
  });
  const header = `| routes | ${ROLES.join(' | ')} | no key, revoked key |`;
  return [header, `| --- |${' --- |'.repeat(ROLES.length + 1)}`, ...rows].join('\n');
}

function outcome(role: Role, permission: Permission | 'any' | null): string {
  if (permission === null || permission === 'any') return '✓';
  if (!roleAllows(role, permission)) return '403';
  const scoped = principalAllows({ keyId: null, name: role, role, useCases: ['one'] }, permission);
  return scoped ? '✓' : '✓ unscoped only';
}

const block = (name: string, body: string) => `<!-- ${name}:begin -->\n${body}\n<!-- ${name}:end -->`;

/** Both blocks, as `npm run docs:routes` prints them. */
export function routeDocs(routes: readonly RouteSpec[] = ROUTE_TABLE): string[] {
  return [block('routes', apiTable(routes)), block('roles', rolesTable(routes))];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(routeDocs().join('\n\n'));
}
