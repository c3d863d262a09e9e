import type { DesiredFlag, FlagApplyResult, FlagStore } from './flag-store.js';
import { FlagStoreError } from './flag-store-error.js';
import { type UnleashAdminHttpOptions, unleashAdminHttp } from './unleash-admin-http.js';
import {
  describeStrategy,
  strategyDrift,
  type UnleashStrategy,
  unleashStrategy,
} from './unleash-strategy.js';

export interface UnleashFlagStoreOptions extends UnleashAdminHttpOptions {
  project: string;
  environment: string;
}

const DESCRIPTION =
  'Managed by Shadowgate: the variant is the use case mode. Hand edits are reverted by the reconcile loop.';

interface EnvironmentView {
  name: string;
  enabled?: boolean;
  strategies?: UnleashStrategy[];
}

/** The one read per apply: an archived flag answers 404 here (its environment endpoint does not). */
interface FeatureView {
  environments?: EnvironmentView[];
}

/**
 * Flags written through the Unleash Admin API. `apply` reads the flag with its
 * strategies (one GET when nothing drifted) and rewrites only what differs, in
 * place: strategy i is PUT with its whole body (constraints, variants, segments — a
 * PUT replaces), missing ones are added, extra ones deleted last. Extras go last
 * because Unleash switches an environment off when its last strategy is deleted, and
 * switching one on without strategies adds a default one.
 */
export function createUnleashFlagStore(options: UnleashFlagStoreOptions): FlagStore {
  const { baseUrl, request } = unleashAdminHttp(options);
  const env = options.environment;
  const features = `/api/admin/projects/${encodeURIComponent(options.project)}/features`;
  const featurePath = (flag: string) => `${features}/${encodeURIComponent(flag)}`;
  const environmentPath = (flag: string) => `${featurePath(flag)}/environments/${encodeURIComponent(env)}`;

  async function readFeature(flag: string, accept: number[] = []): Promise<FeatureView | undefined> {
    const read = await request('GET', featurePath(flag), `reading flag ${flag}`, { accept });
    return read.status === 404 ? undefined : ((read.body ?? {}) as FeatureView);
  }

  /** Creates the flag, or revives it when it was archived; the drift says which. */
  async function createFeature(flag: string): Promise<string> {
    const created = await request('POST', features, `creating flag ${flag}`, {
      body: { name: flag, type: 'release', description: DESCRIPTION, impressionData: false },
      accept: [409],
    });
    if (created.status !== 409) return 'flag was missing';
    if (!/archived/i.test(JSON.stringify(created.body ?? ''))) {
      const reason = `flag ${flag} cannot be managed: the name is taken by a flag outside project ${options.project}`;
      throw new FlagStoreError(`Unleash at ${baseUrl}: ${reason}`, 'failed', { reason });
    }
    await request(
      'POST',
      `/api/admin/archive/revive/${encodeURIComponent(flag)}`,
      `reviving archived flag ${flag}`,
    );
    return 'flag was archived';
  }

  async function writeStrategies(desired: DesiredFlag, actual: UnleashStrategy[]): Promise<string[]> {
    const drift: string[] = [];
    const strategies = `${environmentPath(desired.name)}/strategies`;
    for (const [i, wanted] of desired.strategies.entries()) {
      const body = { ...unleashStrategy(desired.name, wanted), disabled: false, segments: [], sortOrder: i };
      const current = actual[i];
      if (!current) {
        drift.push(`strategy ${i + 1} was missing`);
        await request('POST', strategies, `adding strategy ${i + 1} to flag ${desired.name}`, { body });
        continue;
      }
      const differences = strategyDrift(i + 1, current, desired.name, wanted);
      drift.push(...differences);
      // A sortOrder-only PUT changes nothing a client sees; it keeps later additions in place.
      if (differences.length > 0 || current.sortOrder !== i) {
        const what = `replacing strategy ${i + 1} of flag ${desired.name}`;
        await request('PUT', `${strategies}/${current.id}`, what, { body });
      }
    }
    for (const [i, extra] of actual.entries()) {
      if (i < desired.strategies.length) continue;
      drift.push(`strategy ${i + 1} was extra: ${describeStrategy(extra)}`);
      await request(
        'DELETE',
        `${strategies}/${extra.id}`,
        `removing strategy ${i + 1} of flag ${desired.name}`,
      );
    }
    return drift;
  }

  return {
    kind: 'unleash',

    async apply(desired: DesiredFlag): Promise<FlagApplyResult> {
      if (desired.strategies.length === 0) {
        throw new FlagStoreError(`flag ${desired.name}: a flag needs at least one strategy`, 'failed');
      }
      let feature = await readFeature(desired.name, [404]);
      let created: string | undefined;
      if (!feature) {
        created = await createFeature(desired.name);
        feature = await readFeature(desired.name);
      }
      const view = feature?.environments?.find((e) => e.name === env);
      if (!view) {
        const reason = `flag ${desired.name} cannot be managed: the flag has no environment ${env} in project ${options.project}`;
        throw new FlagStoreError(`Unleash at ${baseUrl}: ${reason}`, 'failed', { reason });
      }
      const actual = [...(view.strategies ?? [])].sort((a, b) => (a.sortOrder ?? 0) - (b.sortOrder ?? 0));
      const strategyChanges = await writeStrategies(desired, actual);
      // A flag just created has no strategies and starts off: all part of "flag was missing".
      const drift =
        created === 'flag was missing' ? [created] : [...(created ? [created] : []), ...strategyChanges];
      if (view.enabled !== true) {
        if (!created) drift.push(`environment ${env} was off`);
        await request(
          'POST',
          `${environmentPath(desired.name)}/on`,
          `switching flag ${desired.name} on in ${env}`,
        );
      }
      return { changed: drift.length > 0, drift };
    },

    async ping(): Promise<void> {
      await request(
        'GET',
        `/api/admin/environments/${encodeURIComponent(env)}`,
        `checking environment ${env}`,
      );
    },
  };
}
