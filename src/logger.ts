import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Structured JSON logs. Authorization headers, tokens and secrets are redacted by path,
 * and no code logs a request body or an endpoint secret in the first place.
 */
export function createLogger(
  level: string = process.env.LOG_LEVEL ?? 'info',
  name = 'hookflow',
  // stdout unless given: tests capture the lines to check what gets logged.
  destination?: DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        '*.token',
        '*.secret',
        '*.key',
        'token',
        'secret',
        'config.HOOKFLOW_ADMIN_TOKEN',
        'config.HOOKFLOW_SECRET_KEY',
        'config.TEMPORAL_API_KEY',
        'config.TEMPORAL_TLS_KEY',
        'config.HOOKFLOW_METRICS_TOKEN',
        'config.HOOKFLOW_OPERATIONAL_WEBHOOK_SECRET',
        // Message content never belongs in logs; these catch an accidental `log.x({ payload })`.
        'payload',
        '*.payload',
        'req.headers.cookie',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
