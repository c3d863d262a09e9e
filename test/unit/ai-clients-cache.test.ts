import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/plans/plan-schema.js';
import { AiClients } from '../../src/shadow/ai-clients.js';
import type { AiSystemClient } from '../../src/shadow/ai-system-client.js';

const plan = {} as Plan;

/** A cache whose factory counts the clients it makes. */
function cache(maxClients: number) {
  let made = 0;
  const clients = new AiClients({
    maxClients,
    factory: () => {
      made++;
      return { decide: () => Promise.reject(new Error('not called')) } satisfies AiSystemClient;
    },
  });
  return { clients, made: () => made };
}

describe('AI clients cache', () => {
  it('when a plan version is asked for again, then its client is reused', () => {
    const { clients, made } = cache(3);
    const first = clients.for('a', 1, plan);
    expect(clients.for('a', 1, plan)).toBe(first);
    expect(made()).toBe(1);
  });

  it('when more plan versions are asked for than it keeps, then the least recently used is dropped and made again when needed', () => {
    const { clients, made } = cache(2);
    const a1 = clients.for('a', 1, plan);
    clients.for('b', 1, plan);
    clients.for('a', 1, plan); // a@1 is now the most recently used
    clients.for('a', 2, plan); // drops b@1
    expect(clients.size).toBe(2);
    expect(made()).toBe(3);
    expect(clients.for('a', 1, plan)).toBe(a1);
    expect(made()).toBe(3);
    clients.for('b', 1, plan); // made again (drops a@2)
    expect(made()).toBe(4);
    expect(clients.size).toBe(2);
  });

  it('when plans are applied without end, then the cache stays at its bound', () => {
    const { clients } = cache(500);
    for (let version = 1; version <= 5_000; version++) clients.for('churn', version, plan);
    expect(clients.size).toBe(500);
  });
});
