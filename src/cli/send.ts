import { Command } from 'commander';
import { z } from 'zod';
import { adminToken, ApiError, defaultApiUrl, expectApi, NO_TOKEN, type ApiTarget } from './api-client';
import { flagProblem } from './flags';

/**
 * `hookflow send <app> <eventType> [payload]`: posts a message through the API; with
 * `--wait`, waits (bounded) until every delivery of it has settled and prints each
 * endpoint's outcome. Exit code 0 when every delivery succeeded, 1 otherwise.
 */
export const sendInput = z.object({
  app: z.string().min(1).max(256),
  eventType: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[a-zA-Z0-9\-_.]+$/, 'must contain only letters, digits, "-", "_" and "."'),
  payload: z.record(z.string(), z.unknown(), { message: 'must be a JSON object' }),
  /** The payload's text as given: what is posted, so big integers and escapes arrive unchanged. */
  payloadText: z.string().optional(),
  wait: z.boolean().default(false),
  timeout: z.coerce.number().int().min(1).max(3600).default(30),
  api: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  token: z.string().min(1),
});
export type SendInput = z.input<typeof sendInput>;

/** The payload as given: JSON text from the argument or stdin; nothing at all is `{}`. */
export function parsePayload(text: string | undefined): unknown {
  if (text === undefined || text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`the payload is not JSON: ${(err as Error).message}`);
  }
}

/** Svix's MessageStatus codes, as the attempted-destinations list gives them. */
const SETTLED = new Set(['success', 'fail']);

export interface Destination {
  id: string;
  url: string;
  statusText: 'success' | 'pending' | 'fail' | 'sending';
  nextAttempt: string | null;
}
export interface AttemptRow {
  endpointId: string;
  responseStatusCode: number;
}

/** One endpoint's outcome in a line; `attempts` are the message's, newest first. */
export function formatOutcome(dest: Destination, attempts: AttemptRow[]): string {
  const mine = attempts.filter((a) => a.endpointId === dest.id);
  const last = mine[0];
  const answer = !last
    ? 'no attempt yet'
    : last.responseStatusCode
      ? `HTTP ${last.responseStatusCode}`
      : 'no response';
  const tries = `${mine.length} attempt${mine.length === 1 ? '' : 's'}`;
  switch (dest.statusText) {
    case 'success':
      return `✔ ${dest.id} ${dest.url}: delivered, ${answer} (${tries})`;
    case 'fail':
      return `✘ ${dest.id} ${dest.url}: failed, ${answer} (${tries}, no more retries)`;
    default:
      return `… ${dest.id} ${dest.url}: ${dest.statusText}, ${answer} (${tries})${dest.nextAttempt ? `, next attempt at ${dest.nextAttempt}` : ''}`;
  }
}

export interface SendIo {
  out(line: string): void;
  err(line: string): void;
  pollMs?: number;
}

export async function runSend(input: SendInput, io: SendIo): Promise<number> {
  const opts = sendInput.parse(input);
  const target: ApiTarget = { url: opts.api, token: opts.token };
  const app = encodeURIComponent(opts.app);
  // The payload's own text, not a re-serialisation of what JSON.parse made of it.
  const body = `{"eventType":${JSON.stringify(opts.eventType)},"payload":${opts.payloadText ?? JSON.stringify(opts.payload)}}`;
  const msg = await expectApi(target, `sending to "${opts.app}"`, 202, 'POST', `/app/${app}/msg`, body);
  io.out(`sent ${msg.id} (${opts.eventType}) to ${opts.app}`);
  if (!opts.wait) return 0;

  const msgPath = `/app/${app}/msg/${encodeURIComponent(msg.id)}`;
  const deadline = Date.now() + opts.timeout * 1000;
  let dests: Destination[] = [];
  let settled = false;
  // Bounded: it ends at the deadline whatever the deliveries do.
  while (!settled && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, io.pollMs ?? 250));
    const page = await expectApi(
      target,
      'reading its deliveries',
      200,
      'GET',
      `${msgPath}/endpoint?limit=250`,
    );
    dests = page.data;
    // None yet may still become one: a listener started just now replays what it missed.
    settled = dests.length > 0 && dests.every((d) => SETTLED.has(d.statusText));
  }
  const attempts = await expectApi(
    target,
    'reading its attempts',
    200,
    'GET',
    `/app/${app}/attempt/msg/${encodeURIComponent(msg.id)}?with_content=false&limit=250`,
  );
  for (const dest of dests) io.out(formatOutcome(dest, attempts.data));
  if (!settled) {
    io.err(
      dests.length === 0
        ? `no endpoint took ${msg.id} within ${opts.timeout} s: does ${opts.app} have an enabled endpoint subscribed to ${opts.eventType}? (try: hookflow listen --app ${opts.app})`
        : `gave up waiting after ${opts.timeout} s: Hookflow goes on retrying on its schedule (see GET /api/v1${msgPath}/endpoint)`,
    );
    return 1;
  }
  return dests.every((d) => d.statusText === 'success') ? 0 : 1;
}

/** Named as arguments in a refusal; the others are flags. */
const ARGUMENTS = new Set(['app', 'eventType', 'payload']);

async function readStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The `send` subcommand of `hookflow`. */
export function sendCommand(exit: (code: number) => void = (code) => process.exit(code)): Command {
  return new Command('send')
    .description('send a message to an application (payload: the JSON argument, else stdin, else {})')
    .argument('<app>', 'application id or uid')
    .argument('<eventType>', 'event type, e.g. invoice.paid')
    .argument('[payload]', 'JSON object, e.g. \'{"id": 42}\'')
    .option('--wait', "wait until its deliveries settle and print each endpoint's outcome")
    .option('--timeout <seconds>', 'how long --wait waits at most', '30')
    .option('--api <url>', 'Hookflow API (default HOOKFLOW_URL, else http://localhost:8080)')
    .option('--token <token>', 'admin token (default HOOKFLOW_ADMIN_TOKEN, else .hookflow/admin-token)')
    .action(
      async (
        app: string,
        eventType: string,
        payloadArg: string | undefined,
        raw: Record<string, unknown>,
      ) => {
        const token = adminToken(raw.token as string | undefined);
        if (!token) throw new Error(NO_TOKEN);
        const text = payloadArg ?? (await readStdin());
        const parsed = sendInput.safeParse({
          ...raw,
          app,
          eventType,
          payload: parsePayload(text),
          payloadText: text?.trim() || undefined,
          wait: !!raw.wait,
          api: raw.api ?? defaultApiUrl(),
          token,
        });
        if (!parsed.success) {
          const { path, message } = parsed.error.issues[0];
          const where = String(path[0]);
          throw new Error(ARGUMENTS.has(where) ? `${where} ${message}` : flagProblem(parsed.error));
        }
        try {
          exit(
            await runSend(parsed.data, {
              out: (l) => process.stdout.write(`${l}\n`),
              err: (l) => process.stderr.write(`${l}\n`),
            }),
          );
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          process.stderr.write(`hookflow send: ${err.message}\n`);
          exit(1);
        }
      },
    );
}
