import { readPath } from './field-path.js';
import { numericValue } from './numeric-value.js';
import { describeTypedValue, describeValue } from '../contracts/validation-problems.js';
import type { ComparatorSpec, DecisionSpec } from '../plans/plan-schema.js';

/**
 * Whether a decision fits the plan: null when it does, else what is wrong in plain words.
 * Used for human decisions and for the AI's (untrusted) answers alike.
 *
 * - `label`: one of the labels, exactly (case and spaces count).
 * - `text`: a string of at most `maxLength` characters (code points).
 * - `json` with `requiredFields`: an object having each of them (dot paths, as the `fields`
 *   comparator reads them); a field holding null is present. Each of `textFields` present is a
 *   string of at most its `maxLength`.
 * - `json` without: any JSON value but null.
 * When the comparator is given, the value must also be something it can compare: a number (or
 * numeric text) for `numeric`, text for `normalized-text` on JSON decisions.
 * A text past its bound is described by its length, never quoted: it may be long and echo the input.
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
  if (spec.type === 'text') return textProblem(value, spec.maxLength);
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
  const textFields = Object.entries(spec.textFields ?? {});
  if (textFields.length > 0) {
    if (typeof value !== 'object' || Array.isArray(value)) {
      return `expected an object with the text fields ${textFields.map(([f]) => f).join(', ')}, got ${describeTypedValue(value)}`;
    }
    for (const [field, { maxLength }] of textFields) {
      const found = readPath(value, field);
      const problem = found.found ? textProblem(found.value, maxLength) : null;
      if (problem) return `field "${field}": ${problem}`;
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

function textProblem(value: unknown, maxLength: number): string | null {
  if (typeof value !== 'string') return `expected text, got ${describeTypedValue(value)}`;
  if (value.length <= maxLength) return null;
  // Counted in code points, as the plan's maxLength is: a body's size bounds the walk.
  let length = 0;
  for (const _ of value) length++;
  return length > maxLength ? `expected text of at most ${maxLength} characters, got ${length}` : null;
}
