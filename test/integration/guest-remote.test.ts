// RabbitMQ's loopback_users rule: `guest` may log in from loopback only; other users from anywhere.
// Warren runs in a "server" network namespace and amqplib in a "client" one, joined by a veth pair
// the test creates (traffic goes only to addresses of those namespaces). Warren only: the reference
// RabbitMQ here listens on loopback.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHostPair, skipReason, type HostPair } from '../helpers/netns.js';
import { clusterLacks } from '../helpers/target.js';

const ROOT = join(import.meta.dirname, '..', '..');
const notOnCluster = clusterLacks('a non-loopback client (the cluster runs on loopback; this file runs its own `warren start` in a network namespace)');
const pair: HostPair | undefined = process.env['WARREN_TEST_URL'] || notOnCluster ? undefined : createHostPair();
const brokers: ChildProcess[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'warren-remote-'));

interface Login { ok: boolean; code?: number | null; message?: string }

function login(p: HostPair, port: number, user: string, password: string): Login {
  const url = `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${p.serverAddr}:${port}/`;
  return JSON.parse(p.runClient(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'clients', 'amqp-login.ts'), url])) as Login;
}

/** Starts `warren start` inside the server namespace and waits until the client can reach it. */
async function startRemote(p: HostPair, port: number, env: Record<string, string>): Promise<void> {
  const child = p.spawnServer(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'start',
    '--bind', p.serverAddr, '--amqp-port', String(port), '--http-port', String(port + 10000),
    '--data-dir', join(dataDir, String(port)), '--log-level', 'warn'], { stdio: 'ignore', env: { ...process.env, ...env } });
  brokers.push(child);
  for (let i = 0; i < 100; i++) {
    const r = login(p, port, '-', '-');
    if (r.code === 403) return; // listening: a bogus user is refused
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`warren in the server namespace did not come up on ${port}`);
}

before(async () => {
  if (!pair) return;
  await startRemote(pair, 5672, {});
  await startRemote(pair, 5673, { WARREN_DEFAULT_USER: 'admin', WARREN_DEFAULT_PASS: 'pw' });
});

after(() => {
  for (const b of brokers) b.kill('SIGKILL');
  pair?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

test('guest is refused from a non-loopback address with RabbitMQ\'s text', (t) => {
  if (!pair) { t.skip(notOnCluster || skipReason || 'runs against Warren only'); return; }
  const r = login(pair, 5672, 'guest', 'guest');
  assert.equal(r.ok, false, 'guest must be refused from a non-loopback address');
  assert.equal(r.code, 403);
  assert.match(r.message ?? '', /ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN/);
});

test('another user may connect from a non-loopback address', (t) => {
  if (!pair) { t.skip(notOnCluster || skipReason || 'runs against Warren only'); return; }
  assert.deepEqual(login(pair, 5673, 'admin', 'pw'), { ok: true });
  assert.equal(login(pair, 5673, 'admin', 'wrong').code, 403);
});
