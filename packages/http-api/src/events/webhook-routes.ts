import type Router from '@koa/router';
import { WebhookNotFound, type NewWebhook, type WebhookChanges } from '@flink-orchestrator/domain';
import type { Context } from 'koa';
import type { ApiDependencies } from '../deps';
import { isUuid } from '../ids';
import { pageOf, readPage } from '../pagination';
import { requestState } from '../request-state';
import { validate } from '../shared/validation';
import { createWebhookSchema, updateWebhookSchema } from './validation';
import { deliveryView, webhookView } from './views';

/** Webhooks: where events are POSTed, and what became of each delivery. */
export function webhookRoutes(router: Router, deps: ApiDependencies): void {
  // Anything but a UUID names no webhook: 404 before touching the database.
  router.param('webhookId', async (id, _ctx, next) => {
    if (!isUuid(id)) throw new WebhookNotFound(id);
    return next();
  });

  router.post('/api/v1/webhooks', async (ctx) => {
    const body = validate<NewWebhook>(createWebhookSchema, ctx.request.body);
    const created = await deps.webhooks.create(body);
    ctx.status = 201;
    ctx.set('Location', `/api/v1/webhooks/${created.id}`);
    ctx.body = webhookView(created);
  });

  // A read-only token sees a webhook URL's host only: the rest may be its credential.
  const access = (ctx: Context) => requestState(ctx).access ?? 'write';

  router.get('/api/v1/webhooks', async (ctx) => {
    const { page, limit } = readPage(ctx);
    ctx.body = pageOf(ctx, await deps.webhooks.list(page), limit).map((w) => webhookView(w, access(ctx)));
  });

  router.get('/api/v1/webhooks/:webhookId', async (ctx) => {
    ctx.body = webhookView(await deps.webhooks.get(ctx.params.webhookId as string), access(ctx));
  });

  router.put('/api/v1/webhooks/:webhookId', async (ctx) => {
    const changes = validate<WebhookChanges>(updateWebhookSchema, ctx.request.body);
    ctx.body = webhookView(await deps.webhooks.update(ctx.params.webhookId as string, changes));
  });

  router.delete('/api/v1/webhooks/:webhookId', async (ctx) => {
    await deps.webhooks.delete(ctx.params.webhookId as string);
    ctx.status = 204;
  });

  router.get('/api/v1/webhooks/:webhookId/deliveries', async (ctx) => {
    const { page, limit } = readPage(ctx);
    const rows = await deps.webhooks.deliveries(ctx.params.webhookId as string, page);
    ctx.body = pageOf(ctx, rows, limit).map(deliveryView);
  });
}
