// What an operator reads in the log (issue 6): accepted and closed connections with peer, user,
// vhost and client-provided name; why a login was refused; channel and connection errors with
// their reply codes. Runs `warren start` as a child process and reads its JSON log lines.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { channel, connect, eventually, uniq } from '../helpers/amqp.js';
import { rawOpenChannel } from '../helpers/raw.js';
import { encodeFrame } from '../helpers/wire.js';
import { clusterLacks } from '../helpers/target.js';

const ROOT = join(import.meta.dirname, '..', '..');
type Record = { readonly msg?: string } & { readonly [k: string]: unknown };

const external = process.env['WARREN_TEST_URL'] !== undefined;
// Reads the stdout of a `warren start` it runs itself; a cluster's nodes log to files the launcher owns.
const notOnCluster = clusterLacks('log capture (this file reads the stdout of its own `warren start`)');
const dataDir = mkdtempSync(join(tmpdir(), 'warren-logs-'));
const records: Record[] = [];
let child: ChildProcess | undefined;
let port = 0;

before(async () => {
  if (external || notOnCluster) return;
  child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'start',
    '--bind', '127.0.0.1', '--amqp-port', '0', '--http-port', '0', '--data-dir', dataDir, '--log-level', 'info'],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try { records.push(JSON.parse(line) as Record); } catch { /* not a log record */ }
  });
  const started = await eventually(() => records.find((r) => r.msg === 'warren started'), 20_000, 'warren to start');
  port = started['amqpPort'] as number;
});

after(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const url = (user = 'guest', pass = 'guest', vhost = ''): string =>
  `amqp://${user}:${pass}@127.0.0.1:${port}/${encodeURIComponent(vhost)}`;

function find(msg: string, match: (r: Record) => boolean): Promise<Record> {
  return eventually(() => records.find((r) => r.msg === msg && match(r)), 5000, `log record '${msg}'`);
}

test('an accepted and a closed connection are logged with peer, user, vhost and client name', { skip: notOnCluster }, async (t) => {
  if (external) { t.skip('reads Warren\'s own log'); return; }
  const name = uniq('log-client');
  const conn = await connect(url(), {}, { clientProperties: { connection_name: name } });
  const accepted = await find('connection accepted', (r) => r['name'] === name);
  assert.equal(accepted['user'], 'guest');
  assert.equal(accepted['vhost'], '/');
  assert.match(String(accepted['peer']), /^127\.0\.0\.1:\d+$/);
  await conn.close();
  const closed = await find('connection closed', (r) => r['name'] === name);
  assert.equal(closed['conn'], accepted['conn']);
});

test('refused logins say why: unknown user, bad password, vhost access', { skip: notOnCluster }, async (t) => {
  if (external) { t.skip('reads Warren\'s own log'); return; }
  const ghost = uniq('ghost');
  await assert.rejects(connect(url(ghost, 'x')));
  await find('login refused', (r) => r['user'] === ghost && r['reason'] === 'unknown user');
  await assert.rejects(connect(url('guest', 'wrong')));
  await find('login refused', (r) => r['user'] === 'guest' && r['reason'] === 'bad password');
  const vhost = uniq('no-such-vhost');
  await assert.rejects(connect(url('guest', 'guest', vhost)));
  const refused = await find('vhost access refused', (r) => r['vhost'] === vhost);
  assert.match(String(refused['reason']), /^NOT_ALLOWED - vhost .* not found$/);
});

test('channel and connection errors are logged with their reply codes', { skip: notOnCluster }, async (t) => {
  if (external) { t.skip('reads Warren\'s own log'); return; }
  const conn = await connect(url());
  const ch = await channel(conn);
  const missing = uniq('missing');
  await assert.rejects(ch.checkQueue(missing));
  const chErr = await find('channel error', (r) => String(r['text']).includes(missing));
  assert.equal(chErr['code'], 404);
  assert.deepEqual([chErr['classId'], chErr['methodId']], [50, 10]);
  await conn.close();

  const { raw } = await rawOpenChannel('127.0.0.1', port);
  raw.write(encodeFrame(1, 1, Buffer.alloc(4), 0x00)); // bad frame-end octet
  await raw.expectConnectionClose();
  raw.destroy();
  const connErr = await find('connection error', (r) => r['code'] === 501);
  assert.match(String(connErr['text']), /^FRAME_ERROR - /);
});
