export type PathLookup = { found: true; value: unknown } | { found: false };

/**
 * Reads a dot path (`vendor.id`, `lines.0.amount`) from a JSON value. A segment indexes an array
 * when it is a non-negative integer. Only own properties are read; a property holding `undefined`
 * counts as missing, as it would after JSON serialisation.
 */
export function readPath(root: unknown, path: string): PathLookup {
  let current: unknown = root;
  for (const segment of path.split('.')) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return { found: false };
      current = current[Number(segment)];
    } else if (typeof current === 'object' && current !== null && Object.hasOwn(current, segment)) {
      current = (current as Record<string, unknown>)[segment];
    } else {
      return { found: false };
    }
    if (current === undefined) return { found: false };
  }
  return { found: true, value: current };
}
