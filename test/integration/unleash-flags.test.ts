import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagReconciler } from '../../src/flags/flag-reconciler.js';
import { type DesiredFlag, desiredFlag, type FlagStore } from '../../src/flags/flag-store.js';
import { createUnleashFlagStore } from '../../src/flags/unleash-flag-store.js';
import type { UnleashStrategy } from '../../src/flags/unleash-strategy.js';
import type { Mode } from '../../src/plans/plan-schema.js';
import {
  autonomousShare,
  boundaryPlan,
  eventually,
  type FlagClient,
  startFlagClient,
} from '../support/flag-client.js';
import { startUnleashServer, type TestUnleash } from '../support/unleash-server.js';

const fullBoundary = boundaryPlan('claims', 100);
const halfBoundary = boundaryPlan('claims', 50);

interface LogLine {
  level: 'info' | 'warn' | 'error';
  msg: string;
}

function recordingLogger(lines: LogLine[]) {
  const at =
    (level: LogLine['level']) =>
    (_obj: unknown, msg = '') => {
      lines.push({ level, msg });
    };
  return { info: at('info'), warn: at('warn'), error: at('error') } as unknown as Pick<
    Logger,
    'info' | 'warn' | 'error'
  >;
}

describe('flags in a real Unleash, read by a real unleash-client', () => {
  let unleash: TestUnleash;
  let store: FlagStore;
  let client: FlagClient;
  const stages = new Map<string, { mode: Mode; rollout: 100 | 50 }>();
  const desired = (): DesiredFlag[] =>
    [...stages].map(([useCase, { mode, rollout }]) =>
      desiredFlag(useCase, mode, rollout === 100 ? fullBoundary : halfBoundary),
    );
  const flagOf = (useCase: string) => desired().find((f) => f.useCase === useCase) as DesiredFlag;

  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${unleash.url}/api/admin/projects/default/features${path}`, {
      method,
      headers: { authorization: unleash.adminToken, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    const text = await response.text();
    return text ? JSON.parse(text) : undefined;
  };
  const strategiesOf = async (flag: string): Promise<UnleashStrategy[]> =>
    admin('GET', `/${flag}/environments/development/strategies`);

  beforeAll(async () => {
    unleash = await startUnleashServer();
    store = createUnleashFlagStore({
      url: unleash.url,
      adminToken: unleash.adminToken,
      project: 'default',
      environment: 'development',
    });
  });

  afterAll(async () => {
    client?.close();
    await unleash?.close();
  });

  it('when a shadow flag is applied, then Unleash creates it and unleash-client gets the shadow variant', async () => {
    stages.set('invoices', { mode: 'shadow', rollout: 100 });
    await expect(store.ping()).resolves.toBeUndefined();
    await expect(store.apply(flagOf('invoices'))).resolves.toEqual({
      changed: true,
      drift: ['flag was missing'],
    });

    const feature = await admin('GET', '/shadowgate.invoices');
    expect(feature.type).toBe('release');
    expect(feature.description).toMatch(/Shadowgate.*reverted/);
    const [strategy, ...others] = await strategiesOf('shadowgate.invoices');
    expect(others).toEqual([]);
    expect(strategy).toMatchObject({
      name: 'flexibleRollout',
      constraints: [],
      parameters: { rollout: '100', stickiness: 'default', groupId: 'shadowgate.invoices' },
      variants: [
        {
          name: 'shadow',
          weight: 1000,
          weightType: 'variable',
          stickiness: 'default',
          payload: { type: 'string', value: 'shadow' },
        },
      ],
    });

    client = await startFlagClient(`${unleash.url}/api`, unleash.clientToken, 250);
    await eventually(
      () => client.mode('shadowgate.invoices', { sessionId: 'r1' }) === 'shadow',
      'client sees shadow',
    );
    expect(client.errors).toEqual([]);
  });

  it('when the same flag is applied again, then nothing changes', async () => {
    await expect(store.apply(flagOf('invoices'))).resolves.toEqual({ changed: false, drift: [] });
  });

  it('when a use case is promoted to human-reviewed, then the running client sees it within a few refresh intervals', async () => {
    stages.set('invoices', { mode: 'human-reviewed', rollout: 100 });
    const started = Date.now();
    await expect(store.apply(flagOf('invoices'))).resolves.toEqual({
      changed: true,
      drift: ['strategy 1: variant shadow → human-reviewed'],
    });
    await eventually(
      () => client.mode('shadowgate.invoices') === 'human-reviewed',
      'client sees human-reviewed',
    );
    // The server refreshes its revision every second; then one or two polls of 250 ms. The
    // bound leaves a busy machine room and still catches a client polling at unleash-client's
    // default of 15 s.
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('when a use case is limited-autonomous, then a context inside the boundary is autonomous and one outside is human-reviewed', async () => {
    stages.set('claims', { mode: 'human-reviewed', rollout: 100 });
    await store.apply(flagOf('claims'));
    stages.set('claims', { mode: 'limited-autonomous', rollout: 100 });
    await expect(store.apply(flagOf('claims'))).resolves.toEqual({
      changed: true,
      drift: [
        'strategy 1: constraints none → riskTier IN [low]',
        'strategy 1: variant human-reviewed → limited-autonomous',
        'strategy 2 was missing',
      ],
    });
    const low = { sessionId: 'r7', properties: { riskTier: 'low' } };
    const high = { sessionId: 'r7', properties: { riskTier: 'high' } };
    await eventually(
      () => client.mode('shadowgate.claims', low) === 'limited-autonomous',
      'low risk is autonomous',
    );
    expect(client.mode('shadowgate.claims', high)).toBe('human-reviewed');
    expect(client.mode('shadowgate.claims', {})).toBe('human-reviewed');
    expect((await strategiesOf('shadowgate.claims')).map((s) => s.variants?.[0]?.name)).toEqual([
      'limited-autonomous',
      'human-reviewed',
    ]);
  });

  it('when the boundary rollout is 50%, then about half of the request ids inside it are autonomous', async () => {
    stages.set('claims', { mode: 'limited-autonomous', rollout: 50 });
    await expect(store.apply(flagOf('claims'))).resolves.toEqual({
      changed: true,
      drift: ['strategy 1: rollout 100 → 50'],
    });
    await eventually(
      () => autonomousShare(client, 'shadowgate.claims', 200) < 0.8,
      'the rollout reaches the client',
    );
    const share = autonomousShare(client, 'shadowgate.claims', 2000);
    expect(share).toBeGreaterThan(0.45);
    expect(share).toBeLessThan(0.55);
  });

  describe('a flag edited by hand', () => {
    const repairs: Array<{ useCase: string; drift: string[] }> = [];
    let reconciler: FlagReconciler;

    beforeAll(() => {
      reconciler = new FlagReconciler({
        store,
        desired: async () => desired(),
        onRepair: (useCase, drift) => {
          repairs.push({ useCase, drift });
        },
        logger: recordingLogger([]),
      });
    });

    it('when the rollout is changed by hand, then the reconciler puts it back and records the repair', async () => {
      const [first] = await strategiesOf('shadowgate.claims');
      await admin('PATCH', `/shadowgate.claims/environments/development/strategies/${first?.id}`, [
        { op: 'replace', path: '/parameters/rollout', value: '90' },
      ]);
      repairs.length = 0;
      await expect(reconciler.reconcile('claims')).resolves.toEqual({
        useCase: 'claims',
        status: 'repaired',
        drift: ['strategy 1: rollout 90 → 50'],
      });
      expect(repairs).toEqual([{ useCase: 'claims', drift: ['strategy 1: rollout 90 → 50'] }]);
      expect((await strategiesOf('shadowgate.claims'))[0]?.parameters?.rollout).toBe('50');
    });

    it('when a strategy is added, the constraints wiped and the environment switched off, then one pass repairs all of it', async () => {
      const [first] = await strategiesOf('shadowgate.claims');
      // A PUT without constraints and variants wipes them: the boundary is gone.
      await admin('PUT', `/shadowgate.claims/environments/development/strategies/${first?.id}`, {
        name: 'flexibleRollout',
        parameters: { rollout: '50', stickiness: 'default', groupId: 'shadowgate.claims' },
      });
      await admin('POST', '/shadowgate.claims/environments/development/strategies', {
        name: 'default',
        constraints: [],
        parameters: {},
      });
      await admin('POST', '/shadowgate.claims/environments/development/off');
      repairs.length = 0;

      await expect(reconciler.reconcileAll()).resolves.toEqual({
        applied: ['invoices', 'claims'],
        repaired: ['claims'],
        updated: [],
        failed: [],
      });
      expect(repairs).toEqual([
        {
          useCase: 'claims',
          drift: [
            'strategy 1: constraints none → riskTier IN [low]',
            'strategy 1: variant none → limited-autonomous',
            'strategy 3 was extra: default (constraints none, rollout none, variant none)',
            'environment development was off',
          ],
        },
      ]);
      const strategies = await strategiesOf('shadowgate.claims');
      expect(strategies.map((s) => [s.name, s.parameters?.rollout, s.variants?.map((v) => v.name)])).toEqual([
        ['flexibleRollout', '50', ['limited-autonomous']],
        ['flexibleRollout', '100', ['human-reviewed']],
      ]);
      expect(strategies[0]?.constraints).toMatchObject([
        { contextName: 'riskTier', operator: 'IN', values: ['low'] },
      ]);
      const feature = await admin('GET', '/shadowgate.claims');
      expect(feature.environments.find((e: { name: string }) => e.name === 'development').enabled).toBe(true);
      await expect(reconciler.reconcileAll()).resolves.toEqual({
        applied: ['invoices', 'claims'],
        repaired: [],
        updated: [],
        failed: [],
      });
    });

    it('when a stage changes or a use case is new, then reconcile updates the flag without reporting a repair', async () => {
      repairs.length = 0;
      stages.set('claims', { mode: 'human-reviewed', rollout: 50 });
      await expect(reconciler.reconcile('claims')).resolves.toEqual({
        useCase: 'claims',
        status: 'updated',
        drift: [
          'strategy 1: constraints riskTier IN [low] → none',
          'strategy 1: rollout 50 → 100',
          'strategy 1: variant limited-autonomous → human-reviewed',
          'strategy 2 was extra: flexibleRollout (constraints none, rollout 100, variant human-reviewed)',
        ],
      });
      stages.set('claims', { mode: 'limited-autonomous', rollout: 50 });
      await expect(reconciler.reconcile('claims')).resolves.toMatchObject({ status: 'updated' });

      stages.set('refunds', { mode: 'shadow', rollout: 100 });
      await expect(reconciler.reconcile('refunds')).resolves.toEqual({
        useCase: 'refunds',
        status: 'updated',
        drift: ['flag was missing'],
      });
      stages.delete('refunds');
      await expect(reconciler.reconcile('refunds')).resolves.toEqual({
        useCase: 'refunds',
        status: 'unknown',
      });
      expect(repairs).toEqual([]);
    });

    it('when the flag is archived by hand, then it is revived and switched back on', async () => {
      await admin('DELETE', '/shadowgate.invoices');
      await eventually(() => client.mode('shadowgate.invoices') === 'disabled', 'archiving hides the flag');
      await expect(store.apply(flagOf('invoices'))).resolves.toEqual({
        changed: true,
        drift: ['flag was archived'],
      });
      await eventually(
        () => client.mode('shadowgate.invoices') === 'human-reviewed',
        'client sees the revived flag',
      );
    });
    it('when Unleash rejects one flag, then the others are still reconciled and the failure is logged once', async () => {
      const lines: LogLine[] = [];
      const rejected: DesiredFlag = {
        useCase: 'rejected',
        name: 'shadowgate.rejected',
        strategies: [
          {
            constraints: [{ contextName: 'riskTier', operator: 'BOGUS', values: ['x'] }],
            rolloutPercent: 100,
            mode: 'shadow',
          },
        ],
      };
      const reconciler = new FlagReconciler({
        store,
        desired: async () => [rejected, ...desired()],
        logger: recordingLogger(lines),
      });
      await admin('POST', '/shadowgate.invoices/environments/development/off');

      const expected = {
        applied: ['invoices', 'claims'],
        repaired: ['invoices'],
        updated: [],
        failed: ['rejected'],
      };
      await expect(reconciler.reconcileAll()).resolves.toEqual(expected);
      await expect(reconciler.reconcileAll()).resolves.toEqual({ ...expected, repaired: [] });
      expect(lines.filter((l) => l.level !== 'info')).toEqual([
        { level: 'error', msg: 'flag could not be written; retrying at the next reconcile' },
      ]);
      await expect(store.apply(rejected)).rejects.toThrow(
        /adding strategy 1 to flag shadowgate.rejected \(POST .*\) failed: answered 400/,
      );
    });
  });

  describe('Unleash down', () => {
    it('when Unleash is stopped, then apply fails naming Unleash, reconcileAll does not throw and the flag catches up after a restart', async () => {
      const lines: LogLine[] = [];
      const repairs: string[] = [];
      const reconciler = new FlagReconciler({
        store,
        desired: async () => desired(),
        onRepair: (useCase) => {
          repairs.push(useCase);
        },
        logger: recordingLogger(lines),
      });
      // What the controller does at start: afterwards it knows what it wrote.
      await expect(reconciler.reconcileAll()).resolves.toEqual({
        applied: ['invoices', 'claims'],
        repaired: [],
        updated: [],
        failed: [],
      });
      // The client must have read the reconciled flag before Unleash goes (a loaded run stopped it first).
      await eventually(
        () => client.mode('shadowgate.invoices', { properties: { riskTier: 'low' } }) === 'human-reviewed',
        'the client to read the reconciled flag',
      );
      await unleash.stop();

      // The promotion happens in the database regardless.
      stages.set('invoices', { mode: 'limited-autonomous', rollout: 100 });
      await expect(store.apply(flagOf('invoices'))).rejects.toThrow(
        `Unleash at ${unleash.url}: reading flag shadowgate.invoices (GET /api/admin/projects/default/features/shadowgate.invoices) failed: could not connect (ECONNREFUSED)`,
      );
      await expect(store.ping()).rejects.toThrow(/Unleash at .* could not connect/);
      const down = { applied: [], repaired: [], updated: [], failed: ['invoices', 'claims'] };
      await expect(reconciler.reconcileAll()).resolves.toEqual(down);
      await expect(reconciler.reconcileAll()).resolves.toEqual(down);
      await expect(reconciler.reconcile('invoices')).resolves.toMatchObject({
        status: 'failed',
        unreachable: true,
      });
      expect(lines.filter((l) => l.level !== 'info')).toEqual([
        { level: 'warn', msg: 'Unleash unreachable; flags will catch up when it returns' },
      ]);
      // The client keeps serving what it last saw.
      expect(client.mode('shadowgate.invoices', { properties: { riskTier: 'low' } })).toBe('human-reviewed');

      await unleash.restart();
      const back = await reconciler.reconcileAll();
      // Catching up with a promotion is an update, not the repair of a hand edit.
      expect(back).toEqual({
        applied: ['invoices', 'claims'],
        repaired: [],
        updated: ['invoices'],
        failed: [],
      });
      expect(repairs).toEqual([]);
      expect(lines.map((l) => l.msg)).toContain('Unleash reachable again; flags are being reconciled');
      await eventually(
        () =>
          client.mode('shadowgate.invoices', { sessionId: 'r9', properties: { riskTier: 'low' } }) ===
          'limited-autonomous',
        'the client catches up after the restart',
        15_000,
      );
    });

    it('when Unleash accepts connections but never answers, then apply gives up after its timeout', async () => {
      const sockets: Socket[] = [];
      const silent: Server = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const slow = createUnleashFlagStore({
        url,
        adminToken: 'x',
        project: 'default',
        environment: 'development',
        timeoutMs: 200,
      });
      const started = Date.now();
      await expect(slow.apply(flagOf('claims'))).rejects.toThrow(
        `Unleash at ${url}: reading flag shadowgate.claims (GET /api/admin/projects/default/features/shadowgate.claims) failed: no answer within 200 ms`,
      );
      expect(Date.now() - started).toBeLessThan(2000);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('when the environment does not exist, then apply says the flag cannot be managed there', async () => {
      const elsewhere = createUnleashFlagStore({
        url: unleash.url,
        adminToken: unleash.adminToken,
        project: 'default',
        environment: 'staging',
      });
      await expect(elsewhere.apply(flagOf('claims'))).rejects.toThrow(
        `Unleash at ${unleash.url}: flag shadowgate.claims cannot be managed: the flag has no environment staging in project default`,
      );
      await expect(elsewhere.ping()).rejects.toThrow(/checking environment staging .* answered 404/);
    });

    it('when the admin token is wrong, then ping says the token was refused', async () => {
      const refused = createUnleashFlagStore({
        url: `${unleash.url}/api/`,
        adminToken: unleash.clientToken,
        project: 'default',
        environment: 'development',
      });
      await expect(refused.ping()).rejects.toThrow(
        /Unleash at http:\/\/127\.0\.0\.1:\d+: .* the admin token was refused \(40[13]\)/,
      );
    });
  });
});
