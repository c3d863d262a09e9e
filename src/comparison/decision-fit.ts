import { readPath } from './field-path.js';
import { numericValue } from './numeric-value.js';
import { describeTypedValue, describeValue } from '../contracts/validation-problems.js';
import type { ComparatorSpec, DecisionSpec } from '../plans/plan-schema.js';

/**
 * Whether a decision fits the plan: null when it does, else what is wrong in plain words.
 * Used for human decisions and for the AI's (untrusted) answers alike.
 *
 * - `label`: one of the labels, exactly (case and spaces count).
 * - `json` with `requiredFields`: an object having each of them (dot paths, as the `fields`
 *   comparator reads them); a field holding null is present.
 * - `json` without: any JSON value but null.
 * When the comparator is given, the value must also be something it can compare: a number (or
 * numeric text) for `numeric`, text for `normalized-text` on JSON decisions.
 */
export function checkDecision(
  spec: DecisionSpec,
  value: unknown,
  comparator?: ComparatorSpec,
): string | null {
  if (value === undefined) return 'required';
  if (spec.type === 'label') {
    if (typeof value === 'string' && spec.labels.includes(value)) return null;
    const found = typeof value === 'string' ? describeValue(value) : describeTypedValue(value);
    return `expected one of ${spec.labels.join(', ')}, got ${found}`;
  }
  if (value === null) return 'expected a decision, got null';
  const required = spec.requiredFields ?? [];
  if (required.length > 0) {
    if (typeof value !== 'object' || Array.isArray(value)) {
      return `expected an object with ${required.join(', ')}, got ${describeTypedValue(value)}`;
    }
    const missing = required.filter((field) => !readPath(value, field).found);
    if (missing.length > 0) {
      return `missing required field${missing.length === 1 ? '' : 's'} ${missing.map((f) => `"${f}"`).join(', ')}`;
    }
  }
  if (comparator?.type === 'numeric' && numericValue(value) === null) {
    return `expected a number, got ${describeTypedValue(value)}`;
  }
  if (comparator?.type === 'normalized-text' && typeof value !== 'string') {
    return `expected text, got ${describeTypedValue(value)}`;
  }
  return null;
}
