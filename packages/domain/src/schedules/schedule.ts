export const OVERLAP_POLICIES = ['skip', 'allow', 'replace'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** How `overlap: replace` ends the running execution: stop with a savepoint the new one restores from, or cancel. */
export const REPLACE_MODES = ['savepoint', 'cancel'] as const;
export type ReplaceMode = (typeof REPLACE_MODES)[number];
export const DEFAULT_REPLACE_MODE: ReplaceMode = 'cancel';

/** A check of the job on its cluster before one tick: did Flink accept the program? */
export interface PreflightCheck {
  /** The tick it was for. */
  scheduledFor: Date;
  checkedAt: Date;
  ok: boolean;
  /** Why it failed (Flink's reason, or the dependency out of reach); null when it passed. */
  message: string | null;
}

export interface Schedule {
  cron: string;
  timezone: string;
  overlap: OverlapPolicy;
  /** Set exactly when `overlap` is `replace`. */
  replace: ReplaceMode | null;
  startAt: Date | null;
  endAt: Date | null;
  lastRunAt: Date | null;
  /** Check the job this many minutes before each tick; null: no check. */
  preflightMinutes: number | null;
  /** The latest check, whichever tick it was for. */
  preflight: PreflightCheck | null;
}

/** `replace` may be left out: `overlap: replace` then means `cancel`. */
export type ScheduleInput = Omit<Schedule, 'lastRunAt' | 'replace' | 'preflightMinutes' | 'preflight'> & {
  replace?: ReplaceMode | null;
  preflightMinutes?: number | null;
};

/** The replace mode a schedule stores: the default for `replace`, none for the other policies. */
export function replaceModeOf(schedule: Pick<ScheduleInput, 'overlap' | 'replace'>): ReplaceMode | null {
  return schedule.overlap === 'replace' ? (schedule.replace ?? DEFAULT_REPLACE_MODE) : null;
}
