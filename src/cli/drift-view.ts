import type { z } from 'zod';
import { oneLine } from '../contracts/safe-text.js';
import { count, decimal, NONE, percent } from '../format/figures.js';
import type { driftResponseSchema } from '../http/routes/drift-routes.js';
import { formatTable, timestamp } from './format-table.js';

/** `GET /v1/use-cases/:id/drift` as the controller answers it (README "Drift"). */
export type DriftResponse = z.infer<typeof driftResponseSchema>;
type FieldDrift = DriftResponse['fields'][number];
type Guard = DriftResponse['guards'][number];
type Rate = DriftResponse['overrideRate'];

/** Values (categories or buckets) listed per field; the rest are counted on one line. */
export const VALUES_SHOWN = 10;
/** Field names and values come from plans and ingest clients: a cell shows at most this many characters. */
const CELL_MAX = 64;

/** One line, at most CELL_MAX characters (code points), cut with `…`. */
function cell(text: string): string {
  const chars = [...oneLine(text)];
  return chars.length > CELL_MAX ? `${chars.slice(0, CELL_MAX - 1).join('')}…` : chars.join('');
}

function windowText(w: { decisions: number; from: string | null; to: string | null }): string {
  const span = w.from && w.to ? `, ${timestamp(w.from)} to ${timestamp(w.to)}` : '';
  return `${count(w.decisions)} decisions${span}`;
}

/** Everything `drift USE_CASE` shows: the windows, each field's measures and values, the rates, the guards. */
export function driftText(useCase: string, d: DriftResponse): string {
  const window =
    typeof d.window === 'number' ? `the trailing whole hours holding ${count(d.window)} decisions` : d.window;
  const r = d.reference;
  const lines = [
    oneLine(
      `${useCase}: drift in ${d.stage} (stage version ${d.stageVersion}), window ${window}; a guard judges from ${count(d.minWindow)} observations`,
    ),
    oneLine(
      `reference  ${windowText(r.window)}; taken ${timestamp(r.takenAt)} by ${cell(r.takenBy)}: ${r.reason}`,
    ),
    oneLine(`current    ${windowText(d.current)}`),
    r.trippedAt
      ? oneLine(
          `a guard tripped against this reference at ${timestamp(r.trippedAt)}: none trips again until a re-baseline or a new stage visit`,
        )
      : 'no guard has tripped against this reference',
    '',
    fieldsTable(d.fields),
  ];
  for (const f of d.fields) {
    if (f.values.length === 0) continue;
    lines.push('', ...valuesSection(f));
  }
  lines.push('', 'Rates (the current window against the reference):', ratesTable(d), '');
  lines.push(...guardsSection(d));
  return lines.join('\n');
}

/** Per field: observations on both sides and each measure (categorical: PSI, JS, unseen; numeric: PSI, KS, W/IQR). */
export function fieldsTable(fields: readonly FieldDrift[]): string {
  if (fields.length === 0) return 'No fields measured.';
  return formatTable(
    [
      { header: 'FIELD' },
      { header: 'TYPE' },
      { header: 'REFERENCE', align: 'right' },
      { header: 'CURRENT', align: 'right' },
      { header: 'PSI', align: 'right' },
      { header: 'JS', align: 'right' },
      { header: 'UNSEEN', align: 'right' },
      { header: 'KS', align: 'right' },
      { header: 'W/IQR', align: 'right' },
      { header: 'VERDICT' },
    ],
    fields.map((f) => [
      cell(f.field),
      f.type,
      count(f.referenceTotal),
      count(f.currentTotal),
      decimal(f.psi),
      decimal(f.jsDistance),
      percent(f.unseenShare),
      decimal(f.ks),
      decimal(f.normalisedWasserstein),
      f.verdict === 'drifted' ? `drifted (PSI > ${decimal(f.threshold)})` : f.verdict,
    ]),
  );
}

function share(s: number, n: number): string {
  return `${percent(s)} (${count(n)})`;
}

function valuesSection(f: FieldDrift): string[] {
  const head =
    f.type === 'categorical'
      ? `${cell(f.field)}: reference against current, largest PSI contribution first`
      : `${cell(f.field)}: reference against current per bucket${f.wasserstein === null ? '' : `; Wasserstein ${decimal(f.wasserstein)}`}`;
  const shown = f.values.slice(0, VALUES_SHOWN);
  const lines = [
    oneLine(head),
    formatTable(
      [
        { header: f.type === 'categorical' ? 'VALUE' : 'BUCKET' },
        { header: 'REFERENCE', align: 'right' },
        { header: 'CURRENT', align: 'right' },
        { header: 'PSI', align: 'right' },
      ],
      shown.map((v) => [
        cell(v.value),
        share(v.referenceShare, v.reference),
        share(v.currentShare, v.current),
        decimal(v.psi),
      ]),
    ),
  ];
  const more = f.values.length - shown.length;
  if (more > 0) lines.push(`and ${count(more)} more (--json lists every one)`);
  return lines;
}

export function ratesTable(d: Pick<DriftResponse, 'overrideRate' | 'escalationRate'>): string {
  const row = (name: string, r: Rate) => [
    name,
    percent(r.current),
    count(r.samples),
    percent(r.reference),
    count(r.referenceSamples),
  ];
  const table = formatTable(
    [
      { header: 'RATE' },
      { header: 'CURRENT', align: 'right' },
      { header: 'OF', align: 'right' },
      { header: 'REFERENCE', align: 'right' },
      { header: 'OF', align: 'right' },
    ],
    [row('override', d.overrideRate), row('escalation', d.escalationRate)],
  );
  const reasons = Object.entries(d.escalationRate.byReason ?? {});
  if (d.escalationRate.samples === 0 || reasons.length === 0) return table;
  return `${table}\n${oneLine(`escalated by reason: ${reasons.map(([reason, s]) => `${reason} ${percent(s)}`).join(', ')}`)}`;
}

/**
 * `PSI > 0.250` (of any field the guard names: the answer lists those above it as `drifted`),
 * `override rate > 20.00%`.
 */
export function guardCheck(g: Guard): string {
  if (g.guard === 'driftAbove') return `PSI > ${decimal(g.threshold)}`;
  return `${g.guard === 'overrideRateAbove' ? 'override' : 'escalation'} rate > ${percent(g.threshold)}`;
}

/** Whether the tick would trip the guard now: drifted, and nothing tripped against this reference yet. */
export function wouldTrip(g: Guard, trippedAt: string | null, minWindow: number): string {
  if (g.status === 'insufficient') return `no: fewer than ${count(minWindow)} observations (or no reference)`;
  if (g.status === 'stable') return 'no';
  const which = g.drifted?.length ? `: ${g.drifted.join(', ')} above it` : '';
  return trippedAt ? `no: tripped already against this reference${which}` : `yes${which}`;
}

function guardsSection(d: DriftResponse): string[] {
  if (d.guards.length === 0) {
    return [oneLine(`No drift, override or escalation guard in the rollbackWhen of ${d.stage}.`)];
  }
  return [
    oneLine(`Guards (rollbackWhen of ${d.stage}):`),
    formatTable(
      [
        { header: 'GUARD' },
        { header: 'CHECK' },
        { header: 'ACTUAL', align: 'right' },
        { header: 'STATUS' },
        { header: 'WOULD TRIP' },
      ],
      d.guards.map((g) => [
        g.guard,
        guardCheck(g),
        g.actual === null ? NONE : g.guard === 'driftAbove' ? decimal(g.actual) : percent(g.actual),
        g.status,
        cell(wouldTrip(g, d.reference.trippedAt, d.minWindow)),
      ]),
    ),
  ];
}
