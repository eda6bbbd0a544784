// The admin HTTP server over real HTTP on an ephemeral loopback port, backed by FakeSource. Status
// codes and error bodies are RabbitMQ 3.10.8's (checked against its management plugin).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAdminServer, type AdminServer } from '../../../src/admin/server.js';
import { FakeSource } from './fake-source.js';

const basic = (user: string, pass: string): string => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
const ADMIN = basic('admin', 'secret');
const WATCHER = basic('watcher', 'look'); // monitoring, permissions in staging
const VIEWER = basic('viewer', 'view'); // management, permissions in staging
const APP = basic('app', 'app'); // no tags
const LOCAL = basic('local', 'local'); // loopback-only; the fake treats every peer as remote

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
  const names = async (path: string, auth: string): Promise<string[]> =>
    ((await (await req(path, { auth })).json()) as Array<{ name: string }>).map((x) => x.name);

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

  test('login failures: empty 401 without credentials, then Login failed, localhost only, Not management user', async () => {
    const none = await req('/api/overview');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic /);
    assert.equal(await none.text(), '');
    const wrong = await req('/api/overview', { auth: basic('admin', 'nope') });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic /);
    assert.deepEqual(await wrong.json(), { error: 'not_authorized', reason: 'Login failed' });
    const unknown = await req('/api/overview', { auth: basic('nobody', 'x') });
    assert.deepEqual(await unknown.json(), { error: 'not_authorized', reason: 'Login failed' });
    const app = await req('/api/overview', { auth: APP });
    assert.equal(app.status, 401);
    assert.equal(app.headers.get('www-authenticate'), null);
    assert.deepEqual(await app.json(), { error: 'not_authorised', reason: 'Not management user' });
    const local = await req('/api/overview', { auth: LOCAL });
    assert.equal(local.status, 401);
    assert.deepEqual(await local.json(), { error: 'not_authorised', reason: 'User can only log in via localhost' });
    assert.match(source.lastPeer ?? '', /127\.0\.0\.1/, 'the server passes the peer address to authenticate()');
  });

  test('users, permissions, definitions and single vhosts are for administrators only', async () => {
    const adminOnly = ['/api/users', '/api/users/admin', '/api/permissions', '/api/permissions/staging/viewer',
      '/api/definitions', '/api/vhosts/staging'];
    for (const path of adminOnly) {
      for (const auth of [WATCHER, VIEWER]) {
        const r = await req(path, { auth });
        assert.equal(r.status, 401, path);
        assert.deepEqual(await r.json(), { error: 'not_authorised', reason: 'Not administrator user' });
      }
      assert.equal((await req(path, { auth: ADMIN })).status, 200, path);
    }
    const users = await (await req('/api/users', { auth: ADMIN })).json() as Array<{ password_hash?: string }>;
    assert.ok(users.every((u) => typeof u.password_hash === 'string'));
  });

  test('a management user sees only its permitted vhosts; monitoring sees all vhosts but not all queues', async () => {
    assert.deepEqual(await names('/api/vhosts', VIEWER), ['staging']);
    assert.deepEqual(await names('/api/vhosts', WATCHER), ['/', 'staging']);
    assert.deepEqual(await names('/api/queues', VIEWER), ['jobs']);
    assert.deepEqual(await names('/api/queues', WATCHER), ['jobs']);
    assert.deepEqual(await names('/api/queues', ADMIN), ['orders', 'jobs']);
    const refused = await req('/api/queues/%2F', { auth: VIEWER });
    assert.equal(refused.status, 401);
    assert.deepEqual(await refused.json(), { error: 'not_authorised', reason: 'User not authorised to access virtual host' });
    assert.equal((await req('/api/queues/%2F/orders', { auth: WATCHER })).status, 401);
    assert.equal((await req('/api/exchanges/%2F', { auth: VIEWER })).status, 401);
    assert.equal((await req('/api/bindings/%2F', { auth: VIEWER })).status, 401);
    assert.equal((await req('/api/queues/staging/jobs', { auth: VIEWER })).status, 200);
    const missing = await req('/api/queues/nosuch', { auth: VIEWER });
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'Object Not Found', reason: 'Not Found' });
    const scoped = await (await req('/api/overview', { auth: VIEWER })).json() as { object_totals: { queues: number }; node?: string };
    assert.equal(scoped.object_totals.queues, 1);
    assert.equal(scoped.node, undefined);
    const full = await (await req('/api/overview', { auth: WATCHER })).json() as { object_totals: { queues: number }; node?: string };
    assert.equal(full.object_totals.queues, 2);
    assert.equal(full.node, 'warren@test');
  });

  test('a monitoring user reads but cannot write; an administrator writes', async () => {
    const denied = await req('/api/vhosts/dev', { method: 'PUT', auth: WATCHER });
    assert.equal(denied.status, 401);
    assert.equal(source.vhosts.has('dev'), false);
    assert.equal((await req('/api/vhosts/dev', { method: 'PUT', auth: ADMIN })).status, 201);
    assert.equal((await req('/api/vhosts/dev', { method: 'PUT', auth: ADMIN, body: { description: 'd' } })).status, 204);
    assert.equal(source.vhosts.get('dev')?.description, 'd');
    assert.equal((await req('/api/vhosts/dev', { method: 'DELETE', auth: ADMIN })).status, 204);
    const missing = await req('/api/vhosts/dev', { method: 'DELETE', auth: ADMIN });
    assert.equal(missing.status, 404);
  });

  test("vhost '/' travels as %2F and reaches the source decoded", async () => {
    const r = await req('/api/queues/%2F', { auth: ADMIN });
    assert.equal(r.status, 200);
    const queues = await r.json() as Array<{ name: string; vhost: string }>;
    assert.deepEqual(queues.map((q) => q.name), ['orders']);
    assert.deepEqual(source.calls.at(-1), { method: 'listQueues', args: ['/'] });
    assert.equal((await req('/api/queues/%2F/orders', { auth: ADMIN })).status, 200);
    assert.equal((await req('/api/queues/%2F/nope', { auth: ADMIN })).status, 404);
    const b = await (await req('/api/bindings/%2F', { auth: ADMIN })).json() as Array<{ destination: string }>;
    assert.deepEqual(b.map((x) => x.destination), ['orders']);
    const x = await (await req('/api/exchanges/staging', { auth: ADMIN })).json() as unknown[];
    assert.deepEqual(x, []);
  });

  test('users: tags as a comma string; tags mandatory; password or hash, not both; sha256 hashes only', async () => {
    const r = await req('/api/users/bob', { method: 'PUT', auth: ADMIN, body: { password: 'pw', tags: 'monitoring, management' } });
    assert.equal(r.status, 201);
    assert.deepEqual(source.calls.at(-1), { method: 'putUser', args: ['bob', { tags: ['monitoring', 'management'], password: 'pw' }] });
    assert.equal((await req('/api/whoami', { auth: basic('bob', 'pw') })).status, 200);
    const noTags = await req('/api/users/carol', { method: 'PUT', auth: ADMIN, body: { password: 'x' } });
    assert.deepEqual(await noTags.json(), { error: 'bad_request', reason: 'tags_not_present' });
    const both = await req('/api/users/carol', { method: 'PUT', auth: ADMIN, body: { password: 'x', password_hash: '', tags: '' } });
    assert.deepEqual(await both.json(), { error: 'bad_request', reason: 'both_password_and_password_hash_are_provided' });
    const md5 = await req('/api/users/carol', {
      method: 'PUT', auth: ADMIN, body: { password_hash: '', hashing_algorithm: 'rabbit_password_hashing_md5', tags: '' },
    });
    assert.equal(md5.status, 400);
    assert.equal((await req('/api/users/carol', { method: 'PUT', auth: ADMIN, body: { password_hash: 'abc', tags: '' } })).status, 400);
    assert.equal((await req('/api/users/carol', { method: 'PUT', auth: ADMIN, body: { password: 'x', tags: 42 } })).status, 400);
    assert.equal(source.users.has('carol'), false);
    // Neither password nor hash: a passwordless user, as RabbitMQ.
    assert.equal((await req('/api/users/carol', { method: 'PUT', auth: ADMIN, body: { tags: '' } })).status, 201);
    assert.equal((await req('/api/users/bob', { method: 'DELETE', auth: ADMIN })).status, 204);
    assert.equal((await req('/api/users/bob', { auth: ADMIN })).status, 404);
  });

  test('permissions: all three patterns required and must be valid regexes; DELETE', async () => {
    assert.equal((await req('/api/permissions/staging/app', { method: 'PUT', auth: ADMIN, body: { configure: '.*', write: '.*' } })).status, 400);
    const bad = await req('/api/permissions/staging/app', { method: 'PUT', auth: ADMIN, body: { configure: '(', write: '', read: '' } });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { reason: string }).reason, /^invalid_regexp: configure '\('/);
    const good = { configure: '^app', write: '.*', read: '.*' };
    assert.equal((await req('/api/permissions/staging/app', { method: 'PUT', auth: ADMIN, body: good })).status, 201);
    const p = await (await req('/api/permissions/staging/app', { auth: ADMIN })).json() as { configure: string };
    assert.equal(p.configure, '^app');
    assert.equal((await req('/api/permissions/staging/app', { method: 'DELETE', auth: ADMIN })).status, 204);
    assert.equal((await req('/api/permissions/staging/app', { method: 'DELETE', auth: ADMIN })).status, 404);
  });

  test('definitions: a bad file names its entries and reaches nothing; unsupported sections come back as warnings', async () => {
    const calls = source.calls.length;
    const bad = await req('/api/definitions', {
      method: 'POST', auth: ADMIN, body: {
        vhosts: [{ name: 'never' }],
        queues: [
          { name: 'fine', vhost: '/', durable: true, auto_delete: false, arguments: {} },
          { name: 'ttl', vhost: '/', durable: true, auto_delete: false, arguments: { 'x-message-ttl': -1 } },
        ],
        exchanges: [{ name: 'x', vhost: '/', type: 'bogus', durable: true, auto_delete: false }],
        users: [{ name: 'u', password_hash: '', hashing_algorithm: 'rabbit_password_hashing_sha512', tags: '' }],
        bindings: [{ source: 'x', vhost: '/', destination: 'fine', destination_type: 'topic' }],
        permissions: [{ user: 'u', vhost: '/', configure: '[', write: '', read: '' }],
      },
    });
    assert.equal(bad.status, 400);
    const body = await bad.json() as { error: string; reason: string };
    assert.equal(body.error, 'bad_request');
    assert.match(body.reason, /queues\[1\]: invalid arg 'x-message-ttl' for queue 'ttl' in vhost '\/': \{value_negative,-1\}/);
    assert.match(body.reason, /exchanges\[0\]: unknown exchange type 'bogus'/);
    assert.match(body.reason, /users\[0\]: unsupported hashing_algorithm 'rabbit_password_hashing_sha512'/);
    assert.match(body.reason, /bindings\[0\]: destination_type must be 'queue' or 'exchange'/);
    assert.match(body.reason, /permissions\[0\]: invalid_regexp: configure '\['/);
    assert.doesNotMatch(body.reason, /queues\[0\]|vhosts\[0\]/);
    assert.equal(source.calls.length, calls, 'an invalid file never reaches the source');
    assert.equal(source.vhosts.has('never'), false);

    assert.equal((await req('/api/definitions', { method: 'POST', auth: ADMIN, body: { vhosts: [{ name: 'imported' }] } })).status, 204);
    assert.ok(source.vhosts.has('imported'));
    const warned = await req('/api/definitions', {
      method: 'POST', auth: ADMIN, body: {
        vhosts: [{ name: 'w' }], policies: [{ name: 'p' }], parameters: [], global_parameters: [{ name: 'g', value: 1 }],
        shovels: { a: 1 }, rabbit_version: '3.10.8',
      },
    });
    assert.equal(warned.status, 200);
    assert.deepEqual(await warned.json(), { warnings: [
      'policies: 1 entry not imported (Warren has no policies yet)',
      'global_parameters: 1 entry not imported (Warren has no global parameters)',
      'shovels: not imported (unknown section)',
    ] });
    assert.ok(source.vhosts.has('w'));
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
