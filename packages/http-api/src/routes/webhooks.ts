import type Router from '@koa/router';
import { WebhookNotFound, type NewWebhook, type WebhookChanges } from '@flink-orchestrator/domain';
import type { ApiDependencies } from '../deps';
import { isUuid } from '../ids';
import { pageOf, readPage } from '../pagination';
import { createWebhookSchema, updateWebhookSchema, validate } from '../validation';
import { deliveryView, webhookView } from '../views';

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

  router.get('/api/v1/webhooks', async (ctx) => {
    const { page, limit } = readPage(ctx);
    ctx.body = pageOf(ctx, await deps.webhooks.list(page), limit).map(webhookView);
  });

  router.get('/api/v1/webhooks/:webhookId', async (ctx) => {
    ctx.body = webhookView(await deps.webhooks.get(ctx.params.webhookId as string));
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
