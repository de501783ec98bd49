import type { Job, JobChanges, NewJob } from './job';
import type { PreflightCheck } from '../schedules/schedule';
import type { ScheduleInput } from '../schedules/schedule';

/** Keyset position: the last row of the previous page. */
export interface PageCursor {
  createdAt: Date;
  id: string;
}

export interface PageRequest {
  limit: number;
  after?: PageCursor;
}

export interface JobRepository {
  /** Throws JobNameTaken when the name is in use. */
  create(job: NewJob): Promise<Job>;
  get(id: string): Promise<Job | null>;
  /** Oldest first, so new jobs never shift a page a client is walking. */
  list(page: PageRequest): Promise<Job[]>;
  /**
   * Null when the job does not exist. Throws JobNameTaken, and JobModified when
   * `expectedVersion` is given and is not the job's version (checked in the same statement
   * that writes the change).
   */
  update(id: string, changes: JobChanges, expectedVersion?: number): Promise<Job | null>;
  /** Null when the job does not exist; JobModified as `update` throws it. */
  setSchedule(id: string, schedule: ScheduleInput | null, expectedVersion?: number): Promise<Job | null>;
  markScheduleRun(id: string, at: Date): Promise<void>;
  /** Keeps the check as the schedule's latest, unless one for a later tick is there already. */
  recordPreflight(id: string, check: PreflightCheck): Promise<void>;
  listScheduled(): Promise<Job[]>;
  /**
   * Deletes the job and its history. Throws ExecutionActive while one is active, and
   * JobModified when `expectedVersion` is given and is not the job's version (checked under
   * the row lock the delete holds).
   */
  delete(id: string, expectedVersion?: number): Promise<boolean>;
}
