/**
 * Starts the SIMULATED AI system (no model behind it) for demos and manual tests:
 *   tsx scripts/sim-ai.ts --port 9000 --agreement 0.92 --latency 40 --error-rate 0.01
 * --latency takes milliseconds or a range such as 20-120.
 * --always-answer approve: the "majority trap" AI, one label for every request.
 * --fail-on-reference reject: HTTP 500 on every attempt for the requests of those reference labels.
 * An input carrying a `referenceLabel` among the labels sets that request's reference label.
 */
import { parseArgs } from 'node:util';
import type { SimFailure, SimRange } from './simulation/simulated-answer.js';
import { startSimulatedAiSystem } from './simulation/simulated-ai-system.js';

const FAILURES: SimFailure[] = ['none', 'http-500', 'timeout', 'malformed-json', 'huge', 'wrong-label'];

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '9000' },
    agreement: { type: 'string', default: '0.92' },
    latency: { type: 'string', default: '40' },
    'error-rate': { type: 'string', default: '0' },
    failure: { type: 'string', default: 'none' },
    labels: { type: 'string', default: 'approve,reject,escalate' },
    seed: { type: 'string', default: 'sim' },
    'always-answer': { type: 'string' },
    'fail-on-reference': { type: 'string' },
    'model-version': { type: 'string', default: 'sim-1' },
    'input-tokens': { type: 'string', default: '400' },
    'output-tokens': { type: 'string', default: '20' },
    cost: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});

function num(name: string, text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new Error(`--${name} must be a non-negative number, got ${JSON.stringify(text)}`);
  }
  return value;
}

function range(name: string, text: string): SimRange {
  const [min, max] = text.split('-');
  return max === undefined ? num(name, min) : { min: num(name, min), max: num(name, max) };
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

if (!FAILURES.includes(values.failure as SimFailure)) {
  throw new Error(`--failure must be one of ${FAILURES.join(', ')}`);
}

const sim = await startSimulatedAiSystem({
  host: values.host,
  port: num('port', values.port),
  agreement: num('agreement', values.agreement),
  latencyMs: range('latency', values.latency),
  errorRate: num('error-rate', values['error-rate']),
  failure: values.failure as SimFailure,
  labels: list(values.labels),
  seed: values.seed,
  alwaysAnswer: values['always-answer']?.trim(),
  failOnReference: values['fail-on-reference'] === undefined ? [] : list(values['fail-on-reference']),
  modelVersion: values['model-version'],
  inputTokens: num('input-tokens', values['input-tokens']),
  outputTokens: num('output-tokens', values['output-tokens']),
  cost: values.cost === undefined ? undefined : num('cost', values.cost),
  log: values.verbose ? (line) => console.log(line) : undefined,
});

console.log(`Simulated AI system (a simulation, no model) listening on ${sim.url}`);
console.log(`  POST ${sim.url}/decide               (ai.adapter: http)`);
console.log(`  POST ${sim.url}/v1/chat/completions  (ai.adapter: openai-chat)`);
console.log(`  GET  ${sim.url}/stats`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    const { calls, answered, errors, agreementRate } = sim.stats();
    console.log(
      `stopping: ${calls} calls, ${answered} answered, ${errors} errors, agreement ${agreementRate ?? '-'}`,
    );
    void sim.close().then(() => process.exit(0));
  });
}
