import { createHash } from 'node:crypto';
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { findUnstorable } from '../contracts/storable-json.js';
import {
  type LocatedProblem,
  listProblems,
  type PathSegment,
  type Problem,
  renderPath,
  toLocatedProblems,
} from '../contracts/validation-problems.js';
import { type Plan, planSchema } from './plan-schema.js';
import { type Position, positionLocator } from './yaml-positions.js';

/**
 * Reads a rollout plan from the text a product owner wrote (YAML, or JSON) and validates it.
 * Problems are listed in reading order with their field path and, when the text shows where, their
 * line and column (1-based; for a missing or unknown field, the nearest field that is there): the
 * first MAX_LISTED_PROBLEMS of them, then one entry counting the rest. Time is linear in the text.
 */

export const MAX_PLAN_BYTES = 256 * 1024;
/** Aliases are expanded when the plan is read: a bound keeps a "billion laughs" small. */
export const MAX_ALIAS_COUNT = 50;

export type PlanProblem = Problem & { line?: number; column?: number };
export interface ParsedPlan {
  ok: true;
  plan: Plan;
  text: string;
  /** sha256 hex of the exact text, as applied (a new plan version is a new text). */
  hash: string;
}
export interface PlanRefusal {
  ok: false;
  /** At most MAX_LISTED_PROBLEMS, and a last entry counting the others when there are more. */
  problems: PlanProblem[];
  /** Every problem found, listed or not. */
  problemCount: number;
}
export type PlanParseResult = ParsedPlan | PlanRefusal;

type Source = { ok: true; value: unknown; locate: (segments: PathSegment[]) => Position | undefined };
type Failure = { ok: false; problems: PlanProblem[] };

export function parsePlanText(text: string, format: 'yaml' | 'json' = 'yaml'): PlanParseResult {
  const read = readPlanText(text, format);
  if (read.ok) return read;
  return { ok: false, problems: listProblems(read.problems), problemCount: read.problems.length };
}

function readPlanText(text: string, format: 'yaml' | 'json'): ParsedPlan | Failure {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_PLAN_BYTES) {
    return fail({ path: '', problem: `the plan is ${bytes} bytes; at most ${MAX_PLAN_BYTES} are accepted` });
  }
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    const { line, col } = offsetPosition(text, nul);
    return fail({ path: '', problem: 'contains a NUL character, which cannot be stored', line, column: col });
  }
  const source = format === 'json' ? readJson(text) : readYaml(text);
  if (!source.ok) return source;
  if (source.value === null || source.value === undefined) {
    return fail({ path: '', problem: 'the plan is empty' });
  }
  // Escapes ("\0", "\ud800") can still put in a value what PostgreSQL refuses to store.
  const unstorable = findUnstorable(source.value, { refuseProtoFields: true });
  if (unstorable) return fail(withPosition(unstorable, source.locate));
  const parsed = planSchema.safeParse(source.value, { reportInput: true });
  if (!parsed.success) {
    const problems = toLocatedProblems(parsed.error).map((p) => withPosition(p, source.locate));
    return { ok: false, problems: problems.sort(byPosition) };
  }
  return { ok: true, plan: parsed.data, text, hash: createHash('sha256').update(text, 'utf8').digest('hex') };
}

/** `PUT /v1/use-cases/:id/plan` names the use case twice; the two must agree. */
export function checkUseCaseId(plan: Pick<Plan, 'useCase'>, id: string): Problem | null {
  if (plan.useCase === id) return null;
  return {
    path: 'useCase',
    problem: `expected "${id}" (the use case in the address), got "${plan.useCase}"`,
  };
}

function readYaml(text: string): Source | Failure {
  const lineCounter = new LineCounter();
  const at = (offset: number | undefined) =>
    offset === undefined ? {} : toPosition(lineCounter.linePos(offset));
  let doc: Document.Parsed;
  try {
    // Duplicate keys are found by our own walk, which can name the field and both places.
    doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, strict: true });
  } catch (error) {
    return fail({ path: '', problem: `the plan could not be read: ${(error as Error).message}` });
  }
  // After a syntax error the parser's further errors are mostly its consequences: only the first is shown.
  const syntax = (doc.errors.length > 0 ? doc.errors.slice(0, 1) : doc.warnings).map((e) => ({
    path: '',
    problem:
      e.code === 'MULTIPLE_DOCS'
        ? 'a plan is one YAML document, but this text holds several (---)'
        : /call stack/i.test(e.message)
          ? 'nested too deeply to be read'
          : `not valid YAML: ${e.message}`,
    ...at(e.pos[0]),
  }));
  if (syntax.length > 0) return { ok: false, problems: syntax };
  try {
    const duplicates = duplicateKeys(doc, lineCounter);
    if (duplicates.length > 0) return { ok: false, problems: duplicates };
    const value: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    return { ok: true, value, locate: positionLocator(doc, lineCounter) };
  } catch (error) {
    if (error instanceof ReferenceError && /excessive alias count/i.test(error.message)) {
      return fail({ path: '', problem: 'aliases (*name) expand to too much: use fewer of them' });
    }
    return fail({ path: '', problem: `the plan could not be read: ${(error as Error).message}` });
  }
}

function readJson(text: string): Source | Failure {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    const offset = jsonErrorOffset(body);
    const position = offset === undefined ? {} : toPosition(offsetPosition(body, offset));
    return fail({ path: '', problem: `not valid JSON: ${(error as Error).message}`, ...position });
  }
  // JSON is YAML: the same text read as YAML tells where each field is and catches repeated keys,
  // which JSON.parse silently lets the last one win.
  const unlocated: Source = { ok: true, value, locate: () => undefined };
  try {
    const lineCounter = new LineCounter();
    const doc = parseDocument(body, { lineCounter, uniqueKeys: false });
    if (doc.errors.length > 0) return unlocated;
    const duplicates = duplicateKeys(doc, lineCounter);
    if (duplicates.length > 0) return { ok: false, problems: duplicates };
    return { ok: true, value, locate: positionLocator(doc, lineCounter) };
  } catch {
    return unlocated;
  }
}

function withPosition(p: LocatedProblem, locate: Source['locate']): PlanProblem {
  return { path: renderPath(p.segments), problem: p.problem, ...locate(p.segments) };
}

/** In reading order; problems without a position keep their order, after the others. */
function byPosition(a: PlanProblem, b: PlanProblem): number {
  const line = (a.line ?? Number.POSITIVE_INFINITY) - (b.line ?? Number.POSITIVE_INFINITY);
  if (Number.isNaN(line)) return 0;
  return line !== 0 ? line : (a.column ?? 0) - (b.column ?? 0);
}

function fail(...problems: PlanProblem[]): Failure {
  return { ok: false, problems };
}

/** Walks the document as written (aliases are not followed) and reports each repeated field. */
function duplicateKeys(doc: Document, lineCounter: LineCounter): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const visit = (node: unknown, path: PathSegment[]): void => {
    if (isSeq(node)) {
      for (const [i, item] of node.items.entries()) visit(item, [...path, i]);
    }
    if (!isMap(node)) return;
    const first = new Map<string, number | undefined>();
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const start = keyNode?.range?.[0];
      const position = start === undefined ? {} : toPosition(lineCounter.linePos(start));
      if (!isScalar(keyNode)) {
        problems.push({ path: renderPath(path), problem: 'field names must be plain text', ...position });
        continue;
      }
      const key = String(keyNode.value);
      if (first.has(key)) {
        const earlier = first.get(key);
        const where = earlier === undefined ? '' : ` (first at line ${lineCounter.linePos(earlier).line})`;
        problems.push({
          path: renderPath([...path, key]),
          problem: `duplicate field "${key}"${where}`,
          ...position,
        });
      } else {
        first.set(key, start);
      }
      visit(pair.value, [...path, key]);
    }
  };
  visit(doc.contents, []);
  return problems;
}

function toPosition(p: { line: number; col: number }): Position {
  return { line: p.line, column: p.col };
}

function offsetPosition(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, col: offset - lineStart + 1 };
}

const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Offset of the first JSON syntax error (JSON.parse on Node 20 does not always say where).
 * Undefined when the text is valid or nests too deeply to scan.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const skipBlanks = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const expect = (ch: string) => {
    if (text[i] !== ch) throw i;
    i++;
  };
  const string = () => {
    expect('"');
    for (;;) {
      const ch = text[i];
      if (ch === undefined || ch < ' ') throw i;
      i++;
      if (ch === '"') return;
      if (ch === '\\') {
        if (text[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) i += 5;
        else if ('"\\/bfnrt'.includes(text[i] ?? 'x')) i++;
        else throw i;
      }
    }
  };
  const items = (close: string, item: () => void) => {
    i++;
    skipBlanks();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      skipBlanks();
      item();
      skipBlanks();
      if (text[i] !== ',') break;
      i++;
    }
    expect(close);
  };
  const member = () => {
    string();
    skipBlanks();
    expect(':');
    value();
  };
  const value = (): void => {
    skipBlanks();
    const ch = text[i];
    const literal = ['true', 'false', 'null'].find((l) => text.startsWith(l, i));
    if (ch === '{') items('}', member);
    else if (ch === '[') items(']', value);
    else if (ch === '"') string();
    else if (literal) i += literal.length;
    else {
      JSON_NUMBER.lastIndex = i;
      if (!JSON_NUMBER.test(text)) throw i;
      i = JSON_NUMBER.lastIndex;
    }
  };
  try {
    value();
    skipBlanks();
    return i < text.length ? i : undefined;
  } catch (offset) {
    return typeof offset === 'number' ? offset : undefined;
  }
}
