import {
  appendFileSync,
  chmodSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli, devEnv, killJobs, startJob, untilReady, type Job } from './harness/launcher';
import { Receiver } from './harness/receiver';
import { eventually } from './harness/wait';

/**
 * `npm start` (`hookflow dev`, the compiled build, in its own process group) restarts
 * PostgreSQL and the Temporal dev server when they die, and deliveries carry on; a child that
 * cannot be started or restarted ends the launcher with a non-zero code and the child's own
 * last words. The children are killed for real; the receiver is on loopback.
 */
describe('npm start supervises what it starts', () => {
  const state = mkdtempSync(path.join(os.tmpdir(), 'hookflow-supervision-'));
  chmodSync(state, 0o755); // embedded PostgreSQL runs as another user under root
  const conf = path.join(state, 'postgres', 'postgresql.conf');
  const jobs: Job[] = [];
  let receiver: Receiver;
  let dev: Job;
  let api: string;
  let token: string;
  let appId: string;

  /** Starts `hookflow dev` on this test's state folder (fresh ports each time). */
  async function launch(): Promise<Job> {
    const env = await devEnv(state);
    api = `http://127.0.0.1:${env.PORT}/api/v1`;
    const job = startJob(process.execPath, [cli, 'dev'], {
      ...env,
      HOOKFLOW_RECONCILE_SECONDS: '2',
      HOOKFLOW_RETRY_SCHEDULE: '1,1,1,1,1',
    });
    jobs.push(job);
    return job;
  }

  async function call(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${api}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  /** Posts a message; it must be accepted (202), that is stored. */
  async function post(n: number): Promise<string> {
    const res = await call('POST', `/app/${appId}/msg`, { eventType: 'supervision.test', payload: { n } });
    expect(res.status).toBe(202);
    return res.body.id;
  }

  /** The pid the launcher printed for a child: when it came up, or its latest restart. */
  function pidOf(job: Job, child: string): number {
    const said = [
      ...job.out.stdout.matchAll(new RegExp(`hookflow: ${child} (?:is up|restarted) \\(pid (\\d+)`, 'g')),
    ];
    return Number(said.at(-1)![1]);
  }

  const said = (job: Job, text: string) => eventually(() => job.out.stdout.includes(text), `"${text}"`);

  async function delivered(ids: string[]): Promise<void> {
    await eventually(() => ids.every((id) => receiver.countById(id) > 0), `deliveries of ${ids.join(', ')}`, {
      timeoutMs: 150_000,
      intervalMs: 250,
    });
    for (const id of ids) expect(receiver.received.find((r) => r.id === id)?.verified).toBe(true);
  }

  beforeAll(async () => {
    receiver = await new Receiver().listen();
    dev = await launch();
    await untilReady(dev);
    token = readFileSync(path.join(state, 'admin-token'), 'utf8').trim();
    appId = (await call('POST', '/app', { name: 'supervision' })).body.id;
    const ep = await call('POST', `/app/${appId}/endpoint`, { url: receiver.url() });
    receiver.secrets = [(await call('GET', `/app/${appId}/endpoint/${ep.body.id}/secret`)).body.key];
  }, 200_000);

  afterAll(async () => {
    killJobs(jobs);
    await receiver?.close();
    rmSync(state, { recursive: true, force: true });
  });

  it('restarts a SIGKILLed Temporal dev server; messages posted before and after are delivered', async () => {
    const pid = pidOf(dev, 'Temporal dev server');
    const before = await post(1);
    process.kill(pid, 'SIGKILL');
    const during = await post(2); // stored in PostgreSQL whatever Temporal's state
    await said(dev, `hookflow: Temporal dev server died (killed by SIGKILL, pid ${pid}); restarting it in`);
    await said(dev, 'hookflow: Temporal dev server restarted (pid');
    expect(pidOf(dev, 'Temporal dev server')).not.toBe(pid);
    const after = await post(3);
    await delivered([before, during, after]);
    // What the API says is true again: Temporal answers, the worker polls.
    await eventually(async () => {
      const { body } = await call('GET', '/health/details');
      return body.temporal.status === 'up' && body.workers.status === 'up';
    }, 'health details: Temporal and workers up');
  }, 200_000);

  it('says Temporal is down while it does not answer, and still accepts messages', async () => {
    // A stopped (not killed) server: nothing to restart, and the window lasts as long as the test needs.
    const pid = pidOf(dev, 'Temporal dev server');
    process.kill(pid, 'SIGSTOP');
    try {
      const { status, body } = await call('GET', '/health/details');
      expect(status).toBe(200); // PostgreSQL answers
      expect(body).toMatchObject({
        status: 'degraded',
        postgres: { status: 'up' },
        temporal: { status: 'down' },
      });
      expect((await fetch(`${api}/health`)).status).toBe(204);
      const held = await post(10);
      process.kill(pid, 'SIGCONT');
      await delivered([held]);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(dev.out.stdout).not.toContain(`pid ${pid}); restarting`);
  }, 200_000);

  it('restarts a SIGKILLed PostgreSQL; messages posted before and after are delivered', async () => {
    const pid = pidOf(dev, 'PostgreSQL');
    expect(Number(readFileSync(path.join(state, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0])).toBe(
      pid,
    );
    const before = await post(4);
    process.kill(pid, 'SIGKILL');
    await said(dev, `hookflow: PostgreSQL died (killed by SIGKILL, pid ${pid}); restarting it in`);
    await said(dev, 'hookflow: PostgreSQL restarted (pid');
    // The pool reconnects by itself: the API takes messages again.
    await eventually(async () => (await fetch(`${api}/health`)).status === 204, 'health 204 again');
    const after = await post(5);
    await delivered([before, after]);
    // PostgreSQL's own words of that restart are in its log.
    expect(readFileSync(path.join(state, 'postgres.log'), 'utf8')).toContain(
      'database system was not properly shut down; automatic recovery in progress',
    );
  }, 200_000);

  it('stops everything on Ctrl-C, restarting nothing', async () => {
    const before = dev.out.stdout;
    process.kill(-dev.child.pid!, 'SIGINT'); // the terminal signals the whole group, children too
    expect(await dev.closed).toBe(0);
    const lines = dev.out.stdout.slice(before.length).trim().split('\n');
    expect(lines.filter((l) => l.startsWith('hookflow: '))).toEqual([
      'hookflow: stopping…',
      'hookflow: stopped',
    ]);
  }, 120_000);

  it('names the cause when PostgreSQL exits before it is ready, in its own words', async () => {
    appendFileSync(conf, "\nshared_buffers = 'a lot'\n");
    const broken = await launch();
    expect(await broken.closed).toBe(1);
    const output = broken.all();
    expect(output).toMatch(
      /hookflow: PostgreSQL exited before it was ready \(exit code 1\): .*; starting it again in/,
    );
    expect(output).toContain(
      'hookflow: could not start: PostgreSQL exited before it was ready (exit code 1)',
    );
    expect(output).toContain('invalid value for parameter "shared_buffers": "a lot"');
    expect(output).not.toContain('Cannot read properties');
    expect(broken.out.stdout.trim().split('\n').at(-1)).toBe('hookflow: stopped');
  }, 120_000);

  it('exits non-zero with the last words of a child that died and cannot be restarted', async () => {
    writeFileSync(conf, readFileSync(conf, 'utf8').replace("shared_buffers = 'a lot'", ''));
    dev = await launch();
    await untilReady(dev);
    // The Temporal dev server's database is damaged under it: no restart can open it.
    const db = path.join(state, 'temporal.db');
    writeFileSync(`${db}.damaged`, 'not a database '.repeat(1000));
    renameSync(`${db}.damaged`, db);
    for (const file of [`${db}-wal`, `${db}-shm`]) rmSync(file, { force: true });
    const pid = pidOf(dev, 'Temporal dev server');
    process.kill(pid, 'SIGKILL');

    expect(await dev.closed).toBe(1);
    const output = dev.all();
    expect(output).toContain(
      `hookflow: Temporal dev server died (killed by SIGKILL, pid ${pid}); restarting it in`,
    );
    expect(output).toMatch(
      /hookflow: Temporal dev server exited before it was ready \(exit code 1\): 5 deaths in a row, each soon after a start; not starting it again\. Its last words \(full log: .*temporal\.log\):/,
    );
    expect(output).toContain('file is not a database');
    expect(output).not.toContain('Temporal dev server restarted');
    expect(dev.out.stdout.trim().split('\n').at(-1)).toBe('hookflow: stopped');
  }, 200_000);
});
