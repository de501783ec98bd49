/**
 * Error bodies shaped like Flink's (docs/flink-rest.md; Flink's AbstractHandler.handleException):
 * a RestHandlerException (or its subclass NotFoundException) is answered with its whole
 * stringified stack trace in errors[0]; any other exception with "Internal server error." and
 * the trace wrapped in errors[1]. Clients match on substrings, so the headlines and
 * "Caused by:" lines are Flink's real texts; the frames are a short fixed sample.
 */
const FRAMES = [
  '\tat org.apache.flink.runtime.rest.handler.AbstractRestHandler.respondToRequest(AbstractRestHandler.java:83)',
  '\tat org.apache.flink.runtime.rest.handler.AbstractHandler.respondAsLeader(AbstractHandler.java:196)',
  '\tat java.base/java.util.concurrent.CompletableFuture.uniHandle(CompletableFuture.java:934)',
];

const REST_HANDLER = 'org.apache.flink.runtime.rest.handler.RestHandlerException';
const NOT_FOUND = 'org.apache.flink.runtime.rest.NotFoundException';
const JACKSON = 'org.apache.flink.shaded.jackson2.com.fasterxml.jackson';

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

/** The Dispatcher's answer for a job it does not know (any more). */
export function jobNotFoundCause(jobId: string): string {
  return `org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job (${jobId})`;
}

/** A JSON body that Jackson could not map onto the handler's request class. */
export function bodyFormatError(requestClass: string, jacksonProblem: string): ErrorBody {
  const simpleName = requestClass.split('.').pop() ?? requestClass;
  return restHandlerError(`Request did not match expected format ${simpleName}.`, [`${JACKSON}.${jacksonProblem}`]);
}

/** A path or query parameter that could not be converted (HandlerRequest). */
export function parameterError(kind: 'path' | 'query', key: string, value: string): ErrorBody {
  const problem = `Cannot resolve ${kind} parameter (${key}) from value "${value}".`;
  return restHandlerError(`Bad request, could not parse parameters: ${problem}`, [
    `org.apache.flink.runtime.rest.handler.HandlerRequestException: ${problem}`,
  ]);
}

/** The cause chain JarRunHandler gives when the application fails (400). */
export function applicationError(causes: string[]): ErrorBody {
  return restHandlerError('Could not execute application.', [
    'java.util.concurrent.CompletionException: org.apache.flink.util.FlinkRuntimeException: Could not execute application.',
    'org.apache.flink.util.FlinkRuntimeException: Could not execute application.',
    ...causes,
  ]);
}

/** A wrong entry class: PackagedProgram fails synchronously, so the generic 500. */
export function missingClassError(className: string): ErrorBody {
  const notFound = `org.apache.flink.client.program.ProgramInvocationException: The program's entry point class '${className}' was not found in the jar file.`;
  return internalError(`java.util.concurrent.CompletionException: ${notFound}`, [
    notFound,
    `java.lang.ClassNotFoundException: ${className}`,
  ]);
}

/** LeaderRetrievalHandler's plain (not stack-trace) 503 answer while no leader is known. */
export const LEADER_ELECTION = 'Service temporarily unavailable due to an ongoing leader election. Please refresh.';
