import { randomUUID } from 'node:crypto';
import { BAD_IF_MATCH, badBody, nastyQuery, type Pick } from './fuzz-inputs';

/** What the fuzz suite made before it starts: real rows, so a bad request can aim at them. */
export interface Fixtures {
  jobId: string;
  webhookId: string;
  actionScheduleId: string;
}

export interface FuzzRequest {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The random parts of a request, all drawn from one seeded generator. */
export class Draw {
  readonly pick: Pick;
  private readonly jobs: string[];
  private readonly hooks: string[];
  private readonly schedules: string[];
  /** UUIDs no row has, drawn once: the run replays with the same seed but fresh fixtures. */
  private readonly strangers = [randomUUID(), randomUUID()];
  private readonly badIds = ['not-a-uuid', "1' OR '1'='1", '%00', '..%2F..%2F', '💥', 'a'.repeat(300)];

  constructor(
    readonly next: () => number,
    fixtures: Fixtures,
  ) {
    this.pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] as T;
    this.jobs = [fixtures.jobId, ...this.strangers, ...this.badIds];
    this.hooks = [fixtures.webhookId, ...this.strangers, ...this.badIds];
    this.schedules = [fixtures.actionScheduleId, ...this.strangers, ...this.badIds];
  }

  private id = (xs: string[]) => encodeURIComponent(this.pick(xs));
  /** A job id, the fixture's among them. */
  job = () => this.id(this.jobs);
  /** A job id that names no job: for a request that would change the fixture if it were valid. */
  otherJob = () => this.id(this.jobs.slice(1));
  hook = () => this.id(this.hooks);
  otherHook = () => this.id(this.hooks.slice(1));
  schedule = () => this.id(this.schedules);
  otherSchedule = () => this.id(this.schedules.slice(1));
  /** A UUID or not, never one of a row (savepoints, upgrades: the fixtures have none). */
  nobody = () => this.id([...this.strangers, ...this.badIds]);
  /** `default` is in use by the fixture job: deleting it is refused too. */
  cluster = () =>
    encodeURIComponent(this.pick(['default', 'no-such-cluster', 'Bad_Name', '💥', '..%2F', 'a'.repeat(300)]));
  /** The query parameters the route's operation documents (see `forRoute`). */
  private queryNames: readonly string[] = [];
  /** Sets what `query` draws from: an undocumented parameter would be the document's refusal, not the API's. */
  forRoute(queryNames: readonly string[]): this {
    this.queryNames = queryNames;
    return this;
  }
  /** One documented query parameter with a nasty value; none for a route that documents none. */
  query = () => (this.queryNames.length > 0 ? nastyQuery(this.pick, this.queryNames) : '');
  /** A body wrong in one way at least, or JSON that does not parse. */
  body = () => (this.next() < 0.05 ? '{"broken": ' : badBody(this.next, this.pick));
  /** Sometimes an If-Match no fixture has, which refuses the change by itself. */
  ifMatch = (): Record<string, string> => (this.next() < 0.3 ? { 'if-match': this.pick(BAD_IF_MATCH) } : {});
}

type Make = (d: Draw) => FuzzRequest;
const get = (path: string): FuzzRequest => ({ method: 'GET', path });

/**
 * Every route of the API router, by its method and router path, with the bad requests the fuzz
 * suite sends to it. A change aims at a fixture only with a body or a header that refuses it.
 */
export const FUZZ_ROUTES: Record<string, Make> = {
  'GET /health': (d) => get(`/health${d.query()}`),
  'GET /health/live': (d) => get(`/health/live${d.query()}`),
  'GET /metrics': (d) => get(`/metrics${d.query()}`),
  'GET /openapi.json': (d) => get(`/openapi.json${d.query()}`),
  'GET /docs': (d) => get(`/docs${d.query()}`),
  'GET /docs/init.js': (d) => get(`/docs/init.js${d.query()}`),
  'GET /docs/:asset': (d) =>
    get(
      `/docs/${d.pick(['..%2F..%2Fpackage.json', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', 'swagger-ui.css', 'nope.js', '%F0%9F%92%A5', 'a'.repeat(300), '.env'])}`,
    ),

  'POST /api/v1/jobs': (d) => ({
    method: 'POST',
    path: `/api/v1/jobs${d.next() < 0.2 ? `?validate=${d.pick(['1', 'yes', 'maybe', ''])}` : ''}`,
    body: d.body(),
  }),
  'GET /api/v1/jobs': (d) => get(`/api/v1/jobs${d.query()}`),
  'GET /api/v1/jobs/:id': (d) => get(`/api/v1/jobs/${d.job()}`),
  'PUT /api/v1/jobs/:id': (d) => ({
    method: 'PUT',
    path: `/api/v1/jobs/${d.job()}`,
    body: d.body(),
    headers: d.ifMatch(),
  }),
  'DELETE /api/v1/jobs/:id': (d) => ({ method: 'DELETE', path: `/api/v1/jobs/${d.otherJob()}`, headers: d.ifMatch() }),
  // Never the fixture: a check would reach Flink (and upload to it).
  'POST /api/v1/jobs/:id/validate': (d) => ({ method: 'POST', path: `/api/v1/jobs/${d.otherJob()}/validate` }),

  'POST /api/v1/jobs/:id/start': (d) => ({ method: 'POST', path: `/api/v1/jobs/${d.job()}/start`, body: d.body() }),
  'POST /api/v1/jobs/:id/stop': (d) => ({ method: 'POST', path: `/api/v1/jobs/${d.job()}/stop`, body: d.body() }),
  'GET /api/v1/jobs/:id/executions': (d) => get(`/api/v1/jobs/${d.job()}/executions${d.query()}`),
  'GET /api/v1/executions': (d) => get(`/api/v1/executions${d.query()}`),
  'GET /api/v1/executions/:id': (d) => get(`/api/v1/executions/${d.nobody()}`),

  // The fixture job runs nothing: a savepoint of it is refused (no running execution).
  'POST /api/v1/jobs/:id/savepoints': (d) => ({ method: 'POST', path: `/api/v1/jobs/${d.job()}/savepoints` }),
  'GET /api/v1/jobs/:id/savepoints': (d) => get(`/api/v1/jobs/${d.job()}/savepoints${d.query()}`),
  'GET /api/v1/jobs/:id/savepoints/:savepointId': (d) => get(`/api/v1/jobs/${d.job()}/savepoints/${d.nobody()}`),
  'DELETE /api/v1/jobs/:id/savepoints/:savepointId': (d) => ({
    method: 'DELETE',
    path: `/api/v1/jobs/${d.job()}/savepoints/${d.nobody()}`,
  }),

  'POST /api/v1/jobs/:id/upgrade': (d) => ({
    method: 'POST',
    path: `/api/v1/jobs/${d.job()}/upgrade`,
    body: d.body(),
    headers: d.ifMatch(),
  }),
  'GET /api/v1/jobs/:id/upgrades': (d) => get(`/api/v1/jobs/${d.job()}/upgrades${d.query()}`),
  'GET /api/v1/upgrades/:upgradeId': (d) => get(`/api/v1/upgrades/${d.nobody()}`),

  'POST /api/v1/jobs/:id/schedule': (d) => ({
    method: 'POST',
    path: `/api/v1/jobs/${d.job()}/schedule`,
    body: d.body(),
    headers: d.ifMatch(),
  }),
  // The fixture's schedule only with an If-Match that refuses it.
  'DELETE /api/v1/jobs/:id/schedule': (d) =>
    d.next() < 0.5
      ? { method: 'DELETE', path: `/api/v1/jobs/${d.otherJob()}/schedule` }
      : {
          method: 'DELETE',
          path: `/api/v1/jobs/${d.job()}/schedule`,
          headers: { 'if-match': d.pick(['"0"', '"99999999"', 'nonsense', 'W/']) },
        },
  'POST /api/v1/jobs/:id/schedules': (d) => ({
    method: 'POST',
    path: `/api/v1/jobs/${d.job()}/schedules`,
    body: d.body(),
  }),
  'GET /api/v1/jobs/:id/schedules': (d) => get(`/api/v1/jobs/${d.job()}/schedules${d.query()}`),
  'GET /api/v1/jobs/:id/schedules/:scheduleId': (d) => get(`/api/v1/jobs/${d.job()}/schedules/${d.schedule()}`),
  'DELETE /api/v1/jobs/:id/schedules/:scheduleId': (d) => ({
    method: 'DELETE',
    path: `/api/v1/jobs/${d.job()}/schedules/${d.otherSchedule()}`,
  }),
  'GET /api/v1/schedules': (d) => get(`/api/v1/schedules${d.query()}`),

  'POST /api/v1/clusters': (d) => ({ method: 'POST', path: '/api/v1/clusters', body: d.body() }),
  'GET /api/v1/clusters': (d) => get(`/api/v1/clusters${d.query()}`),
  'GET /api/v1/clusters/:name': (d) => get(`/api/v1/clusters/${d.cluster()}`),
  'PUT /api/v1/clusters/:name': (d) => ({ method: 'PUT', path: `/api/v1/clusters/${d.cluster()}`, body: d.body() }),
  'DELETE /api/v1/clusters/:name': (d) => ({ method: 'DELETE', path: `/api/v1/clusters/${d.cluster()}` }),
  // Cancels that never reach Flink: a bad JobID anywhere, a good one only on a cluster that does not exist.
  'POST /api/v1/clusters/:name/jobs/:flinkJobId/cancel': (d) => {
    const badFlinkIds = ['0'.repeat(31), 'g'.repeat(32), randomUUID(), "1' OR '1'='1", '%00', '💥', 'a'.repeat(300)];
    const path =
      d.next() < 0.2
        ? `/api/v1/clusters/no-such-cluster/jobs/${'ab'.repeat(16)}/cancel`
        : `/api/v1/clusters/${d.cluster()}/jobs/${encodeURIComponent(d.pick(badFlinkIds))}/cancel`;
    return { method: 'POST', path };
  },

  'POST /api/v1/webhooks': (d) => ({ method: 'POST', path: '/api/v1/webhooks', body: d.body() }),
  'GET /api/v1/webhooks': (d) => get(`/api/v1/webhooks${d.query()}`),
  'GET /api/v1/webhooks/:webhookId': (d) => get(`/api/v1/webhooks/${d.hook()}`),
  'PUT /api/v1/webhooks/:webhookId': (d) => ({ method: 'PUT', path: `/api/v1/webhooks/${d.hook()}`, body: d.body() }),
  'DELETE /api/v1/webhooks/:webhookId': (d) => ({ method: 'DELETE', path: `/api/v1/webhooks/${d.otherHook()}` }),
  'GET /api/v1/webhooks/:webhookId/deliveries': (d) => get(`/api/v1/webhooks/${d.hook()}/deliveries${d.query()}`),

  'GET /api/v1/events': (d) => get(d.next() < 0.5 ? `/api/v1/events${d.query()}` : `/api/v1/events?jobId=${d.job()}`),
  'GET /api/v1/audit': (d) => get(`/api/v1/audit${d.query()}`),
};
