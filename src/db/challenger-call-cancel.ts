import { sql } from 'drizzle-orm';
/**
 * A challenger that ended owes nothing more: its calls still owed are cancelled and the raw inputs
 * they kept are dropped at once (under `storeInput: hash` or `none` nothing else holds them).
 */
export function cancelOwedCalls(challengerId: number) {
  return sql`update challenger_calls set state = 'cancelled', pending_input = null, lease_until = null
    where challenger_id = ${challengerId} and state = 'owed'`;
}
