export const OVERLAP_POLICIES = ['skip', 'allow', 'replace'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

export interface Schedule {
  cron: string;
  timezone: string;
  overlap: OverlapPolicy;
  startAt: Date | null;
  endAt: Date | null;
  lastRunAt: Date | null;
}

export type ScheduleInput = Omit<Schedule, 'lastRunAt'>;
