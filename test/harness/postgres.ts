import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** A PostgreSQL of a test's own, which it can stop and start again (same data, same port). */
export class StoppablePostgres {
  private child: ChildProcess;
  private ready: Promise<void>;
  url = '';

  constructor(dataDir: string, port: number) {
    this.child = fork(path.join(__dirname, 'pg-child.js'), [dataDir, String(port)], { stdio: 'ignore' });
    this.ready = new Promise((resolve) => this.child.once('message', () => resolve()));
  }

  private ask(cmd: 'start' | 'stop'): Promise<{ ok: boolean; url?: string; error?: string }> {
    return new Promise((resolve) => {
      this.child.once('message', (m) => resolve(m as never));
      this.child.send(cmd);
    });
  }

  async start(): Promise<string> {
    await this.ready;
    const res = await this.ask('start');
    if (!res.ok) throw new Error(res.error);
    this.url = res.url!;
    return this.url;
  }

  async stop(): Promise<void> {
    const res = await this.ask('stop');
    if (!res.ok) throw new Error(res.error);
  }

  async close(): Promise<void> {
    await this.stop().catch(() => undefined);
    this.child.kill();
  }
}
