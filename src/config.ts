import { z } from 'zod';

/** Thrown for a bad environment; the CLI prints its message as one line and exits. */
export class ConfigError extends Error {}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const seconds = z
  .string()
  .trim()
  .min(1, 'must list at least one delay')
  .transform((raw, ctx) => {
    const parts = raw.split(',').map((p) => p.trim());
    const values = parts.map(Number);
    const bad = parts.find((p, i) => p === '' || !Number.isFinite(values[i]) || values[i] < 0);
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `"${bad}" is not a non-negative number of seconds` });
      return z.NEVER;
    }
    return values;
  });

const cidrList = z
  .string()
  .transform((raw) =>
    raw
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean),
  )
  .superRefine((cidrs, ctx) => {
    // ipaddr.js is loaded lazily so the config module stays light for the CLI.
    const ipaddr = require('ipaddr.js') as typeof import('ipaddr.js');
    for (const c of cidrs) {
      try {
        ipaddr.parseCIDR(c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`);
      } catch {
        ctx.addIssue({ code: 'custom', message: `"${c}" is not an IP range (CIDR)` });
      }
    }
  });

const url = (schemes: string[]) =>
  z.url({ message: 'must be a URL' }).refine((u) => schemes.some((s) => u.startsWith(`${s}:`)), {
    message: `must start with ${schemes.join(' or ')}`,
  });

const settings = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: url(['http', 'https']).optional(),
  DATABASE_URL: url(['postgres', 'postgresql']).optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'must be host:port')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('hookflow'),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  HOOKFLOW_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  HOOKFLOW_SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  HOOKFLOW_RETRY_SCHEDULE: seconds.default([5, 300, 1800, 7200, 18000, 36000, 36000]),
  HOOKFLOW_HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  HOOKFLOW_ALLOWED_CIDRS: cidrList.default([]),
  HOOKFLOW_HTTPS_ONLY: bool.default(false),
  /**
   * Where workflow code runs: `thread`, the Temporal SDK's supported worker (a workflow thread,
   * deadlock detection, stack traces); `in-process`, on the worker's own thread without them,
   * for a little less CPU per delivery (src/temporal/in-process-workflows.ts).
   */
  HOOKFLOW_WORKFLOW_RUNNER: z
    .enum(['thread', 'in-process'], { message: 'must be thread or in-process' })
    .optional(),
  /** Deprecated alias of HOOKFLOW_WORKFLOW_RUNNER: true is `thread`, false `in-process`. */
  HOOKFLOW_WORKFLOW_GUARDS: bool.optional(),
  HOOKFLOW_OPERATIONAL_WEBHOOK_URL: url(['http', 'https']).optional(),
  HOOKFLOW_OPERATIONAL_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]{20,}$/, 'must be a whsec_ secret')
    .optional(),
  HOOKFLOW_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  HOOKFLOW_DISABLE_AFTER_DAYS: z.coerce.number().min(0).default(5),
  HOOKFLOW_API_RATE_LIMIT: z.coerce.number().int().min(0).default(0),
  HOOKFLOW_RECONCILE_SECONDS: z.coerce.number().int().min(1).default(60),
  /** Workflow starts in flight at once per API process; the rest wait in memory, then in PostgreSQL. */
  HOOKFLOW_DISPATCH_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  /** The longest an eagerly started delivery keeps its dispatch place waiting for its first attempt. */
  HOOKFLOW_DISPATCH_HOLD_MS: z.coerce.number().int().min(0).max(600_000).default(1000),
  /** Message requests in flight from which the dispatcher yields to the API (one delivery at a time); 0 never. */
  HOOKFLOW_DISPATCH_YIELD_AT: z.coerce.number().int().min(0).max(10_000).default(8),
  /** Workflows kept in the worker's cache; evicted ones are rebuilt from history when their timer fires. */
  HOOKFLOW_WORKER_CACHE: z.coerce.number().int().min(0).max(100_000).default(250),
  HOOKFLOW_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(2000).default(100),
  HOOKFLOW_RETENTION_SCHEDULE_SECONDS: z.coerce.number().int().min(1).default(3600),
  /** Bytes of each attempt's response body kept in `attempts.response`; longer ones are cut (`responseTruncated`). */
  HOOKFLOW_MAX_RESPONSE_BYTES: z.coerce.number().int().min(1).max(10_000_000).default(20_000),
  HOOKFLOW_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  HOOKFLOW_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** OpenTelemetry: traces go to this OTLP/HTTP collector (e.g. http://localhost:4318) when set. */
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http', 'https']).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('hookflow'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The settings, with the deprecated HOOKFLOW_WORKFLOW_GUARDS resolved into HOOKFLOW_WORKFLOW_RUNNER. */
export const configSchema = settings.transform((c, ctx) => {
  const runner = c.HOOKFLOW_WORKFLOW_RUNNER;
  const alias =
    c.HOOKFLOW_WORKFLOW_GUARDS === undefined
      ? undefined
      : c.HOOKFLOW_WORKFLOW_GUARDS
        ? 'thread'
        : 'in-process';
  if (runner && alias && runner !== alias) {
    ctx.addIssue({
      code: 'custom',
      path: ['HOOKFLOW_WORKFLOW_GUARDS'],
      message: `(deprecated) says ${alias} where HOOKFLOW_WORKFLOW_RUNNER says ${runner}: unset it`,
    });
    return z.NEVER;
  }
  return { ...c, HOOKFLOW_WORKFLOW_RUNNER: runner ?? alias ?? ('thread' as const) };
});

export type Config = z.infer<typeof configSchema>;

/** The settings a production process cannot run without. */
export type ReadyConfig = Config & {
  DATABASE_URL: string;
  TEMPORAL_ADDRESS: string;
  HOOKFLOW_ADMIN_TOKEN: string;
  HOOKFLOW_SECRET_KEY: string;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings are treated as unset, as shells and compose files produce them.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
  }
  return parsed.data;
}

/** Checks what the production processes need (the launcher fills these in for `npm start`). */
export function requireReady(config: Config, needs: Array<keyof ReadyConfig>): ReadyConfig {
  const missing = needs.filter((k) => config[k] === undefined);
  if (missing.length) throw new ConfigError(`Missing configuration: ${missing.join(', ')} must be set`);
  return config as ReadyConfig;
}

/**
 * The API and the worker in one process share one PostgreSQL pool: unless it is set, it is
 * twice the size of one process's (10 connections were the bottleneck of `hookflow server`).
 */
export function oneProcessDefaults(
  parts: { api: boolean; worker: boolean },
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  return parts.api && parts.worker && env.DATABASE_POOL_MAX === undefined
    ? { ...env, DATABASE_POOL_MAX: '20' }
    : env;
}
