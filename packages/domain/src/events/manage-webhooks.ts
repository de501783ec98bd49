import { UnknownJob, WebhookNotFound } from '../shared/errors';
import type { NewWebhook, Webhook, WebhookChanges, WebhookDelivery } from './webhook';
import type { JobRepository, PageRequest } from '../jobs/job-repository';
import type { WebhookRepository } from './webhook-repository';

export interface ManageWebhooksDeps {
  webhooks: WebhookRepository;
  jobs: JobRepository;
  /** The outbound guard's static check (scheme, allowed host); throws WebhookUrlNotAllowed. */
  checkUrl: (url: string) => void;
}

/** Webhooks as the API creates, reads, changes and deletes them, and their deliveries. */
export class ManageWebhooks {
  constructor(private readonly deps: ManageWebhooksDeps) {}

  async create(webhook: NewWebhook): Promise<Webhook> {
    this.deps.checkUrl(webhook.url);
    await this.requireJob(webhook.jobId);
    return this.deps.webhooks.create(webhook);
  }

  async get(id: string): Promise<Webhook> {
    const webhook = await this.deps.webhooks.get(id);
    if (!webhook) throw new WebhookNotFound(id);
    return webhook;
  }

  list(page: PageRequest): Promise<Webhook[]> {
    return this.deps.webhooks.list(page);
  }

  async update(id: string, changes: WebhookChanges): Promise<Webhook> {
    if (changes.url !== undefined) this.deps.checkUrl(changes.url);
    if (changes.jobId !== undefined) await this.requireJob(changes.jobId);
    const updated = await this.deps.webhooks.update(id, changes);
    if (!updated) throw new WebhookNotFound(id);
    return updated;
  }

  async delete(id: string): Promise<void> {
    if (!(await this.deps.webhooks.delete(id))) throw new WebhookNotFound(id);
  }

  async deliveries(id: string, page: PageRequest): Promise<WebhookDelivery[]> {
    await this.get(id);
    return this.deps.webhooks.deliveries(id, page);
  }

  private async requireJob(jobId: string | null): Promise<void> {
    if (jobId !== null && !(await this.deps.jobs.get(jobId))) throw new UnknownJob('jobId', jobId);
  }
}
