// The log an operator reads: a `warren start` process whose stdout (pino JSON lines) the test
// parses while it drives the management API. Every admin change names the HTTP user, the action,
// its target and the result; every failed change and failed login says why; no line carries a
// password. Warren only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { apiRequest, basicAuth, GUEST_AUTH } from '../helpers/admin.js';
import { clusterLacks } from '../helpers/target.js';

const ROOT = join(import.meta.dirname, '..', '..');
const external = process.env['WARREN_TEST_URL'] !== undefined;
// Reads the stdout of a `warren start` it runs itself; a cluster's nodes log to files the launcher owns.
const notOnCluster = clusterLacks('log capture (this file reads the stdout of its own `warren start`)');
const dataDir = mkdtempSync(join(tmpdir(), 'warren-adminlog-'));
const lines: Array<Record<string, unknown>> = [];
const raw: string[] = [];
let child: ChildProcess | undefined;
let base = '';

const SECRET = 'Very-Secret-Password-42';

async function call(path: string, auth: string | undefined, method = 'GET', body?: unknown): Promise<number> {
  const r = await apiRequest(base, path, auth, method, body);
  await r.arrayBuffer();
  return r.status;
}

/** The first log line after `from` matching every field of `want`, waiting briefly for it. */
async function logLine(from: number, want: Record<string, unknown>): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const hit = lines.slice(from).find((l) => Object.entries(want).every(([k, v]) => JSON.stringify(l[k]) === JSON.stringify(v)));
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) {
      assert.fail(`no log line with ${JSON.stringify(want)}; got:\n${lines.slice(from).map((l) => JSON.stringify(l)).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  if (external || notOnCluster) return;
  child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'start', '--bind', '127.0.0.1',
    '--amqp-port', '0', '--http-port', '0', '--data-dir', dataDir, '--log-level', 'debug'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const started = new Promise<number>((resolve, reject) => {
    child!.once('exit', (code) => reject(new Error(`warren exited with ${code}`)));
    createInterface({ input: child!.stdout! }).on('line', (line) => {
      raw.push(line);
      try {
        const l = JSON.parse(line) as Record<string, unknown>;
        lines.push(l);
        if (l['msg'] === 'warren started') resolve(Number(l['httpPort']));
      } catch { /* not a log line */ }
    });
  });
  base = `http://127.0.0.1:${await started}`;
});

after(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const skip = (t: { skip(m: string): void }): boolean => {
  if (external) { t.skip('Warren only'); return true; }
  if (notOnCluster) { t.skip(notOnCluster); return true; }
  return false;
};

test('users, vhosts and permissions changes are logged with who, what and the result', async (t) => {
  if (skip(t)) return;
  const from = lines.length;
  assert.equal(await call('/api/vhosts/logged', GUEST_AUTH, 'PUT', {}), 201);
  assert.equal(await call('/api/users/bob', GUEST_AUTH, 'PUT', { password: SECRET, tags: 'monitoring' }), 201);
  assert.equal(await call('/api/users/bob', GUEST_AUTH, 'PUT', { password: SECRET, tags: 'management' }), 204);
  assert.equal(await call('/api/permissions/logged/bob', GUEST_AUTH, 'PUT', { configure: '', write: '.*', read: '.*' }), 201);
  assert.equal(await call('/api/permissions/logged/bob', GUEST_AUTH, 'DELETE'), 204);
  assert.equal(await call('/api/users/bob', GUEST_AUTH, 'DELETE'), 204);
  assert.equal(await call('/api/vhosts/logged', GUEST_AUTH, 'DELETE'), 204);
  const change = { msg: 'admin change', component: 'admin', user: 'guest', peer: '127.0.0.1' };
  await logLine(from, { ...change, action: 'vhost.put', target: { vhost: 'logged' }, result: 'created' });
  const created = await logLine(from, { ...change, action: 'user.put', target: { user: 'bob' }, result: 'created' });
  assert.deepEqual(created['tags'], ['monitoring']);
  assert.equal(created['credentials'], 'password');
  assert.equal(created['level'], 30);
  await logLine(from, { ...change, action: 'user.put', target: { user: 'bob' }, result: 'updated', tags: ['management'] });
  await logLine(from, { ...change, action: 'permissions.put', target: { vhost: 'logged', user: 'bob' }, result: 'created', configure: '', write: '.*', read: '.*' });
  await logLine(from, { ...change, action: 'permissions.delete', target: { vhost: 'logged', user: 'bob' }, result: 'deleted' });
  await logLine(from, { ...change, action: 'user.delete', target: { user: 'bob' }, result: 'deleted' });
  await logLine(from, { ...change, action: 'vhost.delete', target: { vhost: 'logged' }, result: 'deleted' });
  assert.ok(!raw.some((l) => l.includes(SECRET)), 'no log line carries a password');
});

test('failed changes and definitions imports are logged with the reason', async (t) => {
  if (skip(t)) return;
  const from = lines.length;
  assert.equal(await call('/api/permissions/%2F/ghost', GUEST_AUTH, 'PUT', { configure: '.*', write: '.*', read: '.*' }), 400);
  assert.equal(await call('/api/users/nobody', GUEST_AUTH, 'DELETE'), 404);
  const failed = { msg: 'admin change failed', component: 'admin', user: 'guest', result: 'failed' };
  await logLine(from, { ...failed, action: 'permissions.put', status: 400, reason: 'vhost_or_user_not_found' });
  await logLine(from, { ...failed, action: 'user.delete', target: { user: 'nobody' }, status: 404 });

  const bad = { vhosts: [{ name: 'v' }], queues: [{ name: 'q', vhost: 'v', durable: true, auto_delete: false, arguments: { 'x-expires': 0 } }] };
  assert.equal(await call('/api/definitions', GUEST_AUTH, 'POST', bad), 400);
  const line = await logLine(from, { ...failed, action: 'definitions.import', status: 400 });
  assert.match(String(line['reason']), /^queues\[0\]: invalid arg 'x-expires' for queue 'q' in vhost 'v': \{value_zero,0\}$/);
  assert.equal(line['level'], 40);

  const good = { vhosts: [{ name: 'v' }], users: [{ name: 'imp', password: SECRET, tags: '' }], policies: [{ name: 'p' }] };
  assert.equal(await call('/api/definitions', GUEST_AUTH, 'POST', good), 200);
  const ok = await logLine(from, { msg: 'admin change', action: 'definitions.import', user: 'guest', result: 'imported with warnings' });
  assert.equal(ok['entries'], 2);
  assert.deepEqual(ok['warnings'], ['policies: 1 entry not imported (Warren has no policies yet)']);
  assert.ok(!raw.some((l) => l.includes(SECRET)), 'no log line carries a password');
});

test('failed logins and refused requests are logged with the reason', async (t) => {
  if (skip(t)) return;
  assert.equal(await call('/api/users/plain', GUEST_AUTH, 'PUT', { password: 'p', tags: '' }), 201);
  assert.equal(await call('/api/users/watch', GUEST_AUTH, 'PUT', { password: 'w', tags: 'monitoring' }), 201);
  const from = lines.length;
  assert.equal(await call('/api/overview', basicAuth('guest', 'nope')), 401);
  assert.equal(await call('/api/overview', basicAuth('ghost', 'x')), 401);
  assert.equal(await call('/api/overview', basicAuth('plain', 'p')), 401);
  assert.equal(await call('/api/vhosts/x', basicAuth('watch', 'w'), 'PUT', {}), 401);
  assert.equal(await call('/api/overview', undefined), 401);
  const failed = { msg: 'admin HTTP login failed', component: 'admin', peer: '127.0.0.1', level: 40 };
  await logLine(from, { ...failed, user: 'guest', reason: 'bad password', path: '/api/overview' });
  await logLine(from, { ...failed, user: 'ghost', reason: 'unknown user' });
  const refused = { msg: 'admin HTTP access refused', component: 'admin', level: 40 };
  await logLine(from, { ...refused, user: 'plain', reason: 'not a management user' });
  await logLine(from, { ...refused, user: 'watch', reason: 'not administrator', method: 'PUT', path: '/api/vhosts/x' });
  await logLine(from, { msg: 'admin HTTP request without credentials', level: 20 });
  assert.ok(!raw.slice(from).some((l) => l.includes('nope')), 'a wrong password is not logged either');
});
