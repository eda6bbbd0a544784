// The admin HTTP server over real HTTP on an ephemeral loopback port, backed by FakeSource.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAdminServer, type AdminServer } from '../../../src/admin/server.js';
import { FakeSource } from './fake-source.js';

const ADMIN = 'Basic ' + Buffer.from('admin:secret').toString('base64');
const WATCHER = 'Basic ' + Buffer.from('watcher:look').toString('base64');
const APP = 'Basic ' + Buffer.from('app:app').toString('base64');

describe('admin HTTP server', () => {
  let server: AdminServer;
  let source: FakeSource;
  let base: string;

  before(async () => {
    source = new FakeSource();
    server = await startAdminServer({ port: 0, host: '127.0.0.1', source });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(async () => { await server.close(); });

  const req = (path: string, init: { method?: string; auth?: string; body?: unknown; rawBody?: string } = {}) =>
    fetch(base + path, {
      method: init.method ?? 'GET',
      headers: { ...(init.auth ? { authorization: init.auth } : {}), 'content-type': 'application/json' },
      ...(init.rawBody !== undefined ? { body: init.rawBody } : init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });

  test('healthz is always 200; readyz follows isReady()', async () => {
    assert.equal((await req('/healthz')).status, 200);
    source.ready = true;
    assert.equal((await req('/readyz')).status, 200);
    source.ready = false;
    const r = await req('/readyz');
    assert.equal(r.status, 503);
    assert.equal(await r.text(), 'not ready\n');
    source.ready = true;
  });

  test('metrics: broker stats pulled at scrape time, once per scrape, plus process metrics', async () => {
    const before = source.statsCalls;
    source.stats_ = { ...source.stats_, connections: 17, publishedTotal: 4242 };
    const r = await req('/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
    const text = await r.text();
    assert.match(text, /^warren_connections 17$/m);
    assert.match(text, /^warren_messages_published_total 4242$/m);
    assert.match(text, /^# TYPE warren_messages_published_total counter$/m);
    assert.match(text, /^warren_detailed_queue_messages_ready\{vhost="\/",queue="orders"\} 3$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.equal(source.statsCalls - before, 1);
  });

  test('no credentials, bad password, or a user without management tags: 401', async () => {
    const none = await req('/api/overview');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic /);
    assert.deepEqual(await none.json(), { error: 'not_authorised', reason: 'Login failed' });
    const wrong = 'Basic ' + Buffer.from('admin:nope').toString('base64');
    assert.equal((await req('/api/overview', { auth: wrong })).status, 401);
    assert.equal((await req('/api/overview', { auth: APP })).status, 401);
  });

  test('a monitoring user reads but cannot write; an administrator writes', async () => {
    const ov = await req('/api/overview', { auth: WATCHER });
    assert.equal(ov.status, 200);
    const body = await ov.json() as { product_name: string; object_totals: { queues: number } };
    assert.equal(body.product_name, 'Warren');
    assert.equal(body.object_totals.queues, 2);
    const denied = await req('/api/vhosts/dev', { method: 'PUT', auth: WATCHER });
    assert.equal(denied.status, 401);
    assert.equal(source.vhosts.has('dev'), false);
    assert.equal((await req('/api/vhosts/dev', { method: 'PUT', auth: ADMIN })).status, 201);
    assert.equal((await req('/api/vhosts/dev', { method: 'PUT', auth: ADMIN, body: { description: 'd' } })).status, 204);
    assert.equal(source.vhosts.get('dev')?.description, 'd');
    assert.equal((await req('/api/vhosts/dev', { method: 'DELETE', auth: ADMIN })).status, 204);
    const missing = await req('/api/vhosts/dev', { method: 'DELETE', auth: ADMIN });
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'Object Not Found', reason: 'vhost not found' });
  });

  test("vhost '/' travels as %2F and reaches the source decoded", async () => {
    const r = await req('/api/queues/%2F', { auth: ADMIN });
    assert.equal(r.status, 200);
    const queues = await r.json() as Array<{ name: string; vhost: string }>;
    assert.deepEqual(queues.map((q) => q.name), ['orders']);
    assert.deepEqual(source.calls.at(-1), { method: 'listQueues', args: ['/'] });
    assert.equal((await req('/api/queues/%2F/orders', { auth: ADMIN })).status, 200);
    assert.equal((await req('/api/queues/%2F/nope', { auth: ADMIN })).status, 404);
    const all = await (await req('/api/queues', { auth: ADMIN })).json() as unknown[];
    assert.equal(all.length, 2);
    const b = await (await req('/api/bindings/%2F', { auth: ADMIN })).json() as Array<{ destination: string }>;
    assert.deepEqual(b.map((x) => x.destination), ['orders']);
    const x = await (await req('/api/exchanges/staging', { auth: ADMIN })).json() as unknown[];
    assert.deepEqual(x, []);
  });

  test('users: tags as a comma string; password is mandatory', async () => {
    const r = await req('/api/users/bob', { method: 'PUT', auth: ADMIN, body: { password: 'pw', tags: 'monitoring, management' } });
    assert.equal(r.status, 201);
    assert.deepEqual(source.calls.at(-1), { method: 'putUser', args: ['bob', { tags: ['monitoring', 'management'], password: 'pw' }] });
    const bob = 'Basic ' + Buffer.from('bob:pw').toString('base64');
    assert.equal((await req('/api/whoami', { auth: bob })).status, 200);
    const bad = await req('/api/users/carol', { method: 'PUT', auth: ADMIN, body: { tags: '' } });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: string }).error, 'bad_request');
    assert.equal((await req('/api/users/bob', { method: 'DELETE', auth: ADMIN })).status, 204);
    assert.equal((await req('/api/users/bob', { auth: ADMIN })).status, 404);
  });

  test('permissions: all three patterns required and must be valid regexes', async () => {
    assert.equal((await req('/api/permissions/staging/app', { method: 'PUT', auth: ADMIN, body: { configure: '.*', write: '.*' } })).status, 400);
    assert.equal((await req('/api/permissions/staging/app', { method: 'PUT', auth: ADMIN, body: { configure: '(', write: '', read: '' } })).status, 400);
    assert.equal((await req('/api/permissions/staging/app', { method: 'PUT', auth: ADMIN, body: { configure: '^app', write: '.*', read: '.*' } })).status, 201);
    const p = await (await req('/api/permissions/staging/app', { auth: WATCHER })).json() as { configure: string };
    assert.equal(p.configure, '^app');
  });

  test('definitions: export, then import; malformed JSON is a 400', async () => {
    const defs = await (await req('/api/definitions', { auth: ADMIN })).json() as { vhosts: Array<{ name: string }> };
    assert.ok(defs.vhosts.some((v) => v.name === 'staging'));
    const r = await req('/api/definitions', { method: 'POST', auth: ADMIN, body: { vhosts: [{ name: 'imported' }] } });
    assert.equal(r.status, 204);
    assert.ok(source.vhosts.has('imported'));
    assert.equal((await req('/api/definitions', { method: 'POST', auth: ADMIN, rawBody: '{"vhosts": [' })).status, 400);
    assert.equal((await req('/api/definitions', { method: 'POST', auth: WATCHER, body: {} })).status, 401);
  });

  test('unknown path 404, wrong method 405 with Allow, source crash 500 and the server keeps serving', async () => {
    assert.equal((await req('/api/nothing', { auth: ADMIN })).status, 404);
    const m = await req('/api/overview', { method: 'DELETE', auth: ADMIN });
    assert.equal(m.status, 405);
    assert.equal(m.headers.get('allow'), 'GET');
    source.failNextOverview = true;
    const crash = await req('/api/overview', { auth: ADMIN });
    assert.equal(crash.status, 500);
    assert.equal((await req('/api/overview', { auth: ADMIN })).status, 200);
  });
});
