import { JobModified, JobNotFound } from '../shared/errors';
import type { Job, JobChanges, NewJob } from './job';
import type { JobRepository, PageRequest } from './job-repository';
import type { ScheduleInput } from '../schedules/schedule';
import type { ManageSchedules } from '../schedules/manage-schedules';
import type { JobDefinition } from '../clusters/validate-on-flink';

/**
 * Runs before a definition is saved (ValidateOnFlink's `definition`); what it throws leaves
 * everything as it was.
 */
export type DefinitionCheck = (definition: JobDefinition) => Promise<unknown>;

/** Creating, reading, changing and deleting job definitions. */
export class ManageJobs {
  constructor(
    private readonly jobs: JobRepository,
    private readonly schedules: ManageSchedules,
  ) {}

  /** With `check`, the definition is checked before anything is saved. */
  async create(job: NewJob, schedule?: ScheduleInput, options: { check?: DefinitionCheck } = {}): Promise<Job> {
    if (schedule) this.schedules.validate(schedule);
    if (options.check) await options.check(job);
    let created = await this.jobs.create(job);
    if (schedule) created = await this.schedules.set(created.id, schedule);
    return created;
  }

  async get(id: string): Promise<Job> {
    const job = await this.jobs.get(id);
    if (!job) throw new JobNotFound(id);
    return job;
  }

  list(page: PageRequest): Promise<Job[]> {
    return this.jobs.list(page);
  }

  /**
   * Absent fields keep their value. `enabled` pauses or resumes the schedule. With
   * `expectedVersion`, a job changed since that version is left alone (JobModified). With
   * `check`, the job as it would be after the change is checked first, and the change is saved
   * only while the job is still the version that was checked (JobModified otherwise).
   */
  async update(
    id: string,
    changes: JobChanges,
    schedule?: ScheduleInput,
    expectedVersion?: number,
    options: { check?: DefinitionCheck } = {},
  ): Promise<Job> {
    if (schedule) this.schedules.validate(schedule);
    let basedOn = expectedVersion;
    if (options.check) {
      const current = await this.get(id);
      if (expectedVersion !== undefined && expectedVersion !== current.version)
        throw new JobModified(id, expectedVersion, current.version);
      await options.check({ ...current, ...changes });
      basedOn = current.version;
    }
    const updated = await this.jobs.update(id, changes, basedOn);
    if (!updated) throw new JobNotFound(id);
    if (schedule) return this.schedules.set(id, schedule);
    if (changes.enabled !== undefined) await this.schedules.syncTimer(updated);
    return updated;
  }

  /** With `expectedVersion`, a job changed since that version is left alone (JobModified). */
  async delete(id: string, expectedVersion?: number): Promise<void> {
    const deleted = await this.jobs.delete(id, expectedVersion);
    if (!deleted) throw new JobNotFound(id);
    await this.schedules.dropTimer(id);
  }
}
