import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/contracts/canonical-json.js';
import type { MirroredDecision } from '../../src/contracts/decision-contracts.js';
import { payloadHash } from '../../src/ingest/payload-hash.js';

/**
 * Golden texts and hashes, written down from the four implementations this function replaced:
 * stored payload hashes, AI configuration keys and hashed inputs must keep matching them.
 */
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const nested = JSON.parse(
  '{"z":[[3,{"b":2,"a":1}],[]],"a":{"y":[{"d":null,"c":true}],"x":"\\u00e9"},"m":-0.5}',
);
const unicodeKeys = JSON.parse('{"\\uffff":1,"😀":2,"日本":3,"é":4,"e":5,"E":6,"":7}');
const integerKeys = JSON.parse('{"b":1,"10":2,"2":3,"a":4,"01":5,"4294967295":6,"4294967294":7,"-1":8}');

describe('canonicalJson', () => {
  it('when arrays nest objects, then every object is sorted and array order is kept, in both orders', () => {
    const text = '{"a":{"x":"é","y":[{"c":true,"d":null}]},"m":-0.5,"z":[[3,{"a":1,"b":2}],[]]}';
    expect(canonicalJson(nested, 'code-units')).toBe(text);
    expect(canonicalJson(nested, 'integers-first')).toBe(text);
    expect(sha256(text)).toBe('48810b5fff227cbed6446d8280ce5bcc9d17c2136534901ad469b3766af8741d');
  });

  it('when keys are outside ASCII, then they sort by UTF-16 code units (an emoji before U+FFFF)', () => {
    const text = '{"":7,"E":6,"e":5,"é":4,"日本":3,"😀":2,"\uffff":1}';
    expect(canonicalJson(unicodeKeys, 'code-units')).toBe(text);
    expect(canonicalJson(unicodeKeys, 'integers-first')).toBe(text);
    expect(sha256(text)).toBe('76415b1b357d8096318526cce3ec07ef5e38d18fd4611815121c5c2fff888659');
  });

  it('when keys look like integers, then code-units sorts them as text and integers-first puts array indices first in numeric order', () => {
    const codeUnits = '{"-1":8,"01":5,"10":2,"2":3,"4294967294":7,"4294967295":6,"a":4,"b":1}';
    const integersFirst = '{"2":3,"10":2,"4294967294":7,"-1":8,"01":5,"4294967295":6,"a":4,"b":1}';
    expect(canonicalJson(integerKeys, 'code-units')).toBe(codeUnits);
    expect(canonicalJson(integerKeys, 'integers-first')).toBe(integersFirst);
    expect(sha256(codeUnits)).toBe('b32e4b69dda2d2d94101259b968673b447c4b6a9518b6bb66a0a60410b325b97');
    expect(sha256(integersFirst)).toBe('64eae3bd028e5fe58496102024bf1dcf3722ef2fb8940fd770deb585f7decd99');
  });

  it('when values have no JSON form, then objects leave them out and arrays write null, as JSON.stringify does', () => {
    const value = { b: 1, a: { d: [1, undefined, () => 0, { y: 2, x: 1 }], c: undefined, f: () => 0 } };
    expect(canonicalJson(value, 'code-units')).toBe('{"a":{"d":[1,null,null,{"x":1,"y":2}]},"b":1}');
    expect(canonicalJson(undefined, 'integers-first')).toBe('null');
    expect(canonicalJson({ a: 1, b: 2 }, 'code-units')).toBe(canonicalJson({ b: 2, a: 1 }, 'code-units'));
  });

  it('when a decision is hashed, then its payload hash is the one stored before the implementations were merged', () => {
    const decision = {
      useCase: 'u',
      requestId: 'r',
      input: { 10: 'x', b: [1, { é: 2 }], a: null },
      context: { region: 'EU' },
      human: { decision: 'approve', decidedBy: 'c' },
    } as unknown as MirroredDecision;
    expect(payloadHash(decision)).toBe('fd59f8f5e51dfbf1d38d57ea8a4cfddeace6feda49701a00fc5842a2463f74f7');
  });
});
