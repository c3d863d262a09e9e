import { z } from 'zod';

/**
 * Turns zod issues into problems people can act on: where (a field path) and what was expected
 * versus what was found, in plain words.
 *
 * Paths read like code: `decisions[3].human.decision`, `stages.human-reviewed.rollbackTo`
 * (dashes are allowed in a dotted name); other keys are quoted (`context["two words"]`).
 * A problem with the value as a whole has the empty path `''`; renderers may show it as they like.
 *
 * What was found can only be said when zod kept the input: parse with `{ reportInput: true }`
 * (as `parseWithProblems` does). Without it, problems say only what was expected.
 * Schema authors' own messages are used for format checks (`.regex(re, 'a slug of …')`: write a
 * noun phrase naming what is expected) and for refinements (used verbatim).
 *
 * An answer is bounded whatever the input: at most `MAX_LISTED_PROBLEMS` problems are listed
 * (`listProblems`), and a field name is shown up to `MAX_SHOWN_KEY` characters.
 */

export interface Problem {
  path: string;
  problem: string;
}

export type PathSegment = string | number;

/** A problem whose path is still a list of segments (to locate it in a source document). */
export interface LocatedProblem {
  segments: PathSegment[];
  problem: string;
}

export function toProblems(error: z.ZodError, pathPrefix: PathSegment[] = []): Problem[] {
  return toLocatedProblems(error, pathPrefix).map((p) => ({
    path: renderPath(p.segments),
    problem: p.problem,
  }));
}

export function toLocatedProblems(error: z.ZodError, pathPrefix: PathSegment[] = []): LocatedProblem[] {
  return error.issues.flatMap((issue) => issueProblems(issue, pathPrefix, NO_BASE));
}

/** Problems listed in one answer; the rest are counted in a last entry (see `listProblems`). */
export const MAX_LISTED_PROBLEMS = 100;

/**
 * The first `max` problems, and when there are more, one last entry with the empty path counting
 * the rest: `{path: '', problem: 'and 43900 more problems, not listed (at most 100 are)'}`.
 */
export function listProblems<P extends Problem>(
  problems: readonly P[],
  max = MAX_LISTED_PROBLEMS,
): Array<P | Problem> {
  if (problems.length <= max) return [...problems];
  const rest = problems.length - max;
  const more = `and ${plural(rest, 'more problem')}, not listed (at most ${max} are)`;
  return [...problems.slice(0, max), { path: '', problem: more }];
}

export type ParseOutcome<T> = { ok: true; data: T } | { ok: false; problems: Problem[] };

/** `schema.safeParse` with the input kept, so problems can say what was found. */
export function parseWithProblems<S extends z.ZodType>(
  schema: S,
  value: unknown,
  pathPrefix: PathSegment[] = [],
): ParseOutcome<z.output<S>> {
  const result = schema.safeParse(value, { reportInput: true });
  return result.success
    ? { ok: true, data: result.data }
    : { ok: false, problems: listProblems(toProblems(result.error, pathPrefix)) };
}

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;
/** Longer field names are cut (`["aaaa…"]`): a name is data the sender chose, of any length. */
export const MAX_SHOWN_KEY = 64;

export function renderPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    const key = String(segment);
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (key.length <= MAX_SHOWN_KEY && IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(shownKey(key))}]`;
  }
  return out;
}

const shownKey = (key: string) => (key.length > MAX_SHOWN_KEY ? `${key.slice(0, MAX_SHOWN_KEY)}…` : key);

type Issue = z.core.$ZodIssue;
/** What was found at a path: known (possibly `undefined`, i.e. missing) or not kept by zod. */
type Found = { known: true; value: unknown } | { known: false };
const UNKNOWN: Found = { known: false };
/** The input of an enclosing union, against which nested issues' relative paths are read. */
type Base = Found;
const NO_BASE: Base = UNKNOWN;

function issueProblems(issue: Issue, prefix: PathSegment[], base: Base): LocatedProblem[] {
  const segments = [...prefix, ...issue.path.map(toSegment)];
  const found = foundValue(issue, base);
  const one = (problem: string): LocatedProblem[] => [{ segments, problem }];
  if (isMissing(issue, found)) {
    return one(issue.code === 'invalid_value' ? `required (one of ${listValues(issue.values)})` : 'required');
  }
  switch (issue.code) {
    case 'invalid_type':
      return one(`expected ${typeName(issue.expected)}${gotTyped(found)}`);
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        segments: [...segments, key],
        problem: `unknown field ${JSON.stringify(shownKey(key))}`,
      }));
    case 'invalid_value':
      return one(`expected ${expectedValues(issue.values)}${got(found)}`);
    case 'invalid_format':
      return one(`expected ${formatName(issue)}${got(found)}`);
    case 'too_small':
    case 'too_big':
      return one(sizeProblem(issue, found));
    case 'not_multiple_of':
      return one(`expected a multiple of ${issue.divisor}${got(found)}`);
    case 'invalid_union':
      return unionProblems(issue, prefix, segments, found);
    case 'invalid_key':
      return one(`invalid field name: ${nestedText(issue.issues, found)}`);
    case 'invalid_element':
      return one(`invalid element: ${nestedText(issue.issues, UNKNOWN)}`);
    case 'custom':
      return one(issue.message && issue.message !== 'Invalid input' ? issue.message : 'is not valid');
    default:
      return one((issue as Issue).message);
  }
}

function toSegment(key: PropertyKey): PathSegment {
  return typeof key === 'symbol' ? String(key) : key;
}

function foundValue(issue: Issue, base: Base): Found {
  if ('input' in issue) return { known: true, value: issue.input };
  if (!base.known) return UNKNOWN;
  let value: unknown = base.value;
  for (const key of issue.path) {
    if (typeof value !== 'object' || value === null) return { known: true, value: undefined };
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return { known: true, value };
}

function isMissing(issue: Issue, found: Found): boolean {
  if (issue.code === 'unrecognized_keys' || issue.code === 'custom') return false;
  if (found.known) return found.value === undefined;
  // Without the input, zod's default message is the only witness of a missing value.
  return issue.code === 'invalid_type' && /received undefined$/.test(issue.message);
}

function unionProblems(
  issue: z.core.$ZodIssueInvalidUnion,
  prefix: PathSegment[],
  segments: PathSegment[],
  found: Found,
): LocatedProblem[] {
  if (issue.discriminator !== undefined) {
    const at = segments.at(-1) === issue.discriminator ? segments : [...segments, issue.discriminator];
    const tag =
      found.known && isRecord(found.value)
        ? { known: true as const, value: found.value[issue.discriminator] }
        : found;
    const options = (issue as { options?: unknown[] }).options ?? [];
    if (tag.known && tag.value === undefined)
      return [{ segments: at, problem: `required (one of ${listValues(options)})` }];
    return [{ segments: at, problem: `expected ${expectedValues(options)}${got(tag)}` }];
  }
  if (issue.inclusive === false) return [{ segments, problem: 'matches more than one of the allowed forms' }];
  const branches = issue.errors;
  const wrongType = (b: Issue[]) => b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0;
  if (branches.length > 0 && branches.every(wrongType)) {
    const names = branches.map((b) => typeName((b[0] as z.core.$ZodIssueInvalidType).expected));
    return [{ segments, problem: `expected ${[...new Set(names)].join(' or ')}${gotTyped(found)}` }];
  }
  // The value has the shape of some alternative but fails inside it: report the closest one.
  const closest = branches.filter((b) => !wrongType(b)).sort((a, b) => a.length - b.length)[0];
  if (!closest) return [{ segments, problem: 'does not match any of the allowed forms' }];
  const nestedPrefix = [...prefix, ...issue.path.map(toSegment)];
  return closest.flatMap((nested) => issueProblems(nested, nestedPrefix, found));
}

function nestedText(issues: Issue[], base: Base): string {
  return issues.flatMap((i) => issueProblems(i, [], base).map((p) => p.problem)).join('; ');
}

function sizeProblem(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig, found: Found): string {
  const small = issue.code === 'too_small';
  const limit = small
    ? (issue as z.core.$ZodIssueTooSmall).minimum
    : (issue as z.core.$ZodIssueTooBig).maximum;
  const inclusive = issue.inclusive !== false;
  const bound = issue.exact
    ? 'exactly'
    : small
      ? inclusive
        ? 'at least'
        : 'more than'
      : inclusive
        ? 'at most'
        : 'less than';
  const value = found.known ? found.value : undefined;
  switch (issue.origin) {
    case 'array':
    case 'set': {
      const count = Array.isArray(value) ? value.length : value instanceof Set ? value.size : undefined;
      return `expected ${bound} ${plural(limit, 'item')}${count === undefined ? '' : `, got ${count}`}`;
    }
    case 'string': {
      if (small && value === '' && Number(limit) === 1) return 'must not be empty';
      const length = typeof value === 'string' ? `, got ${plural(value.length, 'character')}` : '';
      return `expected ${bound} ${plural(limit, 'character')}${length}`;
    }
    case 'int':
      return `expected an integer ${bound} ${limit}${got(found)}`;
    default:
      return `expected ${bound} ${limit}${got(found)}`;
  }
}

function formatName(issue: z.core.$ZodIssueInvalidStringFormat): string {
  if (hasOwnMessage(issue)) return issue.message;
  const detail = issue as { prefix?: string; suffix?: string; includes?: string };
  switch (issue.format) {
    case 'regex':
      return `text matching ${issue.pattern ?? 'the required pattern'}`;
    case 'url':
      return 'a URL';
    case 'email':
      return 'an email address';
    case 'uuid':
    case 'guid':
      return 'a UUID';
    case 'datetime':
      return 'a date and time such as 2025-01-31T09:30:00Z';
    case 'date':
      return 'a date such as 2025-01-31';
    case 'starts_with':
      return `text starting with "${detail.prefix}"`;
    case 'ends_with':
      return `text ending with "${detail.suffix}"`;
    case 'includes':
      return `text containing "${detail.includes}"`;
    default:
      return `a valid ${issue.format}`;
  }
}

/** True when the schema gave its own message instead of zod's default one. */
function hasOwnMessage(issue: Issue): boolean {
  const localeError = z.config().localeError;
  if (!localeError) return !issue.message.startsWith('Invalid');
  const fallback = localeError(issue as z.core.$ZodRawIssue);
  const text = typeof fallback === 'string' ? fallback : fallback?.message;
  return issue.message !== text;
}

function typeName(expected: string): string {
  const names: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    bigint: 'an integer',
    boolean: 'true or false',
    array: 'an array',
    tuple: 'an array',
    object: 'an object',
    record: 'an object',
    null: 'null',
    date: 'a date',
    never: 'nothing here',
    undefined: 'nothing here',
    void: 'nothing here',
  };
  return names[expected] ?? `a ${expected}`;
}

function expectedValues(values: readonly unknown[]): string {
  return values.length === 1 ? listValues(values) : `one of ${listValues(values)}`;
}

function listValues(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : String(v))).join(', ');
}

function got(found: Found): string {
  return found.known ? `, got ${describeValue(found.value)}` : '';
}

function gotTyped(found: Found): string {
  return found.known ? `, got ${describeTypedValue(found.value)}` : '';
}

const MAX_SHOWN = 40;

/** A value as a problem shows it: `"aprove"` (long text cut), `5`, `null`, `an object`, `an array of 3 items`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${plural(value.length, 'item')}`;
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      return 'an object';
    case 'undefined':
      return 'nothing';
    default:
      return `a ${typeof value}`;
  }
}

/** Like `describeValue`, naming the type of a scalar first: `string "abc"`, `number 5`. */
export function describeTypedValue(value: unknown): string {
  const type = typeof value;
  const scalar = type === 'string' || type === 'number' || type === 'boolean' || type === 'bigint';
  return `${scalar ? `${type} ` : ''}${describeValue(value)}`;
}

function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${Number(n) === 1 ? '' : 's'}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
