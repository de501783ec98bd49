/**
 * Every error text the double answers with, in one place (docs/flink-rest.md; Flink's
 * AbstractHandler.handleException): a RestHandlerException (or its subclass NotFoundException)
 * is answered with its whole stringified stack trace in errors[0]; any other exception with
 * "Internal server error." and the trace wrapped in errors[1]. Clients match on substrings, so
 * the headlines and "Caused by:" lines are Flink's real texts; the frames are a short fixed sample.
 */
const FRAMES = [
  '\tat org.apache.flink.runtime.rest.handler.AbstractRestHandler.respondToRequest(AbstractRestHandler.java:83)',
  '\tat org.apache.flink.runtime.rest.handler.AbstractHandler.respondAsLeader(AbstractHandler.java:196)',
  '\tat java.base/java.util.concurrent.CompletableFuture.uniHandle(CompletableFuture.java:934)',
];

const REST_HANDLER = 'org.apache.flink.runtime.rest.handler.RestHandlerException';
const NOT_FOUND = 'org.apache.flink.runtime.rest.NotFoundException';
const JACKSON = 'org.apache.flink.shaded.jackson2.com.fasterxml.jackson';
const COMPLETION = 'java.util.concurrent.CompletionException';
const PROGRAM_INVOCATION = 'org.apache.flink.client.program.ProgramInvocationException';

export type ErrorBody = { errors: string[] };

/** What Java's printStackTrace writes: the headline, frames, then each cause. */
export function stackText(headline: string, causes: readonly string[] = []): string {
  return [headline, ...FRAMES, ...causes.flatMap((c) => [`Caused by: ${c}`, ...FRAMES.slice(1), '\t... 12 more'])].join(
    '\n',
  );
}

export function restHandlerError(message: string, causes: readonly string[] = []): ErrorBody {
  return { errors: [stackText(`${REST_HANDLER}: ${message}`, causes)] };
}

export function notFoundError(message: string, causes: readonly string[] = []): ErrorBody {
  return { errors: [stackText(`${NOT_FOUND}: ${message}`, causes)] };
}

export function internalError(exception: string, causes: readonly string[] = []): ErrorBody {
  return {
    errors: [
      'Internal server error.',
      `<Exception on server side:\n${stackText(exception, causes)}\nEnd of exception on server side>`,
    ],
  };
}

/** A handler of the double threw: answered like any unexpected exception in Flink. */
export function unexpectedError(message: string): ErrorBody {
  return internalError(`java.lang.RuntimeException: ${message}`);
}

/** LeaderRetrievalHandler's plain (not stack-trace) 503 answer while no leader is known. */
export const LEADER_ELECTION_ERROR: ErrorBody = {
  errors: ['Service temporarily unavailable due to an ongoing leader election. Please refresh.'],
};

/** The router's plain 404 for a path no handler serves. */
export function routeNotFoundError(uri: string): ErrorBody {
  return { errors: [`Not found: ${uri}`] };
}

/** A path or query parameter that could not be converted (HandlerRequest). */
export function parameterError(kind: 'path' | 'query', key: string, value: string): ErrorBody {
  const problem = `Cannot resolve ${kind} parameter (${key}) from value "${value}".`;
  return restHandlerError(`Bad request, could not parse parameters: ${problem}`, [
    `org.apache.flink.runtime.rest.handler.HandlerRequestException: ${problem}`,
  ]);
}

// --- request bodies: the Jackson problems behind 400 "Request did not match expected format" ---

/** A JSON body that Jackson could not map onto the handler's request class. */
export function bodyFormatError(requestClass: string, jacksonProblem: string): ErrorBody {
  const simpleName = requestClass.split('.').pop() ?? requestClass;
  return restHandlerError(`Request did not match expected format ${simpleName}.`, [`${JACKSON}.${jacksonProblem}`]);
}

/** How Jackson names the JSON value it could not use. */
function jacksonKind(value: unknown): string {
  if (Array.isArray(value)) return 'Array value (token `JsonToken.START_ARRAY`)';
  if (typeof value === 'object') return 'Object value (token `JsonToken.START_OBJECT`)';
  if (typeof value === 'string') return `String "${value}"`;
  return `${typeof value} value`;
}

export function jsonParseProblem(parserMessage: string): string {
  return `core.JsonParseException: ${parserMessage}`;
}

export function notAnObjectProblem(requestClass: string, value: unknown): string {
  return `databind.exc.MismatchedInputException: Cannot construct instance of \`${requestClass}\` from ${jacksonKind(value)}`;
}

export function fieldTypeProblem(requestClass: string, key: string, value: unknown, javaType: string): string {
  return (
    `databind.exc.MismatchedInputException: Cannot deserialize value of type \`${javaType}\` from ` +
    `${jacksonKind(value)} (through reference chain: ${requestClass}["${key}"])`
  );
}

export function hexIdProblem(requestClass: string, key: string, value: unknown, what: 'JobID' | 'TriggerId'): string {
  return (
    `databind.JsonMappingException: Cannot parse ${what} from "${String(value)}". The expected format is ` +
    `[0-9a-fA-F]{32}, e.g. fd72014d4c864993a2e5a9287b4a9c5d. (through reference chain: ${requestClass}["${key}"])`
  );
}

export function enumProblem(enumClass: string, value: string, values: readonly string[]): string {
  return (
    `databind.exc.InvalidFormatException: Cannot deserialize value of type \`${enumClass}\` from String "${value}": ` +
    `not one of the values accepted for Enum class: [${values.join(', ')}]`
  );
}

// --- jars: FileUploadHandler, JarDeleteHandler, JarRunHandler ---

/** FileUploadHandler answers this one itself: a plain message, no stack trace. */
export function uploadAttributeError(field: string): ErrorBody {
  return { errors: [`Received unknown attribute ${field}.`] };
}

export function multipartError(parserMessage: string): ErrorBody {
  return restHandlerError(`Could not parse the multipart upload: ${parserMessage}`);
}

export function uploadFileCountError(received: number): ErrorBody {
  return restHandlerError(`Exactly 1 file must be sent, received ${received}.`);
}

export const NOT_A_JAR_ERROR = restHandlerError('Only Jar files are allowed.');

export function jarDeleteMissingError(jarId: string, uploadDir: string): ErrorBody {
  return restHandlerError(`File ${jarId} does not exist in ${uploadDir}.`);
}

/** Thrown synchronously inside a CompletionException, so the generic 500 (docs/flink-rest.md). */
export function jarRunMissingError(jarPath: string): ErrorBody {
  const missing = `${REST_HANDLER}: Jar file ${jarPath} does not exist`;
  return internalError(`${COMPLETION}: ${missing}`, [missing]);
}

export const CONFUSING_ARGS_ERROR = restHandlerError(
  'Confusing request: programArgs and programArgsList are specified, please, use only programArgsList',
);

/** The cause chain JarRunHandler gives when the application fails (400). */
export function applicationError(causes: string[]): ErrorBody {
  return restHandlerError('Could not execute application.', [
    `${COMPLETION}: org.apache.flink.util.FlinkRuntimeException: Could not execute application.`,
    'org.apache.flink.util.FlinkRuntimeException: Could not execute application.',
    ...causes,
  ]);
}

/** A wrong entry class: PackagedProgram fails synchronously, so the generic 500. */
export function missingClassError(className: string): ErrorBody {
  const notFound = `${PROGRAM_INVOCATION}: The program's entry point class '${className}' was not found in the jar file.`;
  return internalError(`${COMPLETION}: ${notFound}`, [notFound, `java.lang.ClassNotFoundException: ${className}`]);
}

export const MAIN_THREW_ERROR = applicationError([
  `${PROGRAM_INVOCATION}: The main method caused an error: Simulated exception in main()`,
  'java.lang.IllegalArgumentException: Simulated exception in main()',
]);

/** 2.3+: Dispatcher.submitApplication refuses the ApplicationID (= JobID) first. */
export const DUPLICATE_APPLICATION_ERROR = applicationError([
  'org.apache.flink.runtime.dispatcher.DuplicateApplicationSubmissionException: Application has already been submitted.',
]);

export function duplicateJobError(jobName: string): ErrorBody {
  return applicationError([
    `${PROGRAM_INVOCATION}: The main method caused an error: Failed to execute job '${jobName}'.`,
    `org.apache.flink.util.FlinkException: Failed to execute job '${jobName}'.`,
    'org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted.',
  ]);
}

// --- POST /jars/:jarid/plan: JarPlanHandler builds the plan inside a future ---
// Seen on 1.20.5 and 2.3.0: every failure is the generic 500. A missing jar and a missing
// entry class come wrapped in the future's CompletionException; a main() that throws is the
// ProgramInvocationException itself.

export function jarPlanMissingError(jarPath: string): ErrorBody {
  const cause = `org.apache.flink.runtime.rest.handler.RestHandlerException: Jar file ${jarPath} does not exist`;
  return internalError(`${COMPLETION}: ${cause}`, [cause]);
}

export function planMissingClassError(className: string): ErrorBody {
  const cause = `${PROGRAM_INVOCATION}: The program's entry point class '${className}' was not found in the jar file.`;
  return internalError(`${COMPLETION}: ${cause}`, [cause, `java.lang.ClassNotFoundException: ${className}`]);
}

export const PLAN_MAIN_THREW_ERROR = internalError(
  `${PROGRAM_INVOCATION}: The main method caused an error: Simulated exception in main()`,
  ['java.lang.IllegalArgumentException: Simulated exception in main()'],
);

// --- jobs ---

/** The Dispatcher's answer for a job it does not know (any more). */
export function jobNotFoundCause(jobId: string): string {
  return `org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job (${jobId})`;
}

/** The 404 of AbstractExecutionGraphHandler for an unknown or expired job. */
export function jobNotFoundError(jobId: string): ErrorBody {
  return notFoundError(`Job ${jobId} not found`, [jobNotFoundCause(jobId)]);
}

/**
 * GET /jobs/:jobid/status of an unknown job: JobStatusHandler passes the Dispatcher's
 * FlinkJobNotFoundException on unmapped, so the generic 500 (checked on 1.20.5 and 2.3.0).
 */
export function jobStatusNotFoundError(jobId: string): ErrorBody {
  return internalError(jobNotFoundCause(jobId));
}

export const STOP_MODE_REMOVED_ERROR = restHandlerError(
  'The termination mode "stop" has been removed. For an ungraceful shutdown, please use "cancel" instead. For a graceful shutdown, please use "jobs/:jobId/stop" instead.',
);

export function cancelNotFoundError(jobId: string): ErrorBody {
  return restHandlerError('Job could not be found.', [jobNotFoundCause(jobId)]);
}

export function cancelTerminalError(state: string): ErrorBody {
  return restHandlerError(
    `Job cancellation failed because the job has already reached another terminal state (${state}).`,
  );
}

export const JOB_EXCEPTION = 'org.apache.flink.runtime.JobException';

/** The root of the exception history when a job fails without restarts. */
export const RECOVERY_SUPPRESSED = `${JOB_EXCEPTION}: Recovery is suppressed by NoRestartBackoffTimeStrategy`;

/** What the "Failing" program's operator throws. */
export const OPERATOR_FAILURE = 'java.lang.IllegalStateException: Simulated failure in operator';

/** failJob()'s default cause. */
export const DEFAULT_JOB_FAILURE = 'java.lang.RuntimeException: boom';

// --- savepoints ---

export function savepointDirMissingError(configKey: string, property: string): ErrorBody {
  return restHandlerError(`Config key [${configKey}] is not set. Property [${property}] must be provided.`);
}

export function unknownTriggerError(triggerId: string, jobId: string): ErrorBody {
  return notFoundError(`There is no savepoint operation with triggerId=${triggerId} for job ${jobId}.`);
}

/** A savepoint of a job whose tasks are not all RUNNING (yet, or any more). */
export function tasksNotRunningCause(taskName: string, jobId: string): string {
  return `org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint triggering task ${taskName} (1/1) of job ${jobId} is not being executed at the moment. Aborting checkpoint. Failure reason: Not all required tasks are currently running.`;
}

/** The default failSavepoints() cause: what CheckpointCoordinator reports when a savepoint times out. */
export const SAVEPOINT_EXPIRED =
  'org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint expired before completing.';

/** Only reached if an operation completed with neither a location nor a failure. */
export const UNKNOWN_FAILURE = 'java.lang.Exception: unknown';
