import { count, decimal, NONE, percent } from '../format/figures.js';
import { code, type Markdown, md, strong, table } from './markdown-text.js';
import type { DriftSection, EvidenceReport } from './report-types.js';

const BLANK = md``;

function windowText(w: DriftSection['current']): string {
  return w.from && w.to ? `${count(w.decisions)} decisions from ${w.from} to ${w.to}` : 'no decisions';
}

/**
 * The Drift section (README "Drift"): the reference and when it was taken, the current window, per
 * field its measures and verdict, the rates, the guards, and the `drift.detected` events. Field
 * names, values, reasons and actors come from owners, release keys and ingest clients: `md` and
 * `table` escape every one.
 */
export function driftMarkdown({ drift: d }: EvidenceReport): Markdown[] {
  if (!d) return [md`## Drift`, BLANK, md`No drift reading.`, BLANK];
  const window =
    typeof d.window === 'number' ? `the trailing whole hours holding ${count(d.window)} decisions` : d.window;
  const r = d.reference;
  const lines = [
    md`## Drift`,
    BLANK,
    md`The current window of ${strong(d.stage)} (stage version ${d.stageVersion}; ${code('drift.window')} ${window}) against the reference of this stage visit. A guard judges a field once the window holds ${count(d.minWindow)} of it (${code('drift.minWindow')}); a field no ${code('driftAbove')} guard names is called drifted above a PSI of 0.25.`,
    BLANK,
    md`- Reference: taken ${r.takenAt} by ${r.takenBy} (${r.reason}): ${windowText(r.window)}`,
    md`- Current window: ${windowText(d.current)}`,
    r.trippedAt
      ? md`- A guard tripped against this reference at ${r.trippedAt}: none trips again until a re-baseline or a new stage visit`
      : md`- No guard has tripped against this reference`,
    BLANK,
  ];
  if (d.fields.length > 0) {
    lines.push(
      ...table(
        [
          'field',
          'type',
          'reference',
          'current',
          'PSI',
          'JS distance',
          'unseen',
          'KS',
          'Wasserstein / IQR',
          'threshold',
          'verdict',
        ],
        d.fields.map((f) => [
          f.field,
          f.type,
          count(f.referenceTotal),
          count(f.currentTotal),
          decimal(f.psi),
          decimal(f.jsDistance),
          percent(f.unseenShare),
          decimal(f.ks),
          decimal(f.normalisedWasserstein),
          `${decimal(f.threshold)}${f.watched ? ' (guard)' : ''}`,
          f.verdict === 'drifted' ? strong(f.verdict) : f.verdict,
        ]),
      ),
      BLANK,
    );
  }
  const rate = (name: string, x: DriftSection['overrideRate']) => [
    name,
    percent(x.current),
    count(x.samples),
    percent(x.reference),
    count(x.referenceSamples),
  ];
  lines.push(
    ...table(
      ['rate', 'current', 'of', 'reference', 'of'],
      [rate('override', d.overrideRate), rate('escalation', d.escalationRate)],
    ),
    BLANK,
  );
  const reasons = Object.entries(d.escalationRate.byReason ?? {});
  if (d.escalationRate.samples > 0 && reasons.length > 0) {
    lines.push(
      md`Escalated by reason: ${reasons.map(([reason, s]) => `${reason} ${percent(s)}`).join(', ')}.`,
      BLANK,
    );
  }
  if (d.guards.length === 0) {
    lines.push(
      md`No drift, override or escalation guard in the ${code('rollbackWhen')} of ${d.stage}.`,
      BLANK,
    );
  } else {
    lines.push(
      ...table(
        ['guard', 'check', 'actual', 'status', 'fields above it'],
        d.guards.map((g) => [
          g.guard,
          g.guard === 'driftAbove'
            ? `PSI above ${decimal(g.threshold)}`
            : `${g.guard === 'overrideRateAbove' ? 'override' : 'escalation'} rate above ${percent(g.threshold)}`,
          g.actual === null ? NONE : g.guard === 'driftAbove' ? decimal(g.actual) : percent(g.actual),
          g.status === 'drifted' ? strong(g.status) : g.status,
          g.drifted?.length ? g.drifted.join(', ') : NONE,
        ]),
      ),
      BLANK,
    );
  }
  const last = d.trips.last ? `, last at ${d.trips.last}` : '';
  lines.push(md`Drift detected ${count(d.trips.count)} time(s) (${code('drift.detected')})${last}.`, BLANK);
  if (d.recentTrips.length > 0) {
    lines.push(md`Latest:`, BLANK);
    for (const t of d.recentTrips) {
      const guards = t.guards
        .filter((g) => g.status === 'drifted')
        .map((g) => `${g.guard} ${g.threshold ?? NONE} (actual ${decimal(g.actual)})`)
        .join('; ');
      const fields = t.fields.map((f) => `${f.field} PSI ${decimal(f.psi)}`).join(', ');
      lines.push(
        md`- ${t.at} (stage version ${t.stageVersion ?? NONE}): ${guards || 'no guard recorded'}${fields ? `; ${fields}` : ''}`,
      );
    }
    lines.push(BLANK);
  }
  return lines;
}
