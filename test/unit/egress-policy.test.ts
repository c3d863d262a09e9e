import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AiSecrets, parseSecretGrants, type SecretGrant } from '../../src/egress/ai-secrets.js';
import {
  DestinationPolicy,
  type DestinationRules,
  parseDestinations,
} from '../../src/egress/destination-policy.js';
import { EgressRefusedError } from '../../src/egress/egress-refused-error.js';
import { refusedKind } from '../../src/egress/refused-addresses.js';

function policy(setting?: string): DestinationPolicy {
  const rules = setting === undefined ? undefined : parseDestinations(setting);
  if (Array.isArray(rules)) throw new Error(rules.join('; '));
  return new DestinationPolicy('SHADOWGATE_AI_DESTINATIONS', rules as DestinationRules | undefined);
}

function secrets(setting: string, values: Record<string, string>): AiSecrets {
  const grants = parseSecretGrants(setting);
  if (typeof grants[0] === 'string') throw new Error(grants.join('; '));
  const store = AiSecrets.create(grants as SecretGrant[], (name) => values[name], ['PORT', 'LOG_LEVEL']);
  if (Array.isArray(store)) throw new Error(store.join('; '));
  return store;
}

describe('refused addresses', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['169.254.169.254', 'link-local (where cloud metadata services answer)'],
    ['::ffff:169.254.169.254', 'link-local (where cloud metadata services answer)'],
    ['fe80::1', 'link-local (where cloud metadata services answer)'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['100.100.100.200', 'cloud metadata'],
    ['168.63.129.16', 'cloud metadata'],
    ['224.0.0.251', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved or broadcast'],
    ['::7f00:1', 'IPv4-compatible IPv6 (deprecated)'],
  ])('when the address is %s, then it is refused as %s', (address, kind) => {
    expect(refusedKind(address)).toBe(kind);
  });

  it.each(['8.8.8.8', '10.1.2.3', '192.168.1.10', '172.16.0.1', '2606:4700::1111', '64:ff9b::808:808'])(
    'when the address is %s, then it is not refused by default',
    (address) => {
      expect(refusedKind(address)).toBeNull();
    },
  );
});

describe('destination policy', () => {
  it.each([
    'http://127.0.0.1/',
    'http://0x7f000001/',
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/',
  ])('when unset, then %s is refused at apply', (url) => {
    expect(policy().urlProblem(url)).toMatch(/address, refused unless SHADOWGATE_AI_DESTINATIONS lists it$/);
  });

  it('when unset, then names and public or private addresses pass, and other schemes do not', () => {
    const p = policy();
    expect(p.urlProblem('https://api.openai.com/v1')).toBeNull();
    expect(p.urlProblem('http://localhost:9000/')).toBeNull(); // refused when resolved
    expect(p.urlProblem('http://10.0.0.5/')).toBeNull();
    expect(p.urlProblem('file:///etc/passwd')).toBe('an http or https URL');
  });

  it('when names, domains and ranges are listed, then only those pass, and a name never unlocks a refused address', () => {
    const p = policy('api.openai.com, *.openai.azure.com, 10.20.0.0/16, 127.0.0.1');
    expect(p.urlProblem('https://api.openai.com/v1')).toBeNull();
    expect(p.urlProblem('https://API.OpenAI.com./v1')).toBeNull();
    expect(p.urlProblem('https://eu.openai.azure.com/')).toBeNull();
    expect(p.urlProblem('https://openai.azure.com/')).toMatch(/is not an allowed destination/);
    expect(p.urlProblem('https://evil.example/')).toMatch(/evil\.example is not an allowed destination/);
    expect(p.urlProblem('http://10.20.3.4/')).toBeNull();
    expect(p.urlProblem('http://10.21.0.1/')).toMatch(/is not an allowed destination/);
    expect(p.urlProblem('http://127.0.0.1/')).toBeNull();
    expect(p.urlProblem('http://127.0.0.2/')).toMatch(/loopback/);
    // What a listed name resolves to: allowed unless refused and not covered by a range.
    expect(p.addressProblem('52.1.2.3', true)).toBeNull();
    expect(p.addressProblem('169.254.169.254', true)).toMatch(/link-local/);
    expect(p.addressProblem('127.0.0.1', true)).toBeNull();
  });

  it('when an entry is malformed, then every problem is named', () => {
    expect(parseDestinations('ok.example, bad host, 10.0.0.0/33, 1.2.3/4, *.-x')).toEqual([
      '"bad host" is not a host name or IP address',
      '"10.0.0.0/33" is not an IP range (address/prefix length)',
      '"1.2.3/4" is not an IP range (address/prefix length)',
      '"*.-x" is not *.<domain>',
    ]);
  });

  it('when a name resolves only to refused addresses, then the lookup fails with an egress refusal', async () => {
    const error = await new Promise<Error | null>((resolve) =>
      policy().lookup('localhost', { all: true }, (e) => resolve(e)),
    );
    expect(error).toBeInstanceOf(EgressRefusedError);
    expect(error?.message).toMatch(/^localhost resolves to no allowed address: .* loopback address/);
  });

  it('when loopback is listed, then the lookup answers only the allowed addresses of the name', async () => {
    const addresses = await new Promise<unknown>((resolve, reject) =>
      policy('*,127.0.0.0/8').lookup('localhost', { all: true }, (e, a) => (e ? reject(e) : resolve(a))),
    );
    expect(addresses).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });
});

describe('AI secrets', () => {
  const store = () =>
    secrets('OPENAI_KEY:api.openai.com|*.openai.azure.com, LOCAL_KEY:127.0.0.1, ANY_KEY', {
      OPENAI_KEY: 'sk-openai',
      LOCAL_KEY: 'sk-local',
      ANY_KEY: 'sk-any',
    });

  it('when a secret is bound to hosts, then it goes to those over https, and nowhere else', () => {
    const s = store();
    expect(s.bearer('OPENAI_KEY', 'https://api.openai.com/v1/chat/completions')).toBe('sk-openai');
    expect(s.bearer('OPENAI_KEY', 'https://eu.openai.azure.com/x')).toBe('sk-openai');
    expect(s.refusal('OPENAI_KEY', 'https://api.openai.com.evil.example/')).toMatchObject({ field: 'url' });
    expect(s.refusal('OPENAI_KEY', 'http://api.openai.com/')).toEqual({
      field: 'url',
      problem: 'OPENAI_KEY is sent over https only (or to a loopback host)',
    });
    expect(s.refusal('LOCAL_KEY', 'http://127.0.0.1:9000/v1')).toBeNull();
    expect(s.refusal('ANY_KEY', 'https://models.example/v1')).toBeNull();
    expect(() => s.bearer('OPENAI_KEY', 'https://attacker.example/')).toThrow(EgressRefusedError);
  });

  it('when a name is not granted, then it is refused at apiKeyEnv and its value is never read', () => {
    expect(store().refusal('HOME', 'https://api.openai.com/')).toEqual({
      field: 'apiKeyEnv',
      problem:
        'HOME is not an AI secret of this controller (SHADOWGATE_AI_SECRETS: OPENAI_KEY, LOCAL_KEY, ANY_KEY)',
    });
  });

  it('when the operator lists a controller variable, an unset one or one with a control character, then each is refused', () => {
    const grants = parseSecretGrants('SHADOWGATE_ADMIN_KEY, PGPASSWORD, NODE_OPTIONS, PORT, UNSET, BROKEN');
    const store = AiSecrets.create(
      grants as SecretGrant[],
      (name) => ({ BROKEN: 'sk\r\nx-injected: 1' })[name] ?? (name === 'UNSET' ? undefined : 'v'),
      ['PORT'],
    );
    expect(store).toEqual([
      'SHADOWGATE_ADMIN_KEY is a variable the controller reads itself: it cannot be an AI secret',
      'PGPASSWORD is a variable the controller reads itself: it cannot be an AI secret',
      'NODE_OPTIONS is a variable the controller reads itself: it cannot be an AI secret',
      'PORT is a variable the controller reads itself: it cannot be an AI secret',
      'UNSET is not set',
      'BROKEN holds a control character: it cannot be sent as a bearer token',
    ]);
  });

  it('when the store is logged or serialised, then no value shows', () => {
    const s = store();
    expect(JSON.stringify({ s })).not.toContain('sk-');
    expect(inspect(s, { depth: 5, showHidden: true })).not.toContain('sk-');
  });
});
