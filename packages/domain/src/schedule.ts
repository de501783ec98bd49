export const OVERLAP_POLICIES = ['skip', 'allow', 'replace'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** How `overlap: replace` ends the running execution: stop with a savepoint the new one restores from, or cancel. */
export const REPLACE_MODES = ['savepoint', 'cancel'] as const;
export type ReplaceMode = (typeof REPLACE_MODES)[number];
export const DEFAULT_REPLACE_MODE: ReplaceMode = 'cancel';

export interface Schedule {
  cron: string;
  timezone: string;
  overlap: OverlapPolicy;
  /** Set exactly when `overlap` is `replace`. */
  replace: ReplaceMode | null;
  startAt: Date | null;
  endAt: Date | null;
  lastRunAt: Date | null;
}

/** `replace` may be left out: `overlap: replace` then means `cancel`. */
export type ScheduleInput = Omit<Schedule, 'lastRunAt' | 'replace'> & { replace?: ReplaceMode | null };

/** The replace mode a schedule stores: the default for `replace`, none for the other policies. */
export function replaceModeOf(schedule: Pick<ScheduleInput, 'overlap' | 'replace'>): ReplaceMode | null {
  return schedule.overlap === 'replace' ? (schedule.replace ?? DEFAULT_REPLACE_MODE) : null;
}
