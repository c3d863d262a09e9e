import { type Command, Option } from 'commander';
import { ROLES } from '../../keys/roles.js';
import { clientFor, segment } from '../command-context.js';
import { NONE } from '../../format/figures.js';
import { formatTable, timestamp } from '../format-table.js';
import { print, printJson } from '../terminal-output.js';

interface KeyRow {
  id: string;
  name: string;
  role: string;
  useCases: string[] | null;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** API keys (an admin key is needed): create, list, revoke. */
export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('manage API keys (needs an admin key)');

  keys
    .command('create')
    .description('create a key; its secret is shown once')
    .requiredOption('--name <name>', 'who or what uses the key (recorded as key:<name>)')
    .addOption(new Option('--role <role>', 'what the key may do').choices(ROLES).makeOptionMandatory())
    .option('--use-case <id...>', 'scope the key to these use cases (default: all)')
    .option('--json', 'print the API JSON')
    .action(
      async (
        options: { name: string; role: string; useCase?: string[]; json?: boolean },
        command: Command,
      ) => {
        const created = await clientFor(command).postJson<{
          id: string;
          key: string;
          name: string;
          role: string;
        }>('/v1/keys', {
          name: options.name,
          role: options.role,
          ...(options.useCase ? { useCases: options.useCase } : {}),
        });
        if (options.json) return printJson(created);
        const scope = options.useCase ? options.useCase.join(', ') : 'all use cases';
        print(`key ${created.id} created: ${created.name}, role ${created.role}, ${scope}`);
        print(`secret (shown once, keep it now): ${created.key}`);
      },
    );

  keys
    .command('list')
    .description('every key, revoked ones too (never the secret)')
    .option('--json', 'print the API JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const body = await clientFor(command).getJson<{ keys: KeyRow[] }>('/v1/keys');
      if (options.json) return printJson(body);
      print(keysTable(body.keys));
    });

  keys
    .command('revoke')
    .description('revoke a key; requests with it are refused from now on')
    .argument('<id>')
    .action(async (id: string, _options: unknown, command: Command) => {
      await clientFor(command).delete(`/v1/keys/${segment(id)}`);
      print(`key ${id} revoked`);
    });
}

export function keysTable(keys: readonly KeyRow[]): string {
  return formatTable(
    [
      { header: 'ID' },
      { header: 'NAME' },
      { header: 'ROLE' },
      { header: 'USE CASES' },
      { header: 'CREATED' },
      { header: 'LAST USED' },
      { header: 'REVOKED' },
    ],
    keys.map((k) => [
      k.id,
      k.name,
      k.role,
      k.useCases ? k.useCases.join(',') : 'all',
      timestamp(k.createdAt),
      timestamp(k.lastUsedAt),
      k.revokedAt ? timestamp(k.revokedAt) : NONE,
    ]),
  );
}
