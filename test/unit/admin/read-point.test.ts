// The management API over a source whose view trails (a cluster frontend's metadata cache): a GET
// answers at the read point (AdminSource.sync); a login or a change refused by a lookup waits for it
// once and is tried again; a change that hits, and refusals a trailing view cannot explain, never wait.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAdminServer, type AdminServer } from '../../../src/admin/server.js';
import { FakeSource } from './fake-source.js';

/** A FakeSource whose changes made "elsewhere" show only once sync() has run. */
class TrailingSource extends FakeSource {
  syncs = 0;
  private elsewhere: Array<() => void> = [];

  changedElsewhere(apply: () => void): void {
    this.elsewhere.push(apply);
  }

  sync(): Promise<void> {
    this.syncs++;
    for (const apply of this.elsewhere.splice(0)) apply();
    return Promise.resolve();
  }
}

const basic = (user: string, pass: string): string => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
const ADMIN = basic('admin', 'secret');

describe('admin HTTP server over a trailing view', () => {
  let server: AdminServer;
  let source: TrailingSource;
  let base: string;

  before(async () => {
    source = new TrailingSource();
    server = await startAdminServer({ port: 0, host: '127.0.0.1', source });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(async () => { await server.close(); });

  const req = (path: string, auth: string, method = 'GET', body?: unknown) => fetch(base + path, {
    method, headers: { authorization: auth, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

  test('a change that hits never waits for the read point', async () => {
    const before = source.syncs;
    assert.equal((await req('/api/vhosts/staging', ADMIN, 'PUT', {})).status, 204);
    assert.equal(source.syncs, before);
  });

  test('a GET answers at the read point, once per request: a listing shows what was made elsewhere', async () => {
    source.changedElsewhere(() => source.vhosts.set('v-listed', { name: 'v-listed' }));
    const before = source.syncs;
    const r = await req('/api/vhosts', ADMIN);
    assert.ok(((await r.json()) as Array<{ name: string }>).some((v) => v.name === 'v-listed'));
    assert.equal(source.syncs - before, 1);
  });

  test('a user created elsewhere a moment ago logs in (401 → sync → 200)', async () => {
    source.changedElsewhere(() => source.users.set('fresh', { password: 'pw', tags: ['administrator'] }));
    const before = source.syncs;
    const r = await req('/api/whoami', basic('fresh', 'pw'));
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { name: 'fresh', tags: ['administrator'] });
    assert.equal(source.syncs - before, 1);
  });

  test('GET of an object, PUT permissions in a vhost (body kept), DELETE of a user, each made elsewhere a moment ago', async () => {
    source.changedElsewhere(() => source.vhosts.set('v-new', { name: 'v-new' }));
    assert.equal((await req('/api/vhosts/v-new', ADMIN)).status, 200);
    source.changedElsewhere(() => source.users.set('doomed', { password: 'x', tags: [] }));
    const before = source.syncs;
    assert.equal((await req('/api/users/doomed', ADMIN, 'DELETE')).status, 204);
    assert.equal(source.syncs - before, 1);
    source.changedElsewhere(() => source.vhosts.set('v-two', { name: 'v-two' }));
    const put = await req('/api/permissions/v-two/admin', ADMIN, 'PUT', { configure: 'c', write: 'w', read: 'r' });
    assert.equal(put.status, 201);
    assert.deepEqual(source.permissions.find((p) => p.vhost === 'v-two'), { user: 'admin', vhost: 'v-two', configure: 'c', write: 'w', read: 'r' });
  });

  test('a miss the read point does not explain is answered after one wait only', async () => {
    const before = source.syncs;
    assert.equal((await req('/api/users/never', ADMIN)).status, 404);
    assert.equal((await req('/api/users/never', ADMIN, 'DELETE')).status, 404);
    assert.equal((await req('/api/whoami', basic('admin', 'wrong'))).status, 401);
    assert.equal(source.syncs - before, 3);
  });

  test('refusals a trailing view cannot cause never wait: no credentials, unknown route', async () => {
    const before = source.syncs;
    assert.equal((await fetch(base + '/api/overview')).status, 401);
    assert.equal((await req('/api/nothing-here', ADMIN)).status, 404);
    assert.equal(source.syncs, before);
  });
});

test('without a read point to reach (no metadata leader) a GET answers from the view after a bounded wait', async () => {
  const source = new FakeSource() as FakeSource & { sync(): Promise<void> };
  source.sync = () => new Promise<void>(() => {}); // never resolves
  source.vhosts.set('v-cached', { name: 'v-cached' });
  const server = await startAdminServer({ port: 0, host: '127.0.0.1', source });
  try {
    const started = Date.now();
    const r = await fetch(`http://127.0.0.1:${server.port}/api/vhosts`, { headers: { authorization: ADMIN } });
    const waited = Date.now() - started;
    assert.equal(r.status, 200);
    assert.ok(((await r.json()) as Array<{ name: string }>).some((v) => v.name === 'v-cached'));
    assert.ok(waited >= 1_500 && waited < 5_000, `answered after ${waited} ms`);
  } finally {
    await server.close();
  }
});
