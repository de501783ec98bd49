import { expect } from 'chai';
import {
  DependencyUnavailable,
  EnsureJarOnFlink,
  JobModified,
  JobNotFound,
  ManageJobs,
  ManageSchedules,
  PermanentFailure,
  TransientFailure,
  UnknownCluster,
  ValidateOnFlink,
  ValidationFailedOnFlink,
  type CronCalendar,
  type JarSource,
} from '../..';
import { MemoryJarRegistry, oneJar, world } from '../../testing/fakes';

const MISSING_CLASS =
  "org.apache.flink.client.program.ProgramInvocationException: The program's entry point class 'org.example.DoesNotExist' was not found in the jar file.";

function setup(source: JarSource & { fetched: string[] } = oneJar()) {
  const w = world();
  const registry = new MemoryJarRegistry();
  const jars = new EnsureJarOnFlink(source, registry, w.log);
  const validate = new ValidateOnFlink({ ...w, jars, settings: { dataProcessorUrl: 'http://dp:8080' } });
  const job = w.jobs.add({
    jarUrl: 'app.jar',
    entryClass: 'com.example.Main',
    config: { b: 2, a: 'x' },
    parallelism: 3,
  });
  return { ...w, validate, job, registry, fetched: source.fetched };
}

/** A data-processor whose every download fails with `error`. */
const failingSource = (error: Error): JarSource & { fetched: string[] } => ({
  fetched: [],
  fetch: (() => Promise.reject(error)) as JarSource['fetch'],
});

/** Outcome of a promise expected to fail. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

/** ManageJobs with schedules nobody uses here: no test sets one. */
function manageJobs(t: ReturnType<typeof setup>): ManageJobs {
  const timer = {
    upsert: () => Promise.resolve(),
    remove: () => Promise.resolve(),
    list: () => Promise.resolve(new Map<string, { cron: string; timezone: string }>()),
  };
  const calendar = { validate: () => undefined } as unknown as CronCalendar;
  return new ManageJobs(t.jobs, new ManageSchedules({ ...t, timer, calendar }));
}

describe('ValidateOnFlink (on fakes)', () => {
  it("answers the plan Flink built for the job's program, its JAR fetched from the data-processor and uploaded", async () => {
    const t = setup();
    const check = await t.validate.job(t.job.id);
    expect(t.fetched).to.deep.equal(['http://dp:8080/app.jar']);
    expect(t.flink.jars.size).to.equal(1);
    const [jarId] = [...t.flink.jars];
    expect(check).to.deep.equal({
      cluster: 'default',
      jarId,
      plan: {
        name: 'Main',
        operators: [
          { id: 'a1', description: 'Source: numbers', parallelism: 3 },
          { id: 'b2', description: 'Sink: print', parallelism: 3 },
        ],
        maxParallelism: 128,
      },
    });
    expect(t.flink.plans).to.deep.equal([
      { jarId, entryClass: 'com.example.Main', programArgs: ['--a', 'x', '--b', '2'], parallelism: 3 },
    ]);
    expect(t.flink.runs).to.deep.equal([]); // planned, never run
  });

  it("Flink's reason for refusing the program is ValidationFailedOnFlink, with the reason as its message", async () => {
    const t = setup();
    t.flink.plan = () => Promise.reject(new PermanentFailure(MISSING_CLASS));
    const error = await failure(t.validate.job(t.job.id));
    expect(error).to.be.instanceOf(ValidationFailedOnFlink);
    expect(error).to.include({ code: 'validation_failed_on_flink', message: MISSING_CLASS });
    expect((error as ValidationFailedOnFlink).details).to.deep.equal({ cluster: 'default', stage: 'plan' });
  });

  it('a JAR the data-processor refuses (404) fails the check too, at the jar stage', async () => {
    const t = setup(failingSource(new PermanentFailure('JAR download failed: 404 Not Found.')));
    const error = await failure(t.validate.job(t.job.id));
    expect(error).to.be.instanceOf(ValidationFailedOnFlink);
    expect((error as ValidationFailedOnFlink).details).to.deep.equal({ cluster: 'default', stage: 'jar' });
    expect(t.flink.plans).to.deep.equal([]);
  });

  it('uploads the JAR once: a second check reuses it (the jar registry)', async () => {
    const t = setup();
    let uploads = 0;
    const upload = t.flink.uploadJar.bind(t.flink);
    t.flink.uploadJar = () => (uploads++, upload());
    const first = await t.validate.job(t.job.id);
    const second = await t.validate.job(t.job.id);
    expect(uploads).to.equal(1);
    expect(second.jarId).to.equal(first.jarId);
    expect(t.registry.jars.get('default c0ffee')).to.equal(first.jarId);
  });

  it('Flink unreachable: DependencyUnavailable naming flink, whether on upload or on plan', async () => {
    const t = setup();
    t.flink.uploadJar = () =>
      Promise.reject(new TransientFailure('Flink at http://jm:8081 is unreachable (ECONNREFUSED).'));
    const onUpload = await failure(t.validate.job(t.job.id));
    expect(onUpload).to.be.instanceOf(DependencyUnavailable);
    expect(onUpload).to.include({ code: 'dependency_unavailable', dependency: 'flink' });

    const u = setup();
    u.flink.plan = () => Promise.reject(new TransientFailure('Flink at http://jm:8081 took too long.'));
    expect(await failure(u.validate.job(u.job.id))).to.include({ dependency: 'flink' });
  });

  it('the data-processor unreachable: DependencyUnavailable naming it', async () => {
    const t = setup(
      failingSource(new TransientFailure('JAR download from http://dp:8080/app.jar failed: ECONNREFUSED.')),
    );
    const error = await failure(t.validate.job(t.job.id));
    expect(error).to.be.instanceOf(DependencyUnavailable);
    expect(error).to.include({ dependency: 'data-processor' });
  });

  it('an unknown job is JobNotFound; a definition naming no cluster is UnknownCluster', async () => {
    const t = setup();
    expect(await failure(t.validate.job('4a0bd3f8-6f0c-4b5e-9a55-0d4b0f9e7a11'))).to.be.instanceOf(JobNotFound);
    const definition = { jarUrl: 'app.jar', entryClass: null, config: {}, parallelism: null, cluster: 'nowhere' };
    expect(await failure(t.validate.definition(definition))).to.be.instanceOf(UnknownCluster);
  });

  describe('before a save (ManageJobs with a check)', () => {
    const newJob = {
      name: 'checked',
      jarUrl: 'app.jar',
      entryClass: 'org.example.DoesNotExist',
      config: {},
      parallelism: null,
      enabled: true,
      cluster: 'default',
      admission: 'slots' as const,
    };

    it('a create that fails the check saves nothing; one that passes is saved', async () => {
      const t = setup();
      t.flink.plan = () => Promise.reject(new PermanentFailure(MISSING_CLASS));
      const jobs = manageJobs(t);
      const check = (d: Parameters<ValidateOnFlink['definition']>[0]) => t.validate.definition(d);
      expect(await failure(jobs.create(newJob, undefined, { check }))).to.be.instanceOf(ValidationFailedOnFlink);
      expect([...t.jobs.rows.values()].map((j) => j.name)).not.to.include('checked');
      t.flink.plan = () => Promise.resolve({ name: 'ok', operators: [], maxParallelism: null });
      const created = await jobs.create({ ...newJob, entryClass: 'com.example.Main' }, undefined, { check });
      expect(t.jobs.rows.get(created.id)?.entryClass).to.equal('com.example.Main');
    });

    it('an update checks the job merged with the changes, and a refusal leaves the job as it was', async () => {
      const t = setup();
      const jobs = manageJobs(t);
      const checked: unknown[] = [];
      const check = (d: Parameters<ValidateOnFlink['definition']>[0]) => (checked.push(d), t.validate.definition(d));
      t.flink.plan = () => Promise.reject(new PermanentFailure(MISSING_CLASS));
      const error = await failure(
        jobs.update(t.job.id, { entryClass: 'org.example.DoesNotExist' }, undefined, undefined, { check }),
      );
      expect(error).to.be.instanceOf(ValidationFailedOnFlink);
      expect(checked[0]).to.deep.include({ jarUrl: 'app.jar', entryClass: 'org.example.DoesNotExist', parallelism: 3 });
      expect(t.jobs.rows.get(t.job.id)).to.deep.include({ entryClass: 'com.example.Main', version: 1 });
      // A stale version is refused before Flink is asked.
      const stale = await failure(jobs.update(t.job.id, { parallelism: 1 }, undefined, 7, { check }));
      expect(stale).to.be.instanceOf(JobModified);
      expect(checked).to.have.length(1);
    });
  });
});
