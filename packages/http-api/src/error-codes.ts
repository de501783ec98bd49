/**
 * Every error code the API answers, with its HTTP status. The error handler maps domain
 * errors with it, HttpProblem takes only these codes, and the OpenAPI document lists them.
 */
export const ERROR_STATUS = {
  validation_failed: 400,
  malformed_json: 400,
  /** A body the parser could not read for another reason (an aborted upload). */
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  job_not_found: 404,
  execution_not_found: 404,
  cluster_not_found: 404,
  /** The cluster's JobManager does not know the Flink job. */
  flink_job_not_found: 404,
  route_not_found: 404,
  savepoint_not_found: 404,
  upgrade_not_found: 404,
  schedule_not_found: 404,
  webhook_not_found: 404,
  /** The path exists, not with this method: `Allow` lists the ones it takes. */
  method_not_allowed: 405,
  job_name_taken: 409,
  cluster_name_taken: 409,
  cluster_in_use: 409,
  job_modified: 409,
  job_disabled: 409,
  execution_active: 409,
  /** A start inside the job's stop window, without `force`. */
  in_stop_window: 409,
  no_active_execution: 409,
  no_savepoint: 409,
  concurrent_modification: 409,
  /** The job has no RUNNING execution: no Flink job to take a savepoint of. */
  no_running_execution: 409,
  /** Never disposed of: the job's newest savepoint, or one an active execution restored from. */
  savepoint_in_use: 409,
  /** Not COMPLETED, or disposed of: nothing to restore from or dispose of. */
  savepoint_not_usable: 409,
  /** One upgrade at a time per job. */
  upgrade_in_progress: 409,
  /** The Flink job belongs to an active execution: it is stopped through its job. */
  flink_job_managed: 409,
  /** The Flink job has ended already: nothing to cancel. */
  flink_job_ended: 409,
  /** If-Match names a version the job is no longer at: nothing was changed. */
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** Flink refused the program: its JAR could not be fetched or uploaded, or its plan not built (the message is Flink's reason). */
  validation_failed_on_flink: 422,
  internal_error: 500,
  dependency_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_STATUS, code);
