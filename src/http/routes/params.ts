import { badRequest } from '../../contracts/errors.js';
import { requestIdSchema, useCaseIdSchema } from '../../contracts/decision-contracts.js';

export function useCaseIdParam(value: unknown): string {
  const parsed = useCaseIdSchema.safeParse(value);
  if (!parsed.success) {
    throw badRequest('invalid use case id in the URL', [
      { path: 'id', problem: parsed.error.issues[0]!.message },
    ]);
  }
  return parsed.data;
}

export function requestIdParam(value: unknown): string {
  const parsed = requestIdSchema.safeParse(value);
  if (!parsed.success) {
    throw badRequest('invalid request id in the URL', [
      { path: 'requestId', problem: parsed.error.issues[0]!.message },
    ]);
  }
  return parsed.data;
}
