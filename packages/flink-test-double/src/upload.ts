/** Reading POST /jars/upload like Flink's FileUploadHandler: file parts and form attributes. */
import type { IncomingMessage } from 'node:http';
import Busboy from 'busboy';

export interface UploadForm {
  files: { name: string; data: Buffer }[];
  /** The first attribute not named `request` (the only one Flink accepts). */
  unknownField: string | null;
}

/**
 * A request that is not multipart has no files: Flink lets it through to the handler, which
 * counts 0. `error` is the multipart parser's message.
 */
export function readUploadForm(req: IncomingMessage): Promise<UploadForm | { error: string }> {
  const empty: UploadForm = { files: [], unknownField: null };
  if (!(req.headers['content-type'] ?? '').startsWith('multipart/form-data')) {
    req.resume();
    return Promise.resolve(empty);
  }
  return new Promise((resolve) => {
    let parser: Busboy.Busboy;
    try {
      parser = Busboy({ headers: req.headers });
    } catch {
      req.resume(); // multipart without a boundary
      resolve(empty);
      return;
    }
    const form: UploadForm = { files: [], unknownField: null };
    parser.on('file', (_field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => form.files.push({ name: info.filename ?? '', data: Buffer.concat(chunks) }));
    });
    parser.on('field', (name) => {
      if (name !== 'request') form.unknownField ??= name;
    });
    parser.on('error', (error: Error) => resolve({ error: error.message }));
    parser.on('close', () => resolve(form));
    req.pipe(parser);
  });
}
