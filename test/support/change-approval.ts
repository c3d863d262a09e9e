import { expect } from 'vitest';
import type { TestController } from './test-controller.js';

/**
 * Change control in tests that are about something else: a plan that widens the AI's authority
 * (an automatic gate, say) is held for a release key's approval (README "Change control"), so
 * they apply it as the admin and approve it with a release key of their own.
 */

export type Auth = { Authorization: string };

/** A stored key of `role` named `name`, as an Authorization header. */
export async function createKey(
  tc: TestController,
  name: string,
  role: string,
  useCases?: string[],
): Promise<Auth> {
  const res = await tc.http
    .post('/v1/keys')
    .set(tc.admin)
    .send({ name, role, ...(useCases ? { useCases } : {}) })
    .expect(201);
  return { Authorization: `Bearer ${res.body.key}` };
}

/**
 * Applies a plan text as the bootstrap admin; when it is held for approval, `approver` (a release
 * key) approves it. Answers what `PUT …/plan` answers when a plan is applied.
 */
export async function applyApproved(
  tc: TestController,
  useCase: string,
  text: string,
  approver: Auth,
  via: TestController = tc,
): Promise<Record<string, unknown>> {
  const put = await via.http
    .put(`/v1/use-cases/${useCase}/plan`)
    .set(via.admin)
    .set('content-type', 'application/yaml')
    .send(text);
  if (put.status !== 202) {
    expect([200, 201], JSON.stringify(put.body)).toContain(put.status);
    return put.body;
  }
  const approved = await via.http
    .post(`/v1/changes/${put.body.change.id}/approve`)
    .set(approver)
    .send({ reason: 'approved by the test that needs it' });
  expect(approved.status, JSON.stringify(approved.body)).toBe(200);
  expect(approved.body.change.state).toBe('applied');
  return approved.body.applied;
}
