import type { Command } from 'commander';
import type { DecisionPartition, DecisionPartitions } from '../../db/decision-partitions.js';
import { withConfiguredDatabase } from '../configured-database.js';
import { formatTable } from '../format-table.js';
import { print, printJson } from '../terminal-output.js';

/**
 * The months of `decisions` (README "Decisions by month"): an operator's commands, run where the
 * database is reachable and configured like migrate (DATABASE_URL, else PGlite), not through the API.
 */
export function registerPartitionCommands(program: Command): void {
  const partitions = program
    .command('partitions')
    .description('list the months of stored decisions, or detach a past one (DATABASE_URL, like migrate)');

  partitions
    .command('list', { isDefault: true })
    .description('each month partition of decisions: its table, estimated rows and size')
    .option('--json', 'print the list as JSON')
    .action(async (options: { json?: boolean }) => {
      const list = await withPartitions((p) => p.list());
      if (options.json) printJson(list);
      else print(partitionTable(list));
    });

  partitions
    .command('detach <month>')
    .description(
      'take a past month (YYYY-MM, or "before" for what was stored before partitioning) out of decisions; ' +
        'its rows leave every read, the rollups keep what they counted',
    )
    .option(
      '--drop',
      'drop the detached table too (else it stays, to be archived with pg_dump -t and dropped)',
    )
    .action(async (month: string, options: { drop?: boolean }) => {
      const outcome = await withPartitions((p) => p.detach(month, { drop: options.drop === true }));
      print(
        outcome.dropped
          ? `${outcome.month}: detached and dropped ${outcome.table}`
          : `${outcome.month}: detached; its rows are in table ${outcome.table} until you drop it`,
      );
    });
}

function partitionTable(list: readonly DecisionPartition[]): string {
  return formatTable(
    [
      { header: 'month' },
      { header: 'table' },
      { header: 'rows (estimate)', align: 'right' },
      { header: 'size', align: 'right' },
    ],
    list.map((p) => [
      p.month,
      p.table,
      p.rowsEstimate < 0 ? '—' : String(p.rowsEstimate),
      formatBytes(p.bytes),
    ]),
  );
}

/** Sizes in MiB, one decimal: months of decisions run from kilobytes to tens of gigabytes. */
function formatBytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

async function withPartitions<T>(work: (partitions: DecisionPartitions) => Promise<T>): Promise<T> {
  const { DecisionPartitions } = await import('../../db/decision-partitions.js');
  return withConfiguredDatabase('partitions', (database) => work(new DecisionPartitions(database)));
}
