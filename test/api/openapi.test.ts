import {
  restartPolicyOf,
  type Cluster,
  type ClusterObservation,
  type Execution,
  type Job,
  type Savepoint,
  type Upgrade,
} from '@flink-orchestrator/domain';
import {
  apiRouter,
  clusterDetailView,
  ERROR_STATUS,
  executionView,
  jobView,
  savepointView,
  upgradeView,
  openApiDocument,
  OPERATIONS,
  scheduleEntryView,
} from '@flink-orchestrator/http-api';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import { ApiContract, type Exchange } from '../support/api-contract';

const document = openApiDocument() as any;
const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods as Record<string, any>).map(([method, op]) => ({ path, method, op })),
);

/** The document's schemas, compiled as the contract check compiles them (JSON Schema 2020-12, ajv-formats). */
function schemaValidator() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document, 'openapi.json');
  return (name: string, value: unknown): string[] => {
    const validate = ajv.getSchema(`openapi.json#/components/schemas/${name}`);
    if (!validate) throw new Error(`no schema ${name}`);
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

/** Every value of a key anywhere in the document, with where it is. */
function everything(key: string, node: unknown = document, at = '#'): [string, unknown, any][] {
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => [
    ...(k === key ? [[at, v, node] as [string, unknown, any]] : []),
    ...everything(key, v, `${at}/${k}`),
  ]);
}

describe('OpenAPI description', () => {
  it('describes every route, and every description has a route', () => {
    const deps = { metrics: { metrics: {}, refresh: async () => {} } } as never;
    const routes = new Set<string>();
    for (const layer of apiRouter(deps).stack) {
      for (const method of layer.methods) {
        if (method === 'HEAD') continue;
        const path = String(layer.path).replace(/:(\w+)/g, '{$1}');
        // The Swagger UI's own files.
        if (path === '/docs/init.js' || path === '/docs/{asset}') continue;
        routes.add(`${method.toLowerCase()} ${path}`);
      }
    }
    const described = new Set(OPERATIONS.map((op) => `${op.method} ${op.path}`));
    expect([...routes].sort()).to.deep.equal([...described].sort());
  });

  it('is a valid OpenAPI 3.1 document, its schemas valid JSON Schema 2020-12', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 1)).to.deep.equal([]);
    expect(result.valid).to.equal(true);
    expect(validator.version).to.equal('3.1');
    // The OpenAPI schema leaves Schema Objects to the dialect: check them against its meta-schema.
    const ajv = new Ajv2020({ strict: true });
    addFormats(ajv);
    const schemas: [string, unknown][] = [
      ...Object.entries(document.components.schemas).map(([name, schema]): [string, unknown] => [
        `#/components/schemas/${name}`,
        schema,
      ]),
      ...everything('schema').map(([at, schema]): [string, unknown] => [at, schema]),
    ];
    for (const [at, schema] of schemas)
      expect(ajv.validateSchema(schema as object), `${at}: ${ajv.errorsText()}`).to.equal(true);
  });

  it('gives every operation a unique id and a tag the document lists', () => {
    const tags = document.tags.map((t: { name: string }) => t.name);
    expect(tags).to.include.members(['jobs', 'executions', 'schedules', 'operations', 'docs']);
    for (const { path, method, op } of operations) {
      expect(op.tags, `${method} ${path}`).to.have.length(1);
      expect(tags).to.include(op.tags[0]);
    }
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it('writes patterns as ECMA-262 patterns (no leaked /flags) that compile with the u flag', () => {
    const patterns = [
      ...everything('pattern'),
      ...everything('propertyNames').map(([at, v]) => [at, (v as any).pattern]),
    ];
    expect(patterns.length).to.be.greaterThan(5);
    for (const [at, pattern] of patterns) {
      if (pattern === undefined) continue;
      expect(pattern, at).to.be.a('string');
      expect(pattern, at).not.to.match(/\/[dgimsuvy]+$/);
      expect(() => new RegExp(pattern as string, 'u'), at).not.to.throw();
    }
  });

  it('never describes an object that allows no key at all', () => {
    for (const [at, value, schema] of everything('additionalProperties')) {
      if (value !== false) continue;
      expect(Object.keys(schema.properties ?? {}), at).not.to.be.empty;
    }
  });

  it('lists 401 on every /api operation, 403 where it changes something, 413/415 where it takes a body', () => {
    for (const { path, method, op } of operations) {
      const statuses = Object.keys(op.responses);
      const name = `${method} ${path}`;
      expect(statuses, name).to.include('500');
      if (path.startsWith('/api/')) {
        expect(statuses, name).to.include.members(['401', '503']);
        expect(op.security, name).to.equal(undefined); // the document's default: an API token
        if (method !== 'get') expect(statuses, name).to.include('403');
        // The audit trail is the one read that needs a write token.
        else if (op.operationId !== 'listAudit') expect(statuses, name).not.to.include('403');
      } else {
        expect(op.security, name).to.be.an('array');
      }
      if (op.requestBody) expect(statuses, name).to.include.members(['400', '413', '415']);
      if (path.includes('{id}')) expect(statuses, name).to.include('404');
    }
    expect(Object.keys(document.paths['/metrics'].get.responses)).to.include('401');
  });

  it('lists every error code with the status the API answers it with', () => {
    const listed = new Map<string, string>();
    for (const { op } of operations) {
      for (const [status, answer] of Object.entries<any>(op.responses)) {
        const codes = answer.content?.['application/json']?.schema?.properties?.error?.properties?.code?.enum ?? [];
        for (const code of codes) listed.set(code, status);
      }
    }
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      // The answers of requests that are no operation: a path no route has, a method the path lacks.
      if (code === 'route_not_found' || code === 'method_not_allowed') continue;
      expect(listed.get(code), code).to.equal(String(status));
    }
  });

  describe('request bodies a client may send', () => {
    const valid = schemaValidator();
    it('accepts the jobs of the README and of real life', () => {
      for (const job of [
        {
          name: 'word-count',
          jarURL: 'data-processor.jar',
          entryClass: 'org.apache.flink.streaming.examples.wordcount.WordCount',
          config: { input: '/data/input.txt', parallelism: 2 },
        },
        { name: 'Wörter zählen 2', jarURL: 'https://jars.example.com/a.jar', entryClass: 'de.beispiel.Zähler$Main' },
        { name: 'top.speed_1', jarURL: 'TopSpeedWindowing.jar', entryClass: null, parallelism: null, enabled: false },
        {
          name: 'many',
          jarURL: 'a.jar',
          config: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k.${i}`, i])),
        },
      ])
        expect(valid('JobCreate', job), JSON.stringify(job)).to.deep.equal([]);
      expect(valid('JobUpdate', { parallelism: 4, version: 3 })).to.deep.equal([]);
      expect(valid('StartOptions', { restoreFrom: 'latest-savepoint', allowNonRestoredState: true })).to.deep.equal([]);
      expect(valid('ScheduleInput', { cron: '0 * * * * *', overlap: 'replace', replace: 'savepoint' })).to.deep.equal(
        [],
      );
    });

    it('refuses what the API refuses', () => {
      for (const job of [
        { name: ' padded', jarURL: 'a.jar' },
        { name: 'a/b', jarURL: 'a.jar' },
        { name: 'x', jarURL: 'a.zip' },
        { name: 'x', jarURL: 'a.jar', entryClass: '1com.Main' },
        { name: 'x', jarURL: 'a.jar', config: { '--flag': 'x' } },
        { name: 'x', jarURL: 'a.jar', config: { nested: { a: 1 } } },
        { name: 'x', jarURL: 'a.jar', config: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])) },
        { name: 'x', jarURL: 'a.jar', parallelism: 10_001 },
        { name: 'x', jarURL: 'a.jar', version: 1 },
      ])
        expect(valid('JobCreate', job), JSON.stringify(job)).not.to.deep.equal([]);
      expect(valid('JobUpdate', { version: 3 })).not.to.deep.equal([]);
      expect(valid('StartOptions', { restoreFrom: 'latest-savepoint', savepointPath: '/sp' })).not.to.deep.equal([]);
    });
  });

  describe('answers: the views match their schemas', () => {
    const valid = schemaValidator();
    const at = new Date('2026-12-01T08:00:00Z');
    const job: Job = {
      id: '6f1c1d8e-4a8b-4d43-9d5c-3f3f7c1e2a10',
      name: 'word-count',
      jarUrl: 'data-processor.jar',
      entryClass: null,
      config: { input: '/data', speed: 5, verbose: true },
      parallelism: null,
      enabled: true,
      cluster: 'default',
      admission: 'slots',
      restartPolicy: restartPolicyOf(null),
      savepointRetention: null,
      schedule: null,
      version: 1,
      createdAt: at,
      updatedAt: at,
    };
    const scheduled: Job = {
      ...job,
      entryClass: 'org.example.Main',
      parallelism: 2,
      enabled: false,
      admission: 'ignore',
      restartPolicy: restartPolicyOf({ onFailure: 'restart', maxRestarts: 5, restoreFrom: 'latest-savepoint' }),
      version: 7,
      schedule: {
        cron: '0 * * * * *',
        timezone: 'Europe/Berlin',
        overlap: 'replace',
        replace: 'savepoint',
        startAt: at,
        endAt: new Date('2027-01-01T00:00:00Z'),
        lastRunAt: at,
        preflightMinutes: 5,
        preflight: { scheduledFor: at, checkedAt: at, ok: false, message: 'entry class not found' },
      },
    };
    const execution = {
      id: 'a3c2b1d0-1111-4222-8333-944455556666',
      jobId: job.id,
      cluster: 'default',
      trigger: 'schedule',
      status: 'RUNNING',
      flinkState: 'RUNNING',
      flinkJobId: 'a3c2b1d011114222833394445555666',
      flinkJarId: 'abc_job.jar',
      jarSha256: 'ff',
      definition: { jarUrl: 'data-processor.jar', entryClass: 'org.example.Main', config: { speed: 5 }, jobVersion: 3 },
      parallelism: 2,
      savepointPath: 'file:///sp/1',
      allowNonRestoredState: true,
      admission: 'slots',
      waiting: null,
      savepointLocation: null,
      stopRequest: null,
      errorMessage: null,
      attempt: 1,
      scheduledFor: at,
      restartOf: null,
      upgradeId: null,
      notBefore: null,
      restartDecision: null,
      savepointId: null,
      createdAt: at,
      submittingAt: at,
      runRequestedAt: at,
      submittedAt: at,
      startedAt: at,
      finishedAt: null,
      updatedAt: at,
    } as unknown as Execution;
    const missed = {
      ...execution,
      status: 'MISSED',
      definition: null,
      flinkState: null,
      flinkJobId: null,
      flinkJarId: null,
      parallelism: null,
      savepointPath: null,
      allowNonRestoredState: false,
      errorMessage: 'tick missed',
      attempt: 0,
      submittedAt: null,
      startedAt: null,
      finishedAt: at,
    } as unknown as Execution;

    it('jobs, with and without a schedule', () => {
      expect(valid('Job', jobView(job, []))).to.deep.equal([]);
      expect(valid('Job', jobView(scheduled, [at, new Date('2026-12-01T08:01:00Z')]))).to.deep.equal([]);
      expect(valid('ScheduleEntry', scheduleEntryView(scheduled, [at]))).to.deep.equal([]);
    });

    it('executions, with a definition and without, waiting for slots', () => {
      expect(valid('Execution', executionView(execution))).to.deep.equal([]);
      expect(valid('Execution', executionView(missed))).to.deep.equal([]);
      const waiting = {
        ...execution,
        status: 'QUEUED',
        waiting: { waitingFor: 'slots', slotsNeeded: 4, slotsFree: 1, since: at, checks: 3 },
      } as unknown as Execution;
      const view = executionView(waiting);
      expect(view).to.deep.include({
        admission: 'slots',
        waitingFor: 'slots',
        waiting: { slotsNeeded: 4, slotsFree: 1, since: at.toISOString(), checks: 3 },
      });
      expect(valid('Execution', view)).to.deep.equal([]);
      expect(executionView(execution)).to.deep.include({ waitingFor: null, waiting: null });
    });

    it('savepoints: in progress, completed, being disposed of, disposed of, failed', () => {
      const taking: Savepoint = {
        id: 'b3c2b1d0-1111-4222-8333-944455556666',
        jobId: job.id,
        executionId: execution.id,
        cluster: 'default',
        kind: 'manual',
        status: 'IN_PROGRESS',
        triggerId: 'b3c2b1d0111142228333944455556666',
        location: null,
        errorMessage: null,
        createdAt: at,
        completedAt: null,
        disposal: null,
        disposalError: null,
        disposedAt: null,
      };
      const done = {
        ...taking,
        status: 'COMPLETED' as const,
        location: 'file:/sp/savepoint-a3c2b1-0123456789ab',
        completedAt: at,
      };
      const going = { ...done, disposal: { requestedAt: at, triggerId: 'ff'.repeat(16) } };
      const gone = { ...going, disposedAt: at };
      const refused = { ...done, disposalError: 'java.io.IOException: permission denied' };
      const failed = {
        ...taking,
        kind: 'stop' as const,
        executionId: null,
        status: 'FAILED' as const,
        errorMessage: 'expired',
      };
      for (const s of [taking, done, going, gone, refused, failed])
        expect(valid('Savepoint', savepointView(s)), s.status).to.deep.equal([]);
      expect(savepointView(going)).to.include({ disposalRequestedAt: at.toISOString(), disposedAt: null });
      expect(savepointView(going)).not.to.have.property('triggerId');
    });

    it('upgrades: under way, completed, failed with a recovery, and a plain update', () => {
      const running: Upgrade = {
        id: 'c3c2b1d0-1111-4222-8333-944455556666',
        jobId: job.id,
        mode: 'savepoint',
        changes: { jarUrl: 'v2.jar', config: { speed: 2 }, parallelism: null },
        allowNonRestoredState: false,
        status: 'IN_PROGRESS',
        step: 'stopping',
        steps: [{ step: 'stopping', at, detail: 'Stop with a savepoint asked.' }],
        fromExecutionId: execution.id,
        toExecutionId: null,
        savepointId: null,
        savepointLocation: null,
        stopRequestedAt: at,
        jobVersionBefore: 3,
        jobVersionAfter: null,
        errorMessage: null,
        recovery: null,
        createdAt: at,
        updatedAt: at,
        finishedAt: null,
      };
      const done: Upgrade = { ...running, status: 'COMPLETED', step: 'done', jobVersionAfter: 4, finishedAt: at };
      const failed: Upgrade = { ...running, status: 'FAILED', errorMessage: 'boom', recovery: 'start again' };
      const plain: Upgrade = { ...done, fromExecutionId: null, stopRequestedAt: null, changes: { entryClass: null } };
      for (const u of [running, done, failed, plain])
        expect(valid('Upgrade', upgradeView(u)), u.status).to.deep.equal([]);
      expect(upgradeView(running).changes).to.deep.equal({ jarURL: 'v2.jar', config: { speed: 2 }, parallelism: null });
    });

    it('a restart, and the failures it replaced or did not', () => {
      const failed = { ...execution, status: 'FAILED', finishedAt: at };
      const restart = {
        ...execution,
        trigger: 'restart',
        restartOf: failed.id,
        notBefore: at,
        savepointPath: 'file:///cp/chk-3',
      } as unknown as Execution;
      const restarted = {
        ...failed,
        restartDecision: {
          decision: 'restarted',
          executionId: restart.id,
          restoreFrom: { kind: 'checkpoint', path: 'file:///cp/chk-3' },
          decidedAt: at,
        },
      } as unknown as Execution;
      const exhausted = {
        ...failed,
        restartDecision: { decision: 'exhausted', reason: 'Not restarted: 3 restarts', decidedAt: at },
      } as unknown as Execution;
      for (const e of [restart, restarted, exhausted]) expect(valid('Execution', executionView(e))).to.deep.equal([]);
      expect(executionView(restarted).restart).to.deep.include({ decision: 'restarted', decidedAt: at.toISOString() });
      expect(executionView(restart)).to.include({ trigger: 'restart', restartOf: failed.id });
    });

    it('clusters, before the observer saw them, reachable with slots, and unreachable without', () => {
      const cluster: Cluster = {
        id: 'c1',
        name: 'analytics',
        url: 'http://flink:8081',
        auth: { type: 'bearer', token: 'never shown' },
        savepointDir: null,
        version: 1,
        createdAt: at,
        updatedAt: at,
      };
      const seen: ClusterObservation = {
        cluster: 'analytics',
        reachable: true,
        reachableSince: at,
        observedAt: at,
        lastError: null,
        runningJobs: 2,
        slots: {
          taskManagers: 2,
          slotsTotal: 8,
          slotsFree: 3,
          defaultParallelism: null,
          flinkVersion: '1.20.1',
          observedAt: at,
        },
        unmanagedJobs: [{ flinkJobId: 'ab'.repeat(16), name: 'by hand', state: 'RUNNING', startTime: at }],
        driftedExecutions: [
          {
            executionId: execution.id,
            jobId: job.id,
            status: 'CANCELLED',
            flinkJobId: 'cd'.repeat(16),
            flinkState: 'RUNNING',
          },
        ],
      };
      const down: ClusterObservation = {
        ...seen,
        reachable: false,
        lastError: 'connection refused',
        runningJobs: null,
        slots: null,
        unmanagedJobs: [],
        driftedExecutions: [],
      };
      expect(valid('ClusterDetail', clusterDetailView(cluster, null))).to.deep.equal([]);
      const reachable = clusterDetailView(cluster, seen);
      expect(valid('ClusterDetail', reachable)).to.deep.equal([]);
      expect(reachable.observed).to.deep.include({ since: at.toISOString(), slotsFree: 3, flinkVersion: '1.20.1' });
      const unreachable = clusterDetailView(cluster, down);
      expect(valid('ClusterDetail', unreachable)).to.deep.equal([]);
      expect(unreachable.observed).to.deep.include({ slotsTotal: null, slotsObservedAt: null, flinkVersion: null });
      expect(JSON.stringify(reachable)).not.to.contain('never shown');
    });

    it('a field the schema does not know, or one missing, is a mismatch', () => {
      expect(valid('Job', { ...jobView(job, []), extra: 1 })).not.to.deep.equal([]);
      const { version: _version, ...withoutVersion } = jobView(job, []);
      expect(valid('Job', withoutVersion)).not.to.deep.equal([]);
    });
  });

  describe('the contract check of the API tests', () => {
    const id = '6f1c1d8e-4a8b-4d43-9d5c-3f3f7c1e2a10';
    const job = {
      id,
      name: 'n',
      jarURL: 'a.jar',
      entryClass: null,
      config: {},
      parallelism: null,
      enabled: true,
      cluster: 'default',
      admission: 'slots',
      restartPolicy: {
        onFailure: 'never',
        onLost: 'never',
        maxRestarts: 3,
        withinMinutes: 60,
        backoffSeconds: 10,
        restoreFrom: 'latest-checkpoint',
      },
      savepointRetention: null,
      version: 1,
      schedule: null,
      createdAt: '2026-12-01T08:00:00.000Z',
      updatedAt: '2026-12-01T08:00:00.000Z',
    };
    const exchange = (over: Partial<Exchange> & { json?: unknown }): Exchange => {
      const json = over.json ?? job;
      return {
        method: 'GET',
        url: new URL(`http://api/api/v1/jobs/${id}`),
        headers: {},
        status: 200,
        responseHeaders: new Headers({ 'content-type': 'application/json', 'x-request-id': 'r-1', etag: '"1"' }),
        text: JSON.stringify(json),
        ...over,
        json,
      };
    };

    it('passes an exchange as documented', async () => {
      expect(await new ApiContract().problems(exchange({}))).to.deep.equal([]);
    });

    it('fails a drift: an answer its schema does not describe, an undocumented status, a refused valid request', async () => {
      const drifted = structuredClone(document);
      delete drifted.components.schemas.Job.properties.version;
      const [mismatch] = await new ApiContract(drifted).problems(exchange({}));
      expect(mismatch).to.match(/answer 200 does not match its schema: .*additional properties.*version/);

      const contract = new ApiContract();
      expect((await contract.problems(exchange({ status: 418 })))[0]).to.match(/status 418 is not among/);
      expect(
        await contract.problems(exchange({ responseHeaders: new Headers({ 'content-type': 'application/json' }) })),
      ).to.deep.equal(['answer 200 lacks the header X-Request-Id', 'answer 200 lacks the header ETag']);

      const patternsLeaked = structuredClone(document);
      patternsLeaked.components.schemas.JobCreate.properties.name.pattern += '/u';
      const created = exchange({
        method: 'POST',
        url: new URL('http://api/api/v1/jobs'),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'word-count', jarURL: 'a.jar' }),
        status: 201,
        responseHeaders: new Headers({
          'content-type': 'application/json',
          'x-request-id': 'r-1',
          etag: '"1"',
          location: `/api/v1/jobs/${id}`,
        }),
      });
      expect(await contract.problems(created)).to.deep.equal([]);
      const [refused] = await new ApiContract(patternsLeaked).problems(created);
      expect(refused).to.match(/the document refuses this request, which the API accepted: \/requestBody\/name/);
    });

    it('names the operation when it throws', async () => {
      try {
        await new ApiContract().check(exchange({ status: 418 }));
        expect.fail('no violation');
      } catch (error) {
        expect((error as Error).name).to.equal('ContractViolation');
        expect((error as Error).message).to.match(
          /^OpenAPI document and API disagree on getJob \(GET \/api\/v1\/jobs\/\{id\}\)/,
        );
      }
    });
  });
});
