import { type BadInputCase, fixturePlan, invalid } from './bad-input-cases.js';
import { PROTO } from './bad-input-cases-hostile.js';

/**
 * Broken rollout plans, each a text as a product owner might save it. The same table is sent to
 * `PUT /v1/use-cases/fresh/plan` (test/integration/bad-input.test.ts: 400, nothing stored) and
 * written to files for `shadowgate plan validate` (test/integration/cli-bad-input.test.ts: one
 * line per problem, exit 1). Every plan names the use case `fresh`, which does not exist.
 */

export const PLAN_USE_CASE = 'fresh';

export interface BadPlanCase {
  name: string;
  text: string;
  format: 'yaml' | 'json';
  /** The field paths of the problems, in order ('' for the text as a whole). */
  paths: string[];
  /** Each is part of some problem. */
  problems: string[];
  /** The line of the first problem, when the test should pin it. */
  line?: number;
  /** How many problems there are, when more than the listed ones (`paths` then ends with ''). */
  count?: number;
}

const base = fixturePlan(PLAN_USE_CASE);
/** The fixture plan with one line replaced (the line must be there). */
function edit(from: string, to: string): string {
  if (!base.includes(from)) throw new Error(`the fixture plan has no "${from}"`);
  return base.replace(from, to);
}
const withStages = (stages: string) => `${base}${stages}`;

const lol = (name: string, ref: string) => `${name}: &${name} [${Array(9).fill(`*${ref}`).join(', ')}]`;
const BILLION_LAUGHS = [
  'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
  lol('b', 'a'),
  lol('c', 'b'),
  lol('d', 'c'),
  lol('e', 'd'),
  lol('f', 'e'),
  lol('g', 'f'),
  lol('h', 'g'),
  lol('i', 'h'),
  '',
].join('\n');

const jsonPlan = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    useCase: PLAN_USE_CASE,
    owner: 'test@example.com',
    decision: { type: 'label', labels: ['approve', 'reject'] },
    ai: { adapter: 'http', url: 'http://127.0.0.1:9/decide' },
    ...overrides,
  });

const UNRESOLVED = 'not valid YAML: Unresolved tag:';
const CONTROL = (code: string, at: number) => `contains the control character U+${code} at position ${at}`;

/** `a`, `b`, … `Z`, `aa`, …: short field names, so many fit in the fixture's 64 KiB body limit. */
function fieldName(i: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  let name = '';
  for (let n = i; n >= 0; n = Math.floor(n / letters.length) - 1) name = letters[n % letters.length] + name;
  return name;
}
const MANY = 15_000;
const manyNames = Array.from({ length: MANY }, (_, i) => fieldName(i));

export const BAD_PLAN_CASES: BadPlanCase[] = [
  // Texts that are not a plan at all.
  {
    name: 'a YAML bomb (billion laughs)',
    text: BILLION_LAUGHS,
    format: 'yaml',
    paths: [''],
    problems: ['aliases (*name) expand to too much'],
  },
  {
    name: 'a !!js/function tag',
    text: edit('description: test use case', 'description: !!js/function "function () { return 1 }"'),
    format: 'yaml',
    paths: [''],
    problems: [`${UNRESOLVED} tag:yaml.org,2002:js/function`],
    line: 3,
  },
  {
    name: 'a !!python/object/apply tag',
    text: edit('description: test use case', 'description: !!python/object/apply:os.system ["ls"]'),
    format: 'yaml',
    paths: [''],
    problems: [`${UNRESOLVED} tag:yaml.org,2002:python/object/apply:os.system`],
  },
  {
    name: 'a local !env tag',
    text: edit('owner: test@example.com', 'owner: !env HOME'),
    format: 'yaml',
    paths: [''],
    problems: [`${UNRESOLVED} !env`],
  },
  {
    name: 'a !!binary value where text is expected',
    text: edit('description: test use case', 'description: !!binary aGVsbG8='),
    format: 'yaml',
    paths: ['description'],
    problems: ['expected a string, got an object'],
  },
  {
    name: 'two YAML documents',
    text: `${base}---\nuseCase: other\n`,
    format: 'yaml',
    paths: [''],
    problems: ['a plan is one YAML document, but this text holds several (---)'],
  },
  {
    name: 'a bare string',
    text: 'approve everything\n',
    format: 'yaml',
    paths: [''],
    problems: ['expected an object, got string "approve everything"'],
  },
  {
    name: 'a list',
    text: '- useCase: fresh\n- owner: x\n',
    format: 'yaml',
    paths: [''],
    problems: ['expected an object, got an array of 2 items'],
  },
  {
    name: 'binary garbage',
    text: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe, 0x01]).toString('latin1'),
    format: 'yaml',
    paths: [''],
    problems: ['expected an object, got string'],
  },
  {
    name: `YAML nested 10,000 levels deep`,
    text: `useCase: fresh\ndescription: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`,
    format: 'yaml',
    paths: [''],
    problems: ['nested too deeply to be read'],
  },
  {
    name: 'JSON nested 10,000 levels deep',
    text: `{"useCase":"fresh","description":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
    format: 'json',
    paths: ['description[0][0]'],
    problems: ['nested deeper than 64 levels of objects and arrays'],
  },
  {
    name: 'JSON with a trailing comma',
    text: `${jsonPlan().slice(0, -1)},}`,
    format: 'json',
    paths: [''],
    problems: ['not valid JSON'],
  },
  // Repeated fields: JSON.parse would keep the last one silently.
  {
    name: 'a JSON plan repeating a field',
    text: jsonPlan().replace('"owner":', '"owner":"first@example.com","owner":'),
    format: 'json',
    paths: ['owner'],
    problems: ['duplicate field "owner" (first at line 1)'],
  },
  {
    name: 'a YAML plan repeating a nested field',
    text: withStages('    sampleRate: 1\n'),
    format: 'yaml',
    paths: ['stages.shadow.sampleRate'],
    problems: ['duplicate field "sampleRate" (first at line 20)'],
    line: 21,
  },
  // Text that could not be stored.
  {
    name: 'a "\\0" escape (NUL) in a YAML string',
    text: edit('description: test use case', 'description: "test\\0case"'),
    format: 'yaml',
    paths: ['description'],
    problems: ['contains a NUL character (\\u0000), which cannot be stored'],
    line: 3,
  },
  {
    name: 'a raw NUL byte in a comment',
    text: `${base}# note\u0000\n`,
    format: 'yaml',
    paths: [''],
    problems: ['contains a NUL character, which cannot be stored'],
    line: base.split('\n').length,
  },
  {
    name: 'an unpaired surrogate escape in a label',
    text: edit('labels: [approve, reject, escalate]', 'labels: [approve, "rej\\ud800ect"]'),
    format: 'yaml',
    paths: ['decision.labels[1]'],
    problems: ['unpaired UTF-16 surrogate'],
  },
  {
    name: 'a \\u0000 escape in a JSON plan',
    text: jsonPlan({ owner: 'ops\u0000@example.com' }),
    format: 'json',
    paths: ['owner'],
    problems: ['NUL character'],
  },
  // Numbers out of range.
  {
    name: 'a threshold above 1',
    text: edit('agreementLowerBound: 0.9', 'agreementLowerBound: 1.5'),
    format: 'yaml',
    paths: ['stages.shadow.promoteWhen.agreementLowerBound'],
    problems: ['expected at most 1, got 1.5'],
  },
  {
    name: 'a threshold below 0',
    text: edit('agreementLowerBound: 0.9', 'agreementLowerBound: 0.9, maxAiErrorRate: -0.1'),
    format: 'yaml',
    paths: ['stages.shadow.promoteWhen.maxAiErrorRate'],
    problems: ['expected at least 0, got -0.1'],
  },
  {
    name: 'a negative duration as text',
    text: edit('minSamples: 500', 'minSamples: 500, minDuration: -7d'),
    format: 'yaml',
    paths: ['stages.shadow.promoteWhen.minDuration'],
    problems: ['expected a duration such as 30m, 12h, 7d or 2w, got "-7d"'],
  },
  {
    name: 'a negative duration in seconds',
    text: edit('minSamples: 500', 'minSamples: 500, minDuration: -5'),
    format: 'yaml',
    paths: ['stages.shadow.promoteWhen.minDuration'],
    problems: ['expected at least 0, got -5'],
  },
  {
    name: 'a duration in words',
    text: edit('minSamples: 500', 'minSamples: 500, minDuration: 7 days'),
    format: 'yaml',
    paths: ['stages.shadow.promoteWhen.minDuration'],
    problems: ['got "7 days"'],
  },
  {
    name: 'a timeout of 1e20 ms',
    text: edit('timeoutMs: 2000', 'timeoutMs: 1e20'),
    format: 'yaml',
    paths: ['ai.timeoutMs', 'ai.timeoutMs'],
    problems: ['expected at most 600000, got 100000000000000000000'],
  },
  {
    name: 'a timeout of .inf',
    text: edit('timeoutMs: 2000', 'timeoutMs: .inf'),
    format: 'yaml',
    paths: ['ai.timeoutMs'],
    problems: ['got number Infinity'],
  },
  {
    name: 'a timeout of .nan',
    text: edit('timeoutMs: 2000', 'timeoutMs: .nan'),
    format: 'yaml',
    paths: ['ai.timeoutMs'],
    problems: ['got number NaN'],
  },
  {
    name: 'a JSON timeout of 1e999',
    text: jsonPlan().replace('"adapter":"http"', '"adapter":"http","timeoutMs":1e999'),
    format: 'json',
    paths: ['ai.timeoutMs'],
    problems: ['got number Infinity'],
  },
  {
    name: 'a negative maxDailyCost',
    text: edit('timeoutMs: 2000', 'timeoutMs: 2000\n  maxDailyCost: -1'),
    format: 'yaml',
    paths: ['ai.maxDailyCost'],
    problems: ['expected at least 0, got -1'],
  },
  {
    name: 'a confidence given as a word',
    text: `${base.replace('humanCostPerDecision: 1.8', 'humanCostPerDecision: 1.8\nconfidence: high')}`,
    format: 'yaml',
    paths: ['confidence'],
    problems: ['expected a number, got string "high"'],
  },
  {
    name: 'a sample rate of 2',
    text: edit('sampleRate: 0', 'sampleRate: 2'),
    format: 'yaml',
    paths: ['stages.shadow.sampleRate'],
    problems: ['expected at most 1, got 2'],
  },
  {
    name: 'a rollout of 101 percent',
    text: withStages('  human-reviewed: {}\n  limited-autonomous:\n    boundary: { rolloutPercent: 101 }\n'),
    format: 'yaml',
    paths: ['stages.limited-autonomous.boundary.rolloutPercent'],
    problems: ['expected at most 100, got 101'],
  },
  {
    name: 'a guard window of 0',
    text: withStages('  human-reviewed:\n    rollbackWhen: { window: 0, agreementBelow: 0.9 }\n'),
    format: 'yaml',
    paths: ['stages.human-reviewed.rollbackWhen.window'],
    problems: ['expected more than 0, got 0'],
  },
  // Values that are not what the field holds.
  {
    name: 'an AI url with the javascript: scheme',
    text: edit('url: http://127.0.0.1:9/decide', 'url: "javascript:alert(1)"'),
    format: 'yaml',
    paths: ['ai.url'],
    problems: ['expected an http or https URL, got "javascript:alert(1)"'],
  },
  {
    name: 'an AI url reading a local file',
    text: edit('url: http://127.0.0.1:9/decide', 'url: file:///etc/passwd'),
    format: 'yaml',
    paths: ['ai.url'],
    problems: ['got "file:///etc/passwd"'],
  },
  {
    name: 'an apiKeyEnv holding a shell command',
    text: `useCase: fresh
owner: test@example.com
decision: { type: label, labels: [approve, reject] }
ai:
  adapter: openai-chat
  url: http://127.0.0.1:9/v1/chat/completions
  model: m
  prompt: "{{input}}"
  apiKeyEnv: "HOME; rm -rf /"
`,
    format: 'yaml',
    paths: ['ai.apiKeyEnv'],
    problems: ['got "HOME; rm -rf /"'],
    line: 9,
  },
  {
    name: 'a use case id holding SQL',
    text: edit('useCase: fresh', `useCase: "fresh'; drop table decisions; --"`),
    format: 'yaml',
    paths: ['useCase'],
    problems: ['expected a slug of lowercase letters, digits and single dashes'],
  },
  {
    name: 'a label listed twice',
    text: edit('labels: [approve, reject, escalate]', 'labels: [approve, approve]'),
    format: 'yaml',
    paths: ['decision.labels[1]'],
    problems: ['"approve" is already listed'],
  },
  {
    name: 'a stage that does not exist',
    text: withStages('  production: {}\n'),
    format: 'yaml',
    paths: ['stages.production'],
    problems: ['unknown field "production"'],
  },
  {
    name: 'a rollback target in shadow',
    text: withStages('    rollbackTo: shadow\n'),
    format: 'yaml',
    paths: ['stages.shadow.rollbackTo'],
    problems: ['shadow is the first stage'],
  },
  {
    name: 'a guard that can never trip',
    text: withStages('  human-reviewed:\n    rollbackWhen: { window: 100 }\n'),
    format: 'yaml',
    paths: ['stages.human-reviewed.rollbackWhen'],
    problems: ['a guard needs agreementBelow, aiErrorRateAbove, labelRecallBelow'],
  },
  {
    name: 'a numeric boundary constraint that is not a number',
    text: withStages(
      '  human-reviewed: {}\n  limited-autonomous:\n    boundary:\n      constraints: [{ contextName: amount, operator: NUM_LT, value: "lots" }]\n',
    ),
    format: 'yaml',
    paths: ['stages.limited-autonomous.boundary.constraints[0].value'],
    problems: ['expected a number as text for NUM_LT, got "lots"'],
  },
  {
    // Each problem was located by a search of its mapping: quadratic, and an answer of megabytes.
    name: `${MANY} unknown fields`,
    text: edit('comparator: { type: exact }', `comparator: {type: exact,${manyNames.join(',')}}`),
    format: 'yaml',
    paths: [...manyNames.slice(0, 100).map((name) => `comparator.${name}`), ''],
    problems: ['unknown field "a"', `and ${MANY - 100} more problems, not listed (at most 100 are)`],
    line: 7,
    count: MANY,
  },
  {
    name: 'a __proto__ field in the decision (YAML)',
    text: edit('decision:\n', 'decision:\n  __proto__: { type: text }\n'),
    format: 'yaml',
    paths: ['decision.__proto__'],
    problems: [PROTO],
    line: 5,
  },
  {
    name: 'a __proto__ field in the AI settings (JSON)',
    text: jsonPlan().replace('"ai":{', '"ai":{"__proto__":{"url":"http://169.254.169.254/"},'),
    format: 'json',
    paths: ['ai.__proto__'],
    problems: [PROTO],
  },
  {
    name: 'a description of 4,001 characters',
    text: edit('description: test use case', `description: ${'d'.repeat(4001)}`),
    format: 'yaml',
    paths: ['description'],
    problems: ['expected at most 4000 characters, got 4001 characters'],
  },
  // Owner text is shown in reports, terminals and the dashboard: no control characters.
  {
    name: 'an owner holding a cursor-up escape (CSI)',
    text: edit('owner: test@example.com', 'owner: "test\\e[2A\\e[2K@example.com"'),
    format: 'yaml',
    paths: ['owner'],
    problems: [`${CONTROL('001B', 4)}: only printable text`],
  },
  {
    name: 'a description holding a clipboard write (OSC 52)',
    text: edit('description: test use case', 'description: "ok\\e]52;c;ZWNobw==\\a"'),
    format: 'yaml',
    paths: ['description'],
    problems: [`${CONTROL('001B', 2)}: only printable text (tabs and line breaks are allowed)`],
  },
  {
    name: 'a description holding a right-to-left override',
    text: jsonPlan({ description: 'pay \u202eexe.txt' }),
    format: 'json',
    paths: ['description'],
    problems: [CONTROL('202E', 4)],
  },
  {
    name: 'a label holding a C1 control',
    text: edit('labels: [approve, reject, escalate]', 'labels: [approve, "rej\\x9bect", escalate]'),
    format: 'yaml',
    paths: ['decision.labels[1]'],
    problems: [CONTROL('009B', 3)],
  },
  {
    name: 'a segment name holding a line break',
    text: edit('segments: [region, riskTier]', 'segments: ["region\\nriskTier"]'),
    format: 'yaml',
    paths: ['segments[0]'],
    problems: [CONTROL('000A', 6)],
  },
  // Plans whose size is fine but whose content would cost every decision or overflow a sum.
  {
    // Each placeholder is a copy of the whole input: 30,000 of them would build gigabytes per call.
    name: 'a prompt with eleven placeholders',
    text: jsonPlan({
      ai: {
        adapter: 'openai-chat',
        url: 'https://ai.example.com/v1/chat/completions',
        model: 'm',
        prompt: '{{input}} '.repeat(10) + '{{ context }}',
      },
    }),
    format: 'json',
    paths: ['ai.prompt'],
    problems: ['at most 10 placeholders'],
  },
  {
    name: 'a price per call above what an AI answer may cost',
    text: jsonPlan({
      ai: { adapter: 'http', url: 'https://ai.example.com/decide', pricing: { perCall: 1001 } },
    }),
    format: 'json',
    paths: ['ai.pricing.perCall'],
    problems: ['expected at most 1000, got 1001'],
  },
  {
    name: 'a human cost of 1e300 per decision',
    text: jsonPlan({ humanCostPerDecision: 1e300 }),
    format: 'json',
    paths: ['humanCostPerDecision'],
    problems: ['expected at most 1000000000, got 1e+300'],
  },
  {
    name: '101 labels',
    text: jsonPlan({ decision: { type: 'label', labels: Array.from({ length: 101 }, (_, i) => `l${i}`) } }),
    format: 'json',
    paths: ['decision.labels'],
    problems: ['expected at most 100 items, got 101'],
  },
  {
    name: '101 redaction paths',
    text: jsonPlan({
      storeInput: 'redacted',
      redact: { fields: Array.from({ length: 101 }, (_, i) => `input.f${i}`) },
    }),
    format: 'json',
    paths: ['redact.fields'],
    problems: ['expected at most 100 items, got 101'],
  },
  {
    name: 'a drift guard naming a field the plan does not measure',
    text: jsonPlan({
      stages: {
        shadow: { rollbackWhen: { driftAbove: { psi: 0.25, fields: ['region'] }, action: 'notify' } },
      },
    }),
    format: 'json',
    paths: ['stages.shadow.rollbackWhen.driftAbove.fields[0]'],
    problems: ['"region" is not a drift field'],
  },
  {
    name: 'a drift PSI threshold of 1e9',
    text: jsonPlan({
      stages: {
        shadow: { rollbackWhen: { driftAbove: { psi: 1e9, fields: ['aiLabel'] }, action: 'notify' } },
      },
    }),
    format: 'json',
    paths: ['stages.shadow.rollbackWhen.driftAbove.psi'],
    problems: ['expected at most 10'],
  },
  {
    name: 'an override-rate guard outside human-reviewed',
    text: jsonPlan({ stages: { shadow: { rollbackWhen: { overrideRateAbove: 0.2, action: 'notify' } } } }),
    format: 'json',
    paths: ['stages.shadow.rollbackWhen.overrideRateAbove'],
    problems: ['human-reviewed only'],
  },
  {
    name: 'a drift window of 10 decisions, 11 numeric fields',
    text: jsonPlan({ drift: { window: 10, numeric: Array.from({ length: 11 }, (_, i) => `n${i}`) } }),
    format: 'json',
    paths: ['drift.window', 'drift.numeric'],
    problems: ['expected at most 10 items, got 11'],
  },
  {
    name: 'a drift window of a year, buckets that go down',
    text: jsonPlan({ drift: { window: '365d', numeric: ['amount'], buckets: { amount: [0, 10, 5] } } }),
    format: 'json',
    paths: ['drift.window', 'drift.buckets.amount'],
    problems: ['bucket bounds must increase'],
  },
];

/** The table as requests to the API: each a 400 whose problems carry their line. */
export const PLAN_REQUEST_CASES: BadInputCase[] = BAD_PLAN_CASES.map((c) => ({
  name: `a plan with ${c.name}`,
  request: {
    method: 'PUT',
    path: `/v1/use-cases/${PLAN_USE_CASE}/plan`,
    contentType: c.format === 'json' ? 'application/json' : 'application/yaml',
    body: c.text,
  },
  expect: invalid(400, 'bad_request', {
    messageIncludes: 'invalid rollout plan',
    paths: c.paths,
    problems: c.line === undefined ? c.problems : [...c.problems, `(line ${c.line})`],
  }),
}));
