/**
 * A request the egress policy refused: to a destination the operator does not allow, or with a
 * secret the plan may not send there. Nothing was sent.
 */
export class EgressRefusedError extends Error {
  override readonly name = 'EgressRefusedError';
  readonly code = 'EGRESS_REFUSED';
}
