// Who sees what through the management API of a running broker, with AMQP clients making the
// queues and connections there are to see. Statuses, error bodies and visibility rules are RabbitMQ
// 3.10's: this file passes against RabbitMQ 3.10.8 with its management plugin too —
//   WARREN_TEST_URL=amqp://guest:guest@127.0.0.1:PORT WARREN_TEST_HTTP_URL=http://127.0.0.1:HTTPPORT
// (without WARREN_TEST_HTTP_URL an external broker skips these tests).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelModel } from 'amqplib';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { channel, connect, uniq } from '../helpers/amqp.js';
import { apiBase, apiRequest, basicAuth, GUEST_AUTH } from '../helpers/admin.js';

let broker: TestBroker;
let base: string | undefined;
const conns: ChannelModel[] = [];
const id = uniq('auth');
const [vhostA, vhostB] = [`${id}-a`, `${id}-b`];
const [qa, qb] = [`${id}-qa`, `${id}-qb`];
const users = { mon: `${id}-mon`, mgmt: `${id}-mgmt`, plain: `${id}-plain`, admin: `${id}-admin` };
const PASS = 'pw-1';
const enc = encodeURIComponent;

/** A test user's Authorization header: the password they were made with unless given. */
const basic = (user: string, pass = PASS): string => basicAuth(user, pass);

async function call(path: string, auth?: string, method = 'GET', body?: unknown): Promise<Response> {
  if (base === undefined) throw new Error('no management API');
  return apiRequest(base, path, auth, method, body);
}

async function must(path: string, method: string, body?: unknown): Promise<void> {
  const r = await call(path, GUEST_AUTH, method, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${await r.text()}`);
}

async function json<T>(path: string, auth: string): Promise<T> {
  const r = await call(path, auth);
  assert.equal(r.status, 200, `${path}: ${r.status}`);
  return (await r.json()) as T;
}

const names = async (path: string, auth: string): Promise<string[]> =>
  (await json<Array<{ name: string }>>(path, auth)).map((x) => x.name);

/** Polls until `check` passes: RabbitMQ's connection listing lags by a stats interval. */
async function eventually(check: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { await check(); return; } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

before(async () => {
  broker = await startBroker();
  base = broker.isWarren ? apiBase(broker) : process.env['WARREN_TEST_HTTP_URL'];
  if (base === undefined) return;
  for (const v of [vhostA, vhostB]) {
    await must(`/api/vhosts/${enc(v)}`, 'PUT', {});
    await must(`/api/permissions/${enc(v)}/guest`, 'PUT', { configure: '.*', write: '.*', read: '.*' });
  }
  const tags = { mon: 'monitoring', mgmt: 'management', plain: '', admin: 'administrator' } as const;
  for (const [k, u] of Object.entries(users)) await must(`/api/users/${enc(u)}`, 'PUT', { password: PASS, tags: tags[k as keyof typeof tags] });
  for (const u of [users.mon, users.mgmt]) {
    await must(`/api/permissions/${enc(vhostA)}/${enc(u)}`, 'PUT', { configure: '.*', write: '.*', read: '.*' });
  }
  // AMQP clients make the objects: a queue in each vhost, bound in each, and a connection per user.
  for (const [v, q] of [[vhostA, qa], [vhostB, qb]] as const) {
    const c = await connect(broker, { vhost: v });
    conns.push(c);
    const ch = await channel(c);
    await ch.assertQueue(q, { durable: true });
    await ch.bindQueue(q, 'amq.direct', 'k');
  }
  conns.push(await connect(broker, { vhost: vhostA, username: users.mgmt, password: PASS }));
});

after(async () => {
  for (const c of conns) await c.close().catch(() => {});
  if (base !== undefined && !broker.isWarren) {
    // A shared reference broker: leave it as found.
    for (const v of [vhostA, vhostB]) await call(`/api/vhosts/${enc(v)}`, GUEST_AUTH, 'DELETE');
    for (const u of Object.values(users)) await call(`/api/users/${enc(u)}`, GUEST_AUTH, 'DELETE');
  }
  await broker.stop();
});

const skip = (t: { skip(m: string): void }): boolean => {
  if (base === undefined) { t.skip('external broker without WARREN_TEST_HTTP_URL'); return true; }
  return false;
};

test('failed logins: RabbitMQ\'s 401 bodies, WWW-Authenticate only where a new login can help', async (t) => {
  if (skip(t)) return;
  const none = await call('/api/overview');
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  assert.equal(await none.text(), '');
  for (const auth of [basic('guest', 'wrong'), basic(`${id}-nobody`)]) {
    const r = await call('/api/overview', auth);
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    assert.deepEqual(await r.json(), { error: 'not_authorized', reason: 'Login failed' });
  }
  const plain = await call('/api/overview', basic(users.plain));
  assert.equal(plain.status, 401);
  assert.equal(plain.headers.get('www-authenticate'), null);
  assert.deepEqual(await plain.json(), { error: 'not_authorised', reason: 'Not management user' });
});

test('only administrators reach users, permissions and definitions, so only they see password hashes', async (t) => {
  if (skip(t)) return;
  for (const path of ['/api/users', `/api/users/${enc(users.mgmt)}`, '/api/permissions',
    `/api/permissions/${enc(vhostA)}/${enc(users.mgmt)}`, '/api/definitions', `/api/vhosts/${enc(vhostA)}`]) {
    for (const u of [users.mon, users.mgmt]) {
      const r = await call(path, basic(u));
      assert.equal(r.status, 401, `${u} ${path}`);
      assert.deepEqual(await r.json(), { error: 'not_authorised', reason: 'Not administrator user' });
    }
  }
  for (const auth of [GUEST_AUTH, basic(users.admin)]) {
    const all = await json<Array<{ name: string; password_hash?: string }>>('/api/users', auth);
    const mine = all.find((u) => u.name === users.mgmt);
    assert.match(mine?.password_hash ?? '', /^[A-Za-z0-9+/]{40,}={0,2}$/);
    const one = await json<{ password_hash?: string }>(`/api/users/${enc(users.mgmt)}`, auth);
    assert.equal(one.password_hash, mine?.password_hash);
    const defs = await json<{ users: Array<{ name: string; password_hash: string }> }>('/api/definitions', auth);
    assert.equal(defs.users.find((u) => u.name === users.mgmt)?.password_hash, mine?.password_hash);
  }
});

test('vhosts: monitoring sees every vhost, management only those it has permissions in', async (t) => {
  if (skip(t)) return;
  const mgmt = await names('/api/vhosts', basic(users.mgmt));
  assert.deepEqual(mgmt, [vhostA]);
  const mon = await names('/api/vhosts', basic(users.mon));
  assert.ok(mon.includes(vhostA) && mon.includes(vhostB) && mon.includes('/'), mon.join());
});

test('queues, exchanges and bindings: non-administrators (monitoring too) see their permitted vhosts only', async (t) => {
  if (skip(t)) return;
  for (const u of [users.mon, users.mgmt]) {
    const auth = basic(u);
    const queues = await json<Array<{ name: string; vhost: string }>>('/api/queues', auth);
    assert.ok(queues.some((q) => q.name === qa), `${u} sees ${qa}`);
    assert.ok(queues.every((q) => q.vhost === vhostA), `${u} sees only ${vhostA}: ${queues.map((q) => q.vhost).join()}`);
    const exchanges = await json<Array<{ vhost: string }>>('/api/exchanges', auth);
    assert.ok(exchanges.length > 0 && exchanges.every((x) => x.vhost === vhostA));
    const bindings = await json<Array<{ vhost: string; destination: string }>>('/api/bindings', auth);
    assert.ok(bindings.some((b) => b.destination === qa) && bindings.every((b) => b.vhost === vhostA));
    assert.deepEqual((await names(`/api/queues/${enc(vhostA)}`, auth)), [qa]);
    assert.equal((await call(`/api/queues/${enc(vhostA)}/${enc(qa)}`, auth)).status, 200);
    for (const path of [`/api/queues/${enc(vhostB)}`, `/api/queues/${enc(vhostB)}/${enc(qb)}`, `/api/exchanges/${enc(vhostB)}`,
      `/api/exchanges/${enc(vhostB)}/amq.direct`, `/api/bindings/${enc(vhostB)}`]) {
      const r = await call(path, auth);
      assert.equal(r.status, 401, `${u} ${path}`);
      assert.deepEqual(await r.json(), { error: 'not_authorised', reason: 'User not authorised to access virtual host' });
    }
    const missing = await call(`/api/queues/${enc(`${id}-none`)}`, auth);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'Object Not Found', reason: 'Not Found' });
  }
  const all = await names('/api/queues', basic(users.admin));
  assert.ok(all.includes(qa) && all.includes(qb));
});

test('connections: management users see their own, monitoring and administrators everyone\'s', async (t) => {
  if (skip(t)) return;
  await eventually(async () => {
    const mine = await json<Array<{ user: string }>>('/api/connections', basic(users.mgmt));
    assert.ok(mine.length >= 1 && mine.every((c) => c.user === users.mgmt), JSON.stringify(mine.map((c) => c.user)));
    for (const auth of [basic(users.mon), basic(users.admin)]) {
      const seen = new Set((await json<Array<{ user: string }>>('/api/connections', auth)).map((c) => c.user));
      assert.ok(seen.has('guest') && seen.has(users.mgmt), [...seen].join());
    }
  });
});

test('overview: totals over permitted vhosts for management users, broker-wide for monitoring', async (t) => {
  if (skip(t)) return;
  const scoped = await json<{ object_totals: { queues: number; exchanges: number }; node?: string; listeners?: unknown }>(
    '/api/overview', basic(users.mgmt));
  assert.equal(scoped.object_totals.queues, 1);
  const exchangesInA = (await json<unknown[]>(`/api/exchanges/${enc(vhostA)}`, GUEST_AUTH)).length;
  assert.equal(scoped.object_totals.exchanges, exchangesInA);
  assert.equal(scoped.node, undefined);
  assert.equal(scoped.listeners, undefined);
  const global = await json<{ object_totals: { queues: number }; node?: string }>('/api/overview', basic(users.mon));
  assert.ok(global.object_totals.queues >= 2);
  assert.equal(typeof global.node, 'string');
});
