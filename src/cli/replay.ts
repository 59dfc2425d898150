import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { adminToken, ApiError, callApi, defaultApiUrl, describeError, NO_TOKEN } from './api-client';

/**
 * `hookflow replay`: starts a bulk replay through the HTTP API (so it works against a
 * remote Hookflow with a token), then polls its background task and shows a progress bar.
 * Exit codes: 0 finished, 1 the task failed or was cancelled, 2 the API refused the request.
 */
export interface ReplayCliOptions {
  app: string;
  since: string;
  until?: string;
  endpoint?: string[];
  status: 'failed' | 'missing' | 'all';
  eventType?: string[];
  rateLimit?: number;
  url: string;
  token?: string;
  json?: boolean;
  /** Between polls of the background task. */
  pollMs?: number;
}

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** A progress bar only on a terminal (and never with --json). */
  tty: boolean;
  /** Where the bar is drawn. */
  stream?: NodeJS.WritableStream;
  /** Set by the caller to ask for cancellation (Ctrl-C). */
  onInterrupt?(handler: () => void): void;
}

interface Task {
  id: string;
  status: 'running' | 'finished' | 'failed' | 'cancelled';
  task: string;
  updatedAt: string;
  data: { total?: number | null; matched?: number; started?: number; skipped?: number; error?: string };
}

const RELATIVE = /^(\d+)\s*(m|h|d)$/;

/** ISO 8601, or a duration back from now: `30m`, `6h`, `7d`. */
export function parseWhen(value: string, now = Date.now()): string {
  const rel = RELATIVE.exec(value.trim());
  if (rel) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'm' | 'h' | 'd'];
    return new Date(now - Number(rel[1]) * unit).toISOString();
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new Error(`not a date: "${value}" (use ISO 8601, or 30m, 6h, 7d)`);
  return new Date(t).toISOString();
}

export async function runReplay(opts: ReplayCliOptions, io: CliIo): Promise<number> {
  if (!opts.token) {
    io.err(`hookflow replay: ${NO_TOKEN}`);
    return 2;
  }
  let request: Record<string, unknown>;
  try {
    request = {
      since: parseWhen(opts.since),
      ...(opts.until ? { until: parseWhen(opts.until) } : {}),
      status: opts.status,
      ...(opts.endpoint?.length ? { endpoints: opts.endpoint } : {}),
      ...(opts.eventType?.length ? { eventTypes: opts.eventType } : {}),
      ...(opts.rateLimit ? { rateLimit: opts.rateLimit } : {}),
    };
  } catch (err) {
    io.err(`hookflow replay: ${(err as Error).message}`);
    return 2;
  }

  try {
    const started = await callApi(opts, 'POST', `/app/${encodeURIComponent(opts.app)}/replay`, request);
    if (started.status !== 202) {
      io.err(`hookflow replay: refused: ${describeError(started.status, started.body)}`);
      return 2;
    }
    const taskId: string = started.body.id;
    if (!opts.json) io.out(`replay ${taskId} started`);

    let cancelAsked = false;
    io.onInterrupt?.(() => {
      if (cancelAsked) return;
      cancelAsked = true;
      io.err('cancelling…');
      void callApi(opts, 'POST', `/background-task/${taskId}/cancel`).catch(() => undefined);
    });

    const bar =
      io.tty && !opts.json
        ? new SingleBar(
            {
              format: 'replay |{bar}| {value}/{total} {percentage}% · started {started} · skipped {skipped}',
              stream: io.stream,
              hideCursor: true,
            },
            Presets.shades_classic,
          )
        : null;
    let task: Task;
    for (;;) {
      const r = await callApi(opts, 'GET', `/background-task/${taskId}`);
      if (r.status !== 200) throw new ApiError(`reading task ${taskId}: ${describeError(r.status, r.body)}`);
      task = r.body;
      const { total, matched = 0, started: s = 0, skipped = 0 } = task.data;
      if (bar && typeof total === 'number') {
        if (!bar.isActive) bar.start(Math.max(total, 1), 0, { started: 0, skipped: 0 });
        bar.setTotal(Math.max(total, matched, 1));
        bar.update(matched, { started: s, skipped });
      }
      if (task.status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 1000));
    }
    bar?.stop();

    const d = task.data;
    if (opts.json) io.out(JSON.stringify(task));
    else
      io.out(
        `replay ${task.id} ${task.status}: ${d.matched ?? 0} matched of ${d.total ?? 0}, ${d.started ?? 0} started, ${d.skipped ?? 0} skipped${d.error ? ` (${d.error})` : ''}`,
      );
    return task.status === 'finished' ? 0 : 1;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    io.err(`hookflow replay: ${err.message}`);
    return 1;
  }
}

const collect = (value: string, previous: string[] = []) => [
  ...previous,
  ...value.split(',').filter(Boolean),
];

/** The `replay` subcommand of `hookflow`. */
export function replayCommand(exit: (code: number) => void = (code) => process.exit(code)): Command {
  return new Command('replay')
    .description('replay deliveries of an application over a time window, with a progress bar')
    .requiredOption('--app <id|uid>', 'application id or uid')
    .requiredOption('--since <when>', 'start of the window: ISO 8601, or 30m, 6h, 7d back from now')
    .option('--until <when>', 'end of the window (default now)')
    .option('--endpoint <ep_…>', 'only these endpoints (repeat or comma-separate)', collect)
    .addOption(
      new Option('--status <status>', 'failed deliveries, missing ones, or all')
        .choices(['failed', 'missing', 'all'])
        .default('failed'),
    )
    .option('--event-type <type>', 'only these event types (repeat or comma-separate)', collect)
    .option('--rate-limit <n>', 'deliveries started per second at most', (v) => Number.parseInt(v, 10))
    .option('--url <url>', 'Hookflow API (default HOOKFLOW_URL, else http://localhost:8080)', defaultApiUrl())
    .option(
      '--token <token>',
      'admin or app token (default HOOKFLOW_ADMIN_TOKEN, else .hookflow/admin-token)',
    )
    .option('--json', 'print the final task as JSON, no progress bar')
    .action(async (opts: ReplayCliOptions) => {
      const code = await runReplay(
        { ...opts, token: adminToken(opts.token) },
        {
          out: (l) => process.stdout.write(`${l}\n`),
          err: (l) => process.stderr.write(`${l}\n`),
          tty: !!process.stderr.isTTY,
          stream: process.stderr,
          // The first Ctrl-C cancels the replay and waits for it to stop; a second one leaves at once.
          onInterrupt: (h) => {
            let pressed = false;
            process.on('SIGINT', () => (pressed ? process.exit(130) : ((pressed = true), h())));
          },
        },
      );
      exit(code);
    });
}
