import type Router from '@koa/router';
import type { UpgradeChanges, UpgradeMode } from '@flink-orchestrator/domain';
import type { ApiDependencies } from '../deps';
import { ifMatched, ifMatchVersion } from '../if-match';
import { pageOf, readPage } from '../pagination';
import { validate } from '../shared/validation';
import { upgradeSchema } from './validation';
import { upgradeView } from './views';

interface UpgradeBody {
  jarURL?: string;
  entryClass?: string | null;
  config?: UpgradeChanges['config'];
  parallelism?: number | null;
  mode: UpgradeMode;
  allowNonRestoredState: boolean;
}

function changesOf(body: UpgradeBody): UpgradeChanges {
  const changes: UpgradeChanges = {};
  if (body.jarURL !== undefined) changes.jarUrl = body.jarURL;
  if (body.entryClass !== undefined) changes.entryClass = body.entryClass;
  if (body.config !== undefined) changes.config = body.config;
  if (body.parallelism !== undefined) changes.parallelism = body.parallelism;
  return changes;
}

/** Upgrades that keep state: stop with a savepoint, change the definition, start from the savepoint. */
export function upgradeRoutes(router: Router, deps: ApiDependencies): void {
  // 202 while the workers carry it out; 200 when nothing ran and it was a plain update.
  router.post('/api/v1/jobs/:id/upgrade', async (ctx) => {
    const body = validate<UpgradeBody>(upgradeSchema, ctx.request.body);
    const version = ifMatchVersion(ctx);
    const upgrade = await ifMatched(version, () =>
      deps.upgrades.run(ctx.params.id as string, {
        changes: changesOf(body),
        mode: body.mode,
        allowNonRestoredState: body.allowNonRestoredState,
        expectedVersion: version,
      }),
    );
    ctx.status = upgrade.status === 'IN_PROGRESS' ? 202 : 200;
    ctx.set('Location', `/api/v1/upgrades/${upgrade.id}`);
    ctx.body = upgradeView(upgrade);
  });

  router.get('/api/v1/jobs/:id/upgrades', async (ctx) => {
    const { page, limit } = readPage(ctx);
    const rows = await deps.upgrades.listForJob(ctx.params.id as string, page);
    ctx.body = pageOf(ctx, rows, limit).map(upgradeView);
  });

  router.get('/api/v1/upgrades/:upgradeId', async (ctx) => {
    ctx.body = upgradeView(await deps.upgrades.get(ctx.params.upgradeId as string));
  });
}
