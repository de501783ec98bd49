import { JobNotFound } from '../errors';
import type { Job, JobChanges, NewJob } from '../job';
import type { JobRepository, PageRequest } from '../ports/job-repository';
import type { ScheduleInput } from '../schedule';
import type { ManageSchedules } from './manage-schedules';

/** Creating, reading, changing and deleting job definitions. */
export class ManageJobs {
  constructor(
    private readonly jobs: JobRepository,
    private readonly schedules: ManageSchedules,
  ) {}

  async create(job: NewJob, schedule?: ScheduleInput): Promise<Job> {
    if (schedule) this.schedules.validate(schedule);
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
   * `expectedVersion`, a job changed since that version is left alone (JobModified).
   */
  async update(id: string, changes: JobChanges, schedule?: ScheduleInput, expectedVersion?: number): Promise<Job> {
    if (schedule) this.schedules.validate(schedule);
    const updated = await this.jobs.update(id, changes, expectedVersion);
    if (!updated) throw new JobNotFound(id);
    if (schedule) return this.schedules.set(id, schedule);
    if (changes.enabled !== undefined) await this.schedules.syncTimer(updated);
    return updated;
  }

  async delete(id: string): Promise<void> {
    const deleted = await this.jobs.delete(id);
    if (!deleted) throw new JobNotFound(id);
    await this.schedules.dropTimer(id);
  }
}
