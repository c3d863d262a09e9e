/**
 * The decision's request id as the `x-request-id` header of an AI call. A header holds visible
 * ASCII only (Node refuses characters beyond Latin-1, and Latin-1 bytes reach servers as anyone's
 * guess), yet a workflow may use any printable text as its ids. So every character outside
 * `!`–`~`, and `%` itself, is percent-encoded as UTF-8: an ASCII id without `%` or spaces is sent
 * as it is, and `decodeURIComponent(header)` gives any id back exactly.
 */

const AS_IS = /^[\x21-\x24\x26-\x7e]*$/;
const ENCODED = /[^\x21-\x24\x26-\x7e]/gu;

export function requestIdHeader(requestId: string): string {
  if (AS_IS.test(requestId)) return requestId;
  return requestId.replace(ENCODED, (char) =>
    Array.from(
      Buffer.from(char, 'utf8'),
      (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    ).join(''),
  );
}
