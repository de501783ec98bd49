import pino, { type Logger } from 'pino';

/** Credentials in URLs (postgres://user:secret@host) are masked wherever they appear. */
export function redactUrl(value: string): string {
  return value.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
}

export function createLogger(
  options: { level: string; name: string },
  /** Where the lines go (tests); stdout otherwise. */
  destination?: pino.DestinationStream,
): Logger {
  const pretty = !destination && process.stdout.isTTY && process.env.NODE_ENV !== 'production';
  const settings: pino.LoggerOptions = {
    name: options.name,
    level: options.level,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        '*.password',
        '*.token',
        // Cluster credentials (write-only in the API) and the Authorization header a Flink
        // client sends with them, wherever an error carries its request config.
        'auth',
        '*.auth',
        'config.headers.Authorization',
        '*.config.headers.Authorization',
        'err.cause.config.headers.Authorization',
        '*.headers.Authorization',
        'headers.Authorization',
        'config.databaseUrl',
        'config.redisUrl',
      ],
      censor: '***',
    },
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      logMethod(args, method) {
        // Strings (messages and error texts) can carry URLs with passwords.
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactUrl(a) : a)) as Parameters<typeof method>);
      },
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  };
  return destination ? pino(settings, destination) : pino(settings);
}

export type { Logger } from 'pino';
