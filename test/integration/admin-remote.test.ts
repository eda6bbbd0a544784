// RabbitMQ's loopback_users rule on the management API: `guest` may use HTTP from loopback only,
// like AMQP; other users from anywhere. Warren runs in a "server" network namespace (listening on
// '::', so both the namespace's loopback and its veth address reach it) and the remote client in a
// "client" one, joined by a veth pair the test creates (test/helpers/netns.ts). Needs root and
// iproute2; skips visibly otherwise. Warren only: the reference RabbitMQ listens on loopback.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createHostPair, skipReason, type HostPair } from '../helpers/netns.js';
import { basicAuth } from '../helpers/admin.js';
import { clusterLacks } from '../helpers/target.js';

const ROOT = join(import.meta.dirname, '..', '..');
const notOnCluster = clusterLacks('a non-loopback client (the cluster runs on loopback; this file runs its own `warren start` in a network namespace)');
const pair: HostPair | undefined = process.env['WARREN_TEST_URL'] || notOnCluster ? undefined : createHostPair();
const dataDir = mkdtempSync(join(tmpdir(), 'warren-adminremote-'));
const HTTP_PORT = 15672;
const AMQP_PORT = 5672;
const logs: Array<Record<string, unknown>> = [];
let broker: ChildProcess | undefined;

interface HttpResult { status: number; body: string; error?: string }

/** One HTTP request made with fetch by a node process in the given namespace. */
const FETCH = `
const [url, method, auth, body] = process.argv.slice(1);
try {
  const r = await fetch(url, { method, headers: { authorization: auth, 'content-type': 'application/json' }, ...(body ? { body } : {}) });
  console.log(JSON.stringify({ status: r.status, body: await r.text() }));
} catch (err) { console.log(JSON.stringify({ status: 0, body: '', error: String(err.cause ?? err) })); }`;


function fromClient(p: HostPair, path: string, auth: string, method = 'GET', body?: unknown): HttpResult {
  const args = ['--input-type=module', '-e', FETCH, `http://${p.serverAddr}:${HTTP_PORT}${path}`, method, auth, body === undefined ? '' : JSON.stringify(body)];
  return JSON.parse(p.runClient(process.execPath, args)) as HttpResult;
}

/** The same request from inside the server's namespace, to its loopback address. */
async function fromLoopback(p: HostPair, path: string, auth: string, method = 'GET', body?: unknown): Promise<HttpResult> {
  const args = ['--input-type=module', '-e', FETCH, `http://127.0.0.1:${HTTP_PORT}${path}`, method, auth, body === undefined ? '' : JSON.stringify(body)];
  const child = p.spawnServer(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise((resolve) => child.once('exit', resolve));
  return JSON.parse(out) as HttpResult;
}

before(async () => {
  if (!pair) return;
  broker = pair.spawnServer(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'start',
    '--bind', '::', '--amqp-port', String(AMQP_PORT), '--http-port', String(HTTP_PORT), '--data-dir', dataDir, '--log-level', 'info'],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: broker.stdout! }).on('line', (line) => {
    try { logs.push(JSON.parse(line) as Record<string, unknown>); } catch { /* not a log line */ }
  });
  for (let i = 0; i < 100; i++) {
    // Ready, not just alive: /healthz answers 200 while the node starts, and everything else 503.
    if (fromClient(pair, '/readyz', '').status === 200) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('warren in the server namespace did not come up');
});

after(() => {
  broker?.kill('SIGKILL');
  pair?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

const skip = (t: { skip(m: string): void }): boolean => {
  if (!pair) { t.skip(notOnCluster || skipReason || 'runs against Warren only'); return true; }
  return false;
};

/** Waits for a log line (runClient blocks the event loop, so lines are read only between awaits). */
async function waitLog(from: number, pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown> | undefined> {
  for (let i = 0; i < 50; i++) {
    const hit = logs.slice(from).find(pred);
    if (hit !== undefined) return hit;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

test('guest from a non-loopback address gets RabbitMQ\'s 401, and the refusal is logged', async (t) => {
  if (skip(t)) return;
  const from = logs.length;
  const r = fromClient(pair!, '/api/overview', basicAuth('guest', 'guest'));
  assert.equal(r.status, 401, r.error);
  assert.deepEqual(JSON.parse(r.body), { error: 'not_authorised', reason: 'User can only log in via localhost' });
  // The password is checked first: a wrong one is just a failed login.
  const wrong = fromClient(pair!, '/api/overview', basicAuth('guest', 'nope'));
  assert.deepEqual(JSON.parse(wrong.body), { error: 'not_authorized', reason: 'Login failed' });
  const line = await waitLog(from, (l) => l['msg'] === 'admin HTTP login failed' && l['reason'] === 'loopback only');
  assert.ok(line, JSON.stringify(logs.slice(from)));
  assert.equal(line['user'], 'guest');
  assert.match(String(line['peer']), new RegExp(pair!.clientAddr.replace(/\./g, '\\.') + '$'));
});

test('guest from loopback may administer; the users it creates log in from anywhere', async (t) => {
  if (skip(t)) return;
  const guest = basicAuth('guest', 'guest');
  assert.equal((await fromLoopback(pair!, '/api/overview', guest)).status, 200);
  assert.equal((await fromLoopback(pair!, '/api/users/ops', guest, 'PUT', { password: 'ops-pw', tags: 'administrator' })).status, 201);
  const r = fromClient(pair!, '/api/whoami', basicAuth('ops', 'ops-pw'));
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { name: 'ops', tags: ['administrator'] });
});

test('re-putting guest (PUT or definitions import) keeps it loopback-only, on HTTP and AMQP', async (t) => {
  if (skip(t)) return;
  const ops = basicAuth('ops', 'ops-pw');
  const put = fromClient(pair!, '/api/users/guest', ops, 'PUT', { password: 'guest', tags: 'administrator' });
  assert.equal(put.status, 204, put.body);
  assert.equal(fromClient(pair!, '/api/overview', basicAuth('guest', 'guest')).status, 401);
  const defs = fromClient(pair!, '/api/definitions', ops);
  const imported = fromClient(pair!, '/api/definitions', ops, 'POST', JSON.parse(defs.body));
  assert.equal(imported.status, 204, imported.body);
  const r = fromClient(pair!, '/api/overview', basicAuth('guest', 'guest'));
  assert.deepEqual(JSON.parse(r.body), { error: 'not_authorised', reason: 'User can only log in via localhost' });
  assert.equal((await fromLoopback(pair!, '/api/overview', basicAuth('guest', 'guest'))).status, 200);
  // AMQP keeps refusing remote guest too (the same flag): amqplib from the client namespace.
  const login = JSON.parse(pair!.runClient(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'clients', 'amqp-login.ts'),
    `amqp://guest:guest@${pair!.serverAddr}:${AMQP_PORT}/`])) as { ok: boolean; code?: number };
  assert.deepEqual({ ok: login.ok, code: login.code }, { ok: false, code: 403 });
});
