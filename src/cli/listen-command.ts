import { Command } from 'commander';
import { adminToken, defaultApiUrl, NO_TOKEN } from './api-client';
import { flagProblem } from './flags';
import { onSignals } from '../signals';

const say = (line: string) => process.stderr.write(`${line}\n`);

/** The `listen` subcommand of `hookflow`. */
export function listenCommand(): Command {
  return new Command('listen')
    .description(
      'a local webhook receiver: prints a line per delivery and checks its signature; with --app it is an endpoint of that application while it runs',
    )
    .option(
      '--app <id|uid>',
      'create an endpoint of this application pointing here, and verify with its secret',
    )
    .option('--api <url>', 'Hookflow API, with --app (default HOOKFLOW_URL, else http://localhost:8080)')
    .option(
      '--token <token>',
      'admin token, with --app (default HOOKFLOW_ADMIN_TOKEN, else .hookflow/admin-token)',
    )
    .option(
      '--keep',
      'with --app: keep the endpoint it created when it exits (with --port, so that the next run finds it)',
    )
    .option(
      '--endpoint-url <url>',
      'with --app: the URL Hookflow delivers to, when not this address (a tunnel)',
    )
    .option('-p, --port <port>', 'port to listen on (default 4000; with --app any free one)')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option(
      '-s, --secret <secret>',
      "without --app: the endpoint's signing secret (whsec_…), to verify signatures",
    )
    .option('--status <code>', 'HTTP status to answer with (try 500 to see retries)', '200')
    .option('-v, --verbose', 'print the headers and the body of each delivery too')
    .action(async (raw: Record<string, unknown>) => {
      const { listenOptions, startListener, printToStdout } = await import('./listen');
      const parsed = listenOptions.safeParse(raw);
      if (!parsed.success) throw new Error(flagProblem(parsed.error));
      const opts = parsed.data;
      const token = opts.app ? adminToken(opts.token) : undefined;
      if (opts.app && !token) throw new Error(NO_TOKEN);

      const listener = await startListener(opts, printToStdout, { hold: !!opts.app });
      if (!opts.app) {
        say(
          `listening on ${listener.url}: point an endpoint at it${opts.secret ? '' : ' (or use --app <app> to have one made, with signatures checked)'}`,
        );
        return onSignals(() => listener.close(), { whenOrphaned: true });
      }

      const { attach } = await import('./listen-app');
      const endpoint = await attach(
        { url: opts.api ?? defaultApiUrl(), token },
        opts.app,
        opts.endpointUrl ?? listener.url,
        say,
      ).catch(async (err: Error) => {
        await listener.close();
        throw err;
      });
      listener.ready({ secret: endpoint.secret, describe: endpoint.describe });
      const fate = !endpoint.created
        ? 'which already pointed here (left as it is on exit)'
        : opts.keep
          ? 'made for this run (kept on exit)'
          : 'made for this run (deleted on exit; --keep keeps it)';
      say(
        `listening on ${listener.url} as endpoint ${endpoint.endpointId} of ${opts.app}, ${fate}; signatures are checked with its secret`,
      );
      onSignals(
        async () => {
          await listener.close();
          try {
            say(await endpoint.detach(opts.keep));
          } catch (err) {
            say(`hookflow: ${(err as Error).message}`);
            throw err;
          }
        },
        { whenOrphaned: true },
      );
    });
}
