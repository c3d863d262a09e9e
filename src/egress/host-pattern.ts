import { isIP } from 'node:net';

/**
 * Host names as the operator writes them in settings (`api.openai.com`, `*.openai.azure.com`, an
 * IP address) and as a URL names them, brought to one comparable form.
 */

export type HostPattern =
  /** This host only. */
  | { exact: string }
  /** Any host under this domain (the leading dot included), not the domain itself. */
  | { suffix: string };

const MAX_HOST_CHARS = 253;
const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** A URL's hostname made comparable: lower case, IPv6 without brackets, no trailing dot. */
export function canonicalHost(hostname: string): string {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return bare.toLowerCase().replace(/\.$/, '');
}

/** An IP address in the form URLs and DNS answers give it (`::ffff:7f00:1`, not `::FFFF:127.0.0.1`). */
export function canonicalAddress(address: string): string {
  const family = isIP(address);
  if (family === 0) return address;
  return canonicalHost(new URL(`http://${family === 6 ? `[${address}]` : address}/`).hostname);
}

/** Parses one host entry of a setting; a string is the problem with it. */
export function parseHostPattern(text: string): HostPattern | string {
  const entry = canonicalHost(text.trim());
  if (entry.length > MAX_HOST_CHARS) return `"${entry.slice(0, 40)}…" is longer than a host name can be`;
  if (isIP(entry)) return { exact: canonicalAddress(entry) };
  if (entry.startsWith('*.')) {
    const domain = entry.slice(2);
    return DNS_NAME.test(domain) ? { suffix: `.${domain}` } : `"${text.trim()}" is not *.<domain>`;
  }
  return DNS_NAME.test(entry) ? { exact: entry } : `"${text.trim()}" is not a host name or IP address`;
}

/** Whether `host` (a canonical host, see `canonicalHost`) is one the pattern names. */
export function hostMatches(pattern: HostPattern, host: string): boolean {
  return 'exact' in pattern ? host === pattern.exact : host.endsWith(pattern.suffix);
}

export function describePattern(pattern: HostPattern): string {
  return 'exact' in pattern ? pattern.exact : `*${pattern.suffix}`;
}
