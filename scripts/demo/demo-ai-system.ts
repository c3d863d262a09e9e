import { parsePlanText } from '../../src/plans/plan-loader.js';
import type { Plan } from '../../src/plans/plan-schema.js';
import {
  type SimOptions,
  type SimulatedAiSystem,
  startSimulatedAiSystem,
} from '../simulation/simulated-ai-system.js';
import type { SimAnswerOptions } from '../simulation/simulated-answer.js';
import type { DemoOptions } from './demo-options.js';

/**
 * The demo's SIMULATED AI system (no model behind it) and the plan pointed at it.
 * Answers take 0.5–1.5× the requested latency, so p50 and p95 differ as they would.
 */

export const DEMO_MODEL_VERSION = 'simulated-v1';

export function demoSimOptions(
  opts: Pick<DemoOptions, 'agreement' | 'latencyMs' | 'errorRate'>,
  labels: string[],
): SimAnswerOptions & SimOptions {
  return {
    labels,
    agreement: opts.agreement,
    latencyMs: { min: Math.round(opts.latencyMs * 0.5), max: Math.round(opts.latencyMs * 1.5) },
    errorRate: opts.errorRate,
    transientErrors: false,
    failure: 'none',
    confidence: null,
    seed: 'demo',
    inputTokens: 400,
    outputTokens: 20,
    modelVersion: DEMO_MODEL_VERSION,
  };
}

/** Starts on `port`; when it is taken, on a free port instead (`movedFrom` says which was taken). */
export async function startDemoAiSystem(
  options: SimOptions,
  port: number,
): Promise<{ sim: SimulatedAiSystem; movedFrom: number | null }> {
  try {
    return { sim: await startSimulatedAiSystem({ ...options, host: '127.0.0.1', port }), movedFrom: null };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return { sim: await startSimulatedAiSystem({ ...options, host: '127.0.0.1', port: 0 }), movedFrom: port };
  }
}

export interface DemoPlan {
  plan: Plan;
  /** The YAML as applied: the file verbatim, or with only `ai.url` rewritten. */
  text: string;
  rewrittenFrom: string | null;
}

export function readPlan(text: string, source: string): Plan {
  const parsed = parsePlanText(text);
  if (!parsed.ok) {
    const first = parsed.problems[0];
    throw new Error(`${source} is not a valid plan: ${first?.path}: ${first?.problem}`);
  }
  if (parsed.plan.ai.adapter !== 'http') {
    throw new Error(`${source} must use ai.adapter http for the demo, not ${parsed.plan.ai.adapter}`);
  }
  return parsed.plan;
}

/** The port the plan's `ai.url` names, where the simulated AI should listen. */
export function planAiPort(plan: Plan): number {
  const url = new URL(plan.ai.url);
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
}

/** Points the plan's `ai.url` at the simulated AI's address, touching nothing else in the text. */
export function pointPlanAt(text: string, source: string, simUrl: string): DemoPlan {
  const plan = readPlan(text, source);
  const wanted = `${simUrl}${new URL(plan.ai.url).pathname}`;
  if (plan.ai.url === wanted) return { plan, text, rewrittenFrom: null };
  const rewritten = text.replace(plan.ai.url, wanted);
  const again = readPlan(rewritten, source);
  if (again.ai.url !== wanted) throw new Error(`could not point ${source}'s ai.url at ${wanted}`);
  return { plan: again, text: rewritten, rewrittenFrom: plan.ai.url };
}
