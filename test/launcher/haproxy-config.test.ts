// The generated haproxy.cfg: what it balances, how it checks health, and that haproxy itself accepts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHaproxyConfig, findHaproxy } from '../../src/launcher/commands.js';
import { haproxyConfig } from '../../src/launcher/haproxy-config.js';
import { DEFAULT_LAUNCHER_OPTIONS, planCluster } from '../../src/launcher/plan.js';

const plan = planCluster({ ...DEFAULT_LAUNCHER_OPTIONS, dataDir: '/d' });
const cfg = haproxyConfig(plan);

/** The lines of one `listen` section. */
function section(name: string, text = cfg): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(`listen ${name}`);
  assert.ok(start >= 0, `listen ${name}`);
  const end = lines.findIndex((l, i) => i > start && l === '');
  return lines.slice(start + 1, end).map((l) => l.trim());
}

test('AMQP: TCP on 5672, least connections over the frontends, health from each one\'s /readyz', () => {
  assert.deepEqual(section('amqp'), [
    'bind 127.0.0.1:5672', 'balance leastconn', 'option httpchk GET /readyz', 'http-check expect status 200',
    'server frontend-101 127.0.0.1:25706 check port 25707',
    'server frontend-102 127.0.0.1:25708 check port 25709',
  ]);
});

test('HTTP: TCP on 15672, round robin over the frontends\' admin ports; owners are in neither', () => {
  assert.deepEqual(section('http'), [
    'bind 127.0.0.1:15672', 'balance roundrobin', 'option httpchk GET /readyz', 'http-check expect status 200',
    'server frontend-101 127.0.0.1:25707 check port 25707',
    'server frontend-102 127.0.0.1:25709 check port 25709',
  ]);
  assert.doesNotMatch(cfg, /owner/);
});

test('a dead frontend is skipped: fast checks, redispatch on a refused connection, sessions cut when marked down', () => {
  assert.match(cfg, /^ {2}mode tcp$/m);
  assert.match(cfg, /^ {2}option redispatch 1$/m);
  assert.match(cfg, /^ {2}retries 3$/m);
  assert.match(cfg, /^ {2}default-server inter 500 .*fall 2 rise 1 on-marked-down shutdown-sessions$/m);
});

let haproxy: string | undefined;
try { haproxy = findHaproxy(); } catch { haproxy = undefined; }

test('haproxy -c accepts the config, for IPv4 and IPv6 hosts', { skip: haproxy === undefined && 'haproxy not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-haproxy-'));
  for (const host of ['127.0.0.1', '::1']) {
    const file = join(dir, 'haproxy.cfg');
    const text = haproxyConfig(planCluster({ ...DEFAULT_LAUNCHER_OPTIONS, dataDir: dir, host }));
    if (host === '::1') assert.match(text, /bind ipv6@::1:5672/);
    writeFileSync(file, text);
    checkHaproxyConfig(haproxy!, file);
  }
  writeFileSync(join(dir, 'bad.cfg'), 'listen x\n  balance nonsense\n');
  assert.throws(() => checkHaproxyConfig(haproxy!, join(dir, 'bad.cfg')), /haproxy rejects .*bad\.cfg/);
  rmSync(dir, { recursive: true });
});
