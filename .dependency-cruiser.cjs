/**
 * The layout, enforced: imports follow the path of a decision (SDK → ingest → shadow call →
 * comparison → metrics → promotion → flags → HTTP → entry points). `npm run lint` fails on an
 * import against it. Folders of one layer may import each other (no-circular still holds).
 */

/** Lowest first: a folder may import its own layer and those below, never one above. */
const LAYERS = [
  ['contracts', 'statistics', 'format'],
  ['db', 'sdk'],
  ['keys', 'privacy', 'plans', 'egress', 'comparison'],
  ['shadow', 'metrics'],
  ['ingest', 'promotion', 'report'],
  ['suggestions', 'flags', 'observability'],
  ['http', 'dashboard'],
  ['main', 'config\\.ts'],
  ['cli'],
];

const folders = (names) => `^src/(${names.join('|')})(/|$)`;

/** Compile-time checks that the controller's schemas and services answer the SDK's wire types. */
const WIRE_CHECKS = '^src/contracts/wire-checks\\.ts$';

/** The zod-free wire module the SDK ships: below every layer, so the controller's schemas import it. */
const WIRE = '^src/sdk/wire\\.ts$';

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.join('-').replace(/\\\./g, '.')}`,
  comment: `${layer.join(', ')} must not import a layer above it (${LAYERS.slice(i + 1)
    .flat()
    .join(', ')})`,
  severity: 'error',
  from: { path: folders(layer), pathNot: WIRE_CHECKS },
  to: { path: folders(LAYERS.slice(i + 1).flat()), pathNot: WIRE },
}));

/** What pure code never touches: the network, files, the database, queues, the web framework. */
const IO_MODULES =
  '^(node:)?(http|https|http2|net|dns|fs|fs/promises|child_process)$|^(postgres|bull|ioredis|express|drizzle-orm|@electric-sql/pglite|pino|unleash-client)$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'a cycle means a module is in the wrong folder (scripts/simulation keeps a type-only one)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-not-to-scripts-or-test',
      comment: 'the shipped source never imports the demo, benchmarks, simulations or tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(scripts|test)/' },
    },
    {
      name: 'pure-core-no-io',
      comment: 'contracts/, statistics/ and comparison/ are plain functions of plain values',
      severity: 'error',
      from: { path: '^src/(contracts|statistics|comparison)/' },
      to: { path: IO_MODULES },
    },
    {
      name: 'contracts-self-contained',
      comment: 'the wire format depends on nothing else of ours',
      severity: 'error',
      from: { path: '^src/contracts/', pathNot: WIRE_CHECKS },
      to: { path: '^src/', pathNot: `^src/contracts/|${WIRE}` },
    },
    {
      name: 'comparison-pure',
      comment: 'comparison/ reads only plan types, contracts and statistics: no stores, no I/O',
      severity: 'error',
      from: { path: '^src/comparison/' },
      to: {
        path: '^src/',
        pathNot: '^src/(comparison|contracts|statistics)/|^src/plans/plan-(schema|shape|rules)\\.ts$',
      },
    },
    {
      name: 'sdk-self-contained',
      comment: 'what workflow services install: its own modules only (the wire format is one of them)',
      severity: 'error',
      from: { path: '^src/sdk/' },
      to: { path: '^src/', pathNot: '^src/sdk/' },
    },
    ...layerRules,
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
  },
};
