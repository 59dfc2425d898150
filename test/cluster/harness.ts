import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { Connection, Client as TemporalClient } from '@temporalio/client';
import { composeTemporalSettings, startTemporalServer, type TemporalServer } from '../../src/temporal/server';
import type { TemporalServerBuild } from '../../src/temporal/server-build';
import { freePort } from '../../src/temporal/dev-server';
import { openOrm, type Orm } from '../../src/db/orm';
import { textArray } from '../../src/db/sql';
import { eventually } from '../harness/wait';
import { Receiver } from '../harness/receiver';

const REPO = path.join(__dirname, '..', '..');

/** A build of Hookflow: this checkout's, or a previous release's (releases.ts). */
export interface Release {
  name: string;
  /** The `hookflow` command's script in that build. */
  cli: string;
}
export const CURRENT: Release = { name: 'current', cli: path.join(REPO, 'dist', 'src', 'cli', 'index.js') };

/** docker-compose.yml's Temporal service: the version and settings every cluster here runs with. */
export function composeTemporal() {
  const compose = parse(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true });
  return composeTemporalSettings(compose);
}

/** A `hookflow api` or `hookflow worker` process. */
export class HookflowProcess {
  private out = '';
  readonly exited: Promise<number | null>;
  constructor(
    readonly kind: 'api' | 'worker',
    readonly release: Release,
    readonly child: ChildProcess,
    readonly port: number | null,
  ) {
    child.stdout!.on('data', (d) => (this.out = (this.out + d).slice(-20_000)));
    child.stderr!.on('data', (d) => (this.out = (this.out + d).slice(-20_000)));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  output(): string {
    return this.out;
  }
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  /** SIGKILL (no shutdown of any kind), and wait until it is gone. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }
  /** SIGTERM, as an orchestrator stops a process it replaces; SIGKILL after 30 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    this.child.kill('SIGTERM');
    await this.exited;
    clearTimeout(timer);
  }
}

export interface ClusterOptions {
  apis?: number;
  workers?: number;
  release?: Release;
  /** Extra environment for every Hookflow process. */
  env?: Record<string, string>;
  /** The Temporal server serves Prometheus metrics (`cluster.temporal.metricsUrl`). */
  temporalMetrics?: boolean;
}

/**
 * One Temporal server on PostgreSQL (databases of its own in the run's PostgreSQL, set up
 * as docker-compose.yml does), a Hookflow database, `hookflow migrate`, then API and
 * worker processes apart, as production runs them.
 */
export class Cluster {
  apis: HookflowProcess[] = [];
  workers: HookflowProcess[] = [];
  readonly adminToken = `hf_admin_${randomBytes(18).toString('base64url')}`;
  private secretKey = randomBytes(32).toString('base64url');
  private constructor(
    readonly id: string,
    readonly temporal: TemporalServer,
    readonly databaseUrl: string,
    private orm: Orm,
    private extraEnv: Record<string, string>,
  ) {}

  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    const id = randomBytes(4).toString('hex');
    const pgPort = Number(process.env.HOOKFLOW_CLUSTER_PG_PORT);
    const admin = await openOrm(`postgresql://hookflow:hookflow@127.0.0.1:${pgPort}/hookflow`, 1);
    await admin.em.getConnection().execute(`create database hf_${id}`);
    await admin.close();
    const databaseUrl = `postgresql://hookflow:hookflow@127.0.0.1:${pgPort}/hf_${id}`;
    const orm = await openOrm(databaseUrl, 2);

    const { settings } = composeTemporal();
    let temporal: TemporalServer | undefined;
    try {
      temporal = await startTemporalServer({
        build: JSON.parse(process.env.HOOKFLOW_CLUSTER_BUILD!) as TemporalServerBuild,
        cli: process.env.HOOKFLOW_CLUSTER_CLI!,
        postgres: { host: '127.0.0.1', port: pgPort, user: 'hookflow', password: 'hookflow' },
        settings: { ...settings, DBNAME: `temporal_${id}`, VISIBILITY_DBNAME: `temporal_visibility_${id}` },
        logFile: path.join(process.env.HOOKFLOW_CLUSTER_TMP!, `temporal-${id}.log`),
        metrics: opts.temporalMetrics,
      });
    } catch (err) {
      await orm.close();
      throw err;
    }
    const cluster = new Cluster(id, temporal, databaseUrl, orm, opts.env ?? {});
    try {
      const release = opts.release ?? CURRENT;
      await cluster.migrate(release);
      for (let i = 0; i < (opts.workers ?? 2); i++) cluster.workers.push(await cluster.startWorker(release));
      for (let i = 0; i < (opts.apis ?? 2); i++) cluster.apis.push(await cluster.startApi(release));
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: this.databaseUrl,
      TEMPORAL_ADDRESS: this.temporal.address,
      HOOKFLOW_ADMIN_TOKEN: this.adminToken,
      HOOKFLOW_SECRET_KEY: this.secretKey,
      HOOKFLOW_ALLOWED_CIDRS: '127.0.0.0/8',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...this.extraEnv,
    };
  }

  private spawn(release: Release, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
    return spawn(process.execPath, [release.cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async migrate(release: Release = CURRENT): Promise<string> {
    const child = this.spawn(release, ['migrate'], this.env());
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`hookflow migrate (${release.name}) exited ${code}: ${out}`);
    return out;
  }

  /** `env` adds to this API's environment only (e.g. another retry schedule). */
  async startApi(
    release: Release = CURRENT,
    port?: number,
    env: Record<string, string> = {},
  ): Promise<HookflowProcess> {
    const p = port ?? (await freePort());
    const proc = new HookflowProcess(
      'api',
      release,
      this.spawn(release, ['api'], { ...this.env(), ...env, PORT: String(p) }),
      p,
    );
    await eventually(
      async () => {
        if (!proc.alive) throw new Error(`api exited: ${proc.output()}`);
        return (await fetch(`${proc.url}/api/v1/health`)).status === 204;
      },
      `hookflow api (${release.name}) on ${p}`,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    return proc;
  }

  async startWorker(release: Release = CURRENT): Promise<HookflowProcess> {
    const proc = new HookflowProcess('worker', release, this.spawn(release, ['worker'], this.env()), null);
    await eventually(
      () => {
        if (!proc.alive) throw new Error(`worker exited: ${proc.output()}`);
        return proc.output().includes('worker polling');
      },
      `hookflow worker (${release.name})`,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    return proc;
  }

  async temporalClient(): Promise<TemporalClient> {
    const connection = await Connection.connect({ address: this.temporal.address });
    return new TemporalClient({ connection, namespace: 'default' });
  }

  async api<T = any>(method: string, p: string, body?: unknown, url = this.apis[0].url): Promise<T> {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** An application with one endpoint at `url`; its signing secret for the receiver. */
  async appWithEndpoint(url: string): Promise<{ appId: string; endpointId: string; secret: string }> {
    const app = await this.api('POST', '/api/v1/app', { name: `cluster ${this.id}` });
    const ep = await this.api('POST', `/api/v1/app/${app.id}/endpoint`, { url });
    const { key } = await this.api('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}/secret`);
    return { appId: app.id, endpointId: ep.id, secret: key };
  }

  /** A query on the cluster's Hookflow database (knex-style `?` placeholders). */
  async sql<R = any>(query: string, params: unknown[] = []): Promise<R[]> {
    return this.orm.em.getConnection().execute(query, params);
  }

  /** Attempts recorded more than once (same delivery, same attempt number), and deliveries with more than one success. */
  async attemptAudit(
    msgIds: string[],
  ): Promise<{ repeated: number; doubleSuccess: number; recorded: number }> {
    const [counts] = await this.sql(
      `select count(*)::int as recorded,
              (count(*) - count(distinct (workflow_id, attempt_number)))::int as repeated
         from attempts where msg_id = any(?::text[])`,
      [textArray(msgIds)],
    );
    const [doubles] = await this.sql(
      `select count(*)::int as n from (
         select msg_id, endpoint_id from attempts where msg_id = any(?::text[]) and status = 0
          group by 1, 2 having count(*) > 1) d`,
      [textArray(msgIds)],
    );
    return { repeated: counts.repeated, doubleSuccess: doubles.n, recorded: counts.recorded };
  }

  /** What the cluster looks like, for a failing test's message: delivery states and each process's last words. */
  async diagnose(): Promise<string> {
    const states = await this.sql(
      `select state, dispatched_at is not null as dispatched, count(*)::int as n from deliveries group by 1, 2 order by 1, 2`,
    ).catch((e) => [{ error: String(e) }]);
    const procs = [...this.apis, ...this.workers].map(
      (p, i) =>
        `--- ${p.kind} ${i} (${p.release.name}, ${p.alive ? 'alive' : `exited ${p.child.exitCode ?? p.child.signalCode}`}):\n` +
        p.output().split('\n').slice(-12).join('\n'),
    );
    return [`deliveries: ${JSON.stringify(states)}`, ...procs].join('\n');
  }

  /** Runs a check; when it fails, its error carries diagnose()'s picture. */
  async explain<T>(check: Promise<T>): Promise<T> {
    try {
      return await check;
    } catch (err) {
      (err as Error).message += `\n${await this.diagnose()}`;
      throw err;
    }
  }

  async close(): Promise<void> {
    for (const p of [...this.apis, ...this.workers]) await p.stop().catch(() => undefined);
    await this.temporal.stop().catch(() => undefined);
    await this.orm.close().catch(() => undefined);
  }
}

export interface LoadResult {
  /** Message ids answered 202. */
  accepted: string[];
  /** Answers other than 202, by status. */
  statuses: Map<number, number>;
  /** Requests that got no HTTP answer (connection refused or reset). */
  noAnswer: number;
}

/**
 * Posts messages round robin across the APIs, `concurrency` at a time, until `count` were
 * sent or `until()` says stop. A request that gets no answer is not retried: only a 202
 * counts as accepted, and only accepted messages must be delivered. `progress` is the
 * result as it grows, for a test that acts in the middle of the load.
 */
export function postLoad(
  urls: () => string[],
  token: string,
  appId: string,
  opts: { count: number; concurrency?: number; until?: () => boolean; perSecond?: number },
): { progress: LoadResult; done: Promise<LoadResult> } {
  const progress: LoadResult = { accepted: [], statuses: new Map(), noAnswer: 0 };
  let next = 0;
  const started = Date.now();
  const one = async () => {
    while (next < opts.count && !opts.until?.()) {
      const n = next++;
      // A paced load stays below what the cluster delivers, so a test waits for its fault, not a backlog.
      if (opts.perSecond) await sleep(Math.max(0, started + (n * 1000) / opts.perSecond - Date.now()));
      const targets = urls();
      const url = targets[n % targets.length];
      try {
        const res = await fetch(`${url}/api/v1/app/${appId}/msg`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ eventType: 'load.tick', payload: { n } }),
        });
        const body = await res.text();
        if (res.status === 202) progress.accepted.push(JSON.parse(body).id);
        else progress.statuses.set(res.status, (progress.statuses.get(res.status) ?? 0) + 1);
      } catch {
        progress.noAnswer++;
      }
    }
  };
  const done = Promise.all(Array.from({ length: opts.concurrency ?? 8 }, one)).then(() => progress);
  return { progress, done };
}

/**
 * A cluster and a loopback receiver for the tests of one file: started before them, closed
 * after. Options may be a function, for what must be built first (a previous release).
 */
export function clusterForTests(options: ClusterOptions | (() => ClusterOptions)): {
  readonly cluster: Cluster;
  readonly receiver: Receiver;
} {
  let cluster: Cluster | undefined;
  const receiver = new Receiver();
  beforeAll(async () => {
    await receiver.listen();
    cluster = await Cluster.start(typeof options === 'function' ? options() : options);
  });
  afterAll(async () => {
    await cluster?.close();
    await receiver.close();
  });
  return {
    get cluster() {
      if (!cluster) throw new Error('the cluster is not started (beforeAll failed)');
      return cluster;
    },
    receiver,
  };
}
