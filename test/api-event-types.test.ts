import { startStack, type Stack } from './harness/stack';
import { seedApp } from './harness/seed';

/** /api/v1/event-type: the org-wide catalog, admin-written, readable by app tokens. */
describe('event types API', () => {
  let stack: Stack;
  let appToken: string;
  const db = (sql: string, args: unknown[] = []) => stack.services.orm.em.getConnection().execute(sql, args);
  const row = async (name: string) => (await db('select * from event_types where name = ?', [name]))[0];
  const count = async () => Number((await db('select count(*) n from event_types'))[0].n);
  const name = (p: string) => `${p}.${Math.random().toString(36).slice(2, 10)}`;

  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
    appToken = await stack.services.tokens.issueAppToken(await seedApp(stack.services));
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('creates and gets an event type in Svix shape with the example extension', async () => {
    const n = name('invoice.paid');
    const res = await stack.call('POST', '/api/v1/event-type', {
      name: n,
      description: 'An invoice was paid',
      schemas: { '1': { type: 'object', properties: { id: { type: 'string' } } } },
      example: { id: 'inv_1' },
      groupName: 'billing',
      featureFlag: 'beta',
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      name: n,
      description: 'An invoice was paid',
      archived: false,
      deprecated: false,
      schemas: { '1': { type: 'object', properties: { id: { type: 'string' } } } },
      featureFlag: 'beta',
      featureFlags: ['beta'],
      groupName: 'billing',
      example: { id: 'inv_1' },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(await row(n)).toMatchObject({
      description: 'An invoice was paid',
      example: { id: 'inv_1' },
      group_name: 'billing',
    });
    expect((await stack.call('GET', `/api/v1/event-type/${n}`)).body).toEqual(res.body);
  });

  it('derives the example from Svix\'s schemas["1"].examples when none is given', async () => {
    const n = name('user.created');
    const res = await stack.call('POST', '/api/v1/event-type', {
      name: n,
      description: 'x',
      schemas: { '1': { type: 'object', examples: [{ userId: 'u_1' }, { userId: 'u_2' }] } },
    });
    expect(res.body.example).toEqual({ userId: 'u_1' });
    expect((await row(n)).example).toBeNull();
  });

  it('refuses a duplicate name with 409 and un-archives an archived one on create', async () => {
    const n = name('dup');
    expect((await stack.call('POST', '/api/v1/event-type', { name: n, description: 'one' })).status).toBe(
      201,
    );
    const dup = await stack.call('POST', '/api/v1/event-type', { name: n, description: 'two' });
    expect(dup.status).toBe(409);
    expect((await row(n)).description).toBe('one');
    expect((await stack.call('DELETE', `/api/v1/event-type/${n}`)).status).toBe(204);
    expect((await row(n)).archived).toBe(true);
    const back = await stack.call('POST', '/api/v1/event-type', { name: n, description: 'three' });
    expect(back.status).toBe(201);
    expect(back.body).toMatchObject({ archived: false, description: 'three' });
  });

  it('lists by name, hides archived ones unless asked, and leaves schemas out unless with_content', async () => {
    const prefix = `list${Math.random().toString(36).slice(2, 8)}`;
    for (const s of ['a', 'b', 'c', 'd'])
      await stack.call('POST', '/api/v1/event-type', {
        name: `${prefix}.${s}`,
        description: s,
        schemas: { '1': { type: 'object' } },
      });
    await stack.call('DELETE', `/api/v1/event-type/${prefix}.b`);
    const names = async (q: string) => {
      const out: string[] = [];
      let iterator: string | null = null;
      for (;;) {
        const res: { status: number; body: any } = await stack.call(
          'GET',
          `/api/v1/event-type?limit=2&${q}${iterator ? `&iterator=${iterator}` : ''}`,
        );
        expect(res.status).toBe(200);
        out.push(...res.body.data.map((e: { name: string }) => e.name));
        if (res.body.done) return out.filter((x) => x.startsWith(prefix));
        iterator = res.body.iterator;
      }
    };
    expect(await names('')).toEqual([`${prefix}.a`, `${prefix}.c`, `${prefix}.d`]);
    expect(await names('include_archived=true')).toEqual([
      `${prefix}.a`,
      `${prefix}.b`,
      `${prefix}.c`,
      `${prefix}.d`,
    ]);
    const plain = await stack.call('GET', `/api/v1/event-type?limit=250`);
    expect(plain.body.data.find((e: { name: string }) => e.name === `${prefix}.a`).schemas).toBeNull();
    const full = await stack.call('GET', `/api/v1/event-type?limit=250&with_content=true`);
    expect(full.body.data.find((e: { name: string }) => e.name === `${prefix}.a`).schemas).toEqual({
      '1': { type: 'object' },
    });
  });

  it('PUT creates (201) or replaces (200); PATCH changes only what it is given', async () => {
    const n = name('put');
    const created = await stack.call('PUT', `/api/v1/event-type/${n}`, {
      description: 'first',
      deprecated: true,
      example: { a: 1 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: n,
      description: 'first',
      deprecated: true,
      example: { a: 1 },
    });
    const replaced = await stack.call('PUT', `/api/v1/event-type/${n}`, { description: 'second' });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ description: 'second', deprecated: false, example: null });
    const patched = await stack.call('PATCH', `/api/v1/event-type/${n}`, {
      deprecated: true,
      groupName: 'g',
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ description: 'second', deprecated: true, groupName: 'g' });
    expect(await row(n)).toMatchObject({ description: 'second', deprecated: true, group_name: 'g' });
  });

  it('DELETE archives; expunge=true deletes the row', async () => {
    const n = name('gone');
    await stack.call('POST', '/api/v1/event-type', { name: n, description: 'x' });
    expect((await stack.call('DELETE', `/api/v1/event-type/${n}`)).status).toBe(204);
    expect((await stack.call('GET', `/api/v1/event-type/${n}`)).body.archived).toBe(true);
    expect((await stack.call('DELETE', `/api/v1/event-type/${n}?expunge=true`)).status).toBe(204);
    expect(await row(n)).toBeUndefined();
    expect((await stack.call('GET', `/api/v1/event-type/${n}`)).status).toBe(404);
    expect((await stack.call('DELETE', `/api/v1/event-type/${n}`)).status).toBe(404);
  });

  it('app tokens may list and get, and get 403 on every write', async () => {
    const n = name('catalog');
    await stack.call('POST', '/api/v1/event-type', { name: n, description: 'visible' });
    expect((await stack.call('GET', `/api/v1/event-type/${n}`, undefined, appToken)).body.description).toBe(
      'visible',
    );
    const list = await stack.call('GET', '/api/v1/event-type?limit=250', undefined, appToken);
    expect(list.status).toBe(200);
    const before = await count();
    for (const [method, path, body] of [
      ['POST', '/api/v1/event-type', { name: name('sneaky'), description: 'x' }],
      ['PUT', `/api/v1/event-type/${n}`, { description: 'changed' }],
      ['PATCH', `/api/v1/event-type/${n}`, { description: 'changed' }],
      ['DELETE', `/api/v1/event-type/${n}`, undefined],
    ] as const) {
      const res = await stack.call(method, path, body, appToken);
      expect(res.status).toBe(403);
    }
    expect(await count()).toBe(before);
    expect(await row(n)).toMatchObject({ description: 'visible', archived: false });
    expect((await stack.call('GET', '/api/v1/event-type', undefined, null)).status).toBe(401);
  });

  describe('refusals write nothing', () => {
    const cases: Array<[string, unknown, Array<string | number>]> = [
      ['no name', { description: 'x' }, ['body', 'name']],
      ['no description', { name: 'x.y' }, ['body', 'description']],
      ['a name with a space', { name: 'a b', description: 'x' }, ['body', 'name']],
      ['a too long name', { name: 'n'.repeat(257), description: 'x' }, ['body', 'name']],
      ['a too long description', { name: 'x.y', description: 'd'.repeat(8193) }, ['body', 'description']],
      [
        'schemas not objects',
        { name: 'x.y', description: 'x', schemas: { '1': 'nope' } },
        ['body', 'schemas', '1'],
      ],
      ['example not an object', { name: 'x.y', description: 'x', example: [1] }, ['body', 'example']],
      ['archived not a boolean', { name: 'x.y', description: 'x', archived: 'yes' }, ['body', 'archived']],
      [
        'two feature flags',
        { name: 'x.y', description: 'x', featureFlags: ['a', 'b'] },
        ['body', 'featureFlags'],
      ],
      ['an unknown field', { name: 'x.y', description: 'x', colour: 'red' }, ['body']],
    ];
    it.each(cases)('POST with %s is a 422 naming the field', async (_what, body, loc) => {
      const before = await count();
      const res = await stack.call('POST', '/api/v1/event-type', body);
      expect(res.status).toBe(422);
      expect(res.body.detail[0].loc.slice(0, loc.length)).toEqual(loc);
      expect(await count()).toBe(before);
    });

    it('PATCH with a bad field changes nothing; a bad name in the path is a 422', async () => {
      const n = name('stable');
      await stack.call('POST', '/api/v1/event-type', { name: n, description: 'same' });
      expect((await stack.call('PATCH', `/api/v1/event-type/${n}`, { description: 5 })).status).toBe(422);
      expect((await stack.call('PUT', `/api/v1/event-type/${n}`, { deprecated: true })).status).toBe(422);
      expect(await row(n)).toMatchObject({ description: 'same', deprecated: false });
      expect((await stack.call('GET', '/api/v1/event-type/bad%20name')).status).toBe(422);
      expect((await stack.call('PUT', '/api/v1/event-type/bad%20name', { description: 'x' })).status).toBe(
        422,
      );
      expect(await row('bad name')).toBeUndefined();
    });

    it('malformed JSON is a 400', async () => {
      const before = await count();
      const res = await stack.call('POST', '/api/v1/event-type', '{"name":', undefined, {
        'content-type': 'application/json',
      });
      expect(res.status).toBe(400);
      expect(await count()).toBe(before);
    });

    it.each(['limit=0', 'limit=251', 'iterator=bad%20one', 'include_archived=maybe', 'with_content=1'])(
      'bad query %s is a 422',
      async (q) => {
        const res = await stack.call('GET', `/api/v1/event-type?${q}`);
        expect(res.status).toBe(422);
        expect(res.body.detail[0].loc[0]).toBe('query');
      },
    );
  });
});
