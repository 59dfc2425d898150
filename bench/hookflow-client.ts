import { Pool } from 'undici';
import { generateSecret } from '../src/domain/signing';
import { SecretBox } from '../src/domain/crypto';
import { newId } from '../src/ids';
import { openOrm } from '../src/db/orm';
import type { Stack } from './stack';

export interface BenchApp {
  id: string;
  endpoints: Array<{ id: string; path: string; secret: string }>;
}

/**
 * Talks to the running API as a customer would. Apps and endpoints are created through
 * POST /api/v1/app and /endpoint; where those routes are not there yet (they answer 404),
 * the rows are written to PostgreSQL the way test/harness/seed.ts does.
 */
export class HookflowClient {
  readonly pool: Pool;
  private useSql: boolean | null = null;

  constructor(
    private readonly stack: Stack,
    private readonly receiverUrl: string,
    connections: number,
  ) {
    this.pool = new Pool(stack.apiUrl, { connections, keepAliveTimeout: 30_000 });
  }

  private async call(
    method: 'POST' | 'GET' | 'PATCH',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: any }> {
    const res = await this.pool.request({
      method,
      path,
      headers: { authorization: `Bearer ${this.stack.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, json: text ? JSON.parse(text) : null };
  }

  get setupVia(): 'api' | 'sql' {
    return this.useSql ? 'sql' : 'api';
  }

  /** An application with `count` endpoints at `<receiver>/<scope>/ep<k>`. */
  async createApp(scope: string, count: number): Promise<BenchApp> {
    const endpoints = Array.from({ length: count }, (_, k) => ({
      path: `/${scope}/ep${k}`,
      secret: generateSecret(),
      id: '',
    }));
    if (this.useSql !== true) {
      const app = await this.call('POST', '/api/v1/app', { name: `bench ${scope}` });
      if (app.status === 404 || app.status === 405) this.useSql = true;
      else if (app.status !== 201 && app.status !== 200)
        throw new Error(`POST /api/v1/app answered ${app.status}: ${JSON.stringify(app.json)}`);
      else {
        this.useSql = false;
        for (const ep of endpoints) {
          const res = await this.call('POST', `/api/v1/app/${app.json.id}/endpoint`, {
            url: this.receiverUrl + ep.path,
            secret: ep.secret,
          });
          if (res.status !== 201 && res.status !== 200)
            throw new Error(`POST /endpoint answered ${res.status}: ${JSON.stringify(res.json)}`);
          ep.id = res.json.id;
        }
        return { id: app.json.id, endpoints };
      }
    }
    return this.seed(scope, endpoints);
  }

  private async seed(scope: string, endpoints: BenchApp['endpoints']): Promise<BenchApp> {
    const orm = await openOrm(this.stack.databaseUrl, 2);
    const box = new SecretBox(this.stack.secretKey);
    try {
      const conn = orm.em.getConnection();
      const id = newId('app');
      await conn.execute('insert into applications (id, name, webhooks_enabled) values (?, ?, true)', [
        id,
        `bench ${scope}`,
      ]);
      for (const ep of endpoints) {
        ep.id = newId('ep');
        await conn.execute(
          `insert into endpoints (id, app_id, url, disabled, secret_enc, method) values (?, ?, ?, false, ?, 'POST')`,
          [ep.id, id, this.receiverUrl + ep.path, box.seal(ep.secret)],
        );
      }
      return { id, endpoints };
    } finally {
      await orm.close();
    }
  }

  /** POST /msg; resolves with the message id (the receiver sees it as `webhook-id`). */
  async send(appId: string, n: number): Promise<string> {
    const res = await this.call('POST', `/api/v1/app/${appId}/msg`, messageBody(n));
    if (res.status !== 202) throw new Error(`POST /msg answered ${res.status}: ${JSON.stringify(res.json)}`);
    return res.json.id;
  }

  /** Points an endpoint at another path of the receiver (PATCH /endpoint). */
  async moveEndpoint(appId: string, endpointId: string, path: string): Promise<void> {
    const res = await this.call('PATCH', `/api/v1/app/${appId}/endpoint/${endpointId}`, {
      url: this.receiverUrl + path,
    });
    if (res.status !== 200)
      throw new Error(`PATCH /endpoint answered ${res.status}: ${JSON.stringify(res.json)}`);
  }

  /** Starts a bulk replay of the application (POST /replay); resolves once it is accepted. */
  async replay(
    appId: string,
    body: { since: string; until: string; status: 'all' | 'failed' },
  ): Promise<void> {
    const res = await this.call('POST', `/api/v1/app/${appId}/replay`, body);
    if (res.status !== 202)
      throw new Error(`POST /replay answered ${res.status}: ${JSON.stringify(res.json)}`);
  }

  async countMessages(appId: string): Promise<number> {
    const orm = await openOrm(this.stack.databaseUrl, 1);
    try {
      const rows: Array<{ n: string }> = await orm.em
        .getConnection()
        .execute('select count(*) as n from messages where app_id = ?', [appId]);
      return Number(rows[0].n);
    } finally {
      await orm.close();
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** A small, typical event (~250 bytes). */
export function messageBody(n: number) {
  return {
    eventType: 'invoice.paid',
    payload: {
      type: 'invoice.paid',
      n,
      invoice: {
        id: `inv_${n}`,
        amount: 4200,
        currency: 'EUR',
        customer: { id: 'cus_123', email: 'a@example.com' },
      },
    },
  };
}
