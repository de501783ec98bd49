/**
 * Flink answers errors as `{"errors": [...]}` whose texts are often whole Java stack
 * traces (docs/flink-rest.md). These helpers pull out the lines a person needs.
 */

const NOISE = /^(at |\.\.\. \d+ more|<Exception on server side:|End of exception on server side>)/;
const WRAPPER =
  /^(?:org\.apache\.flink\.runtime\.rest\.handler\.RestHandlerException|java\.util\.concurrent\.CompletionException|org\.apache\.flink\.util\.FlinkRuntimeException): /;

/** "Could not execute application. Cause: java.lang.ClassNotFoundException: com.example.Nope" */
export function summarizeFlinkErrors(errors: readonly string[]): string {
  const lines = errors
    .join('\n')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !NOISE.test(line));
  const head = (
    lines.find((line) => !line.startsWith('Caused by: ') && line !== 'Internal server error.') ??
    lines[0] ??
    ''
  ).replace(WRAPPER, '');
  const causes = lines.filter((line) => line.startsWith('Caused by: ')).map((line) => line.slice('Caused by: '.length));
  const root = causes.at(-1);
  const summary = root && !head.includes(root) ? `${head} Cause: ${root}` : head;
  return redactPaths(summary || 'Flink gave no error text.');
}

export function isDuplicateSubmission(errors: readonly string[]): boolean {
  return errors.some((e) => /Duplicate(Job|Application)SubmissionException|has already been submitted/.test(e));
}

/** Flink's internal file paths (upload dirs, temp dirs) are not the user's business. */
export function redactPaths(text: string): string {
  return text.replace(/(?:file:)?\/(?:[\w.-]+\/)*flink-web-[\w-]+(?:\/[\w.-]+)*/g, '<flink-dir>');
}

export function errorsOf(body: unknown): string[] {
  const errors = (body as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) ? errors.map(String) : [];
}
