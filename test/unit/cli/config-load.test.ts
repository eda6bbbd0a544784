// warren start's configuration precedence: defaults < config file < WARREN_* env < flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/cli/config-load.js';
import { DEFAULT_CONFIG } from '../../../src/config.js';

test('defaults are RabbitMQ-like: 5672, 15672, all interfaces, ./data, guest', () => {
  const cfg = loadConfig({}, {});
  assert.deepEqual(cfg, DEFAULT_CONFIG);
  assert.equal(cfg.amqpPort, 5672);
  assert.equal(cfg.httpPort, 15672);
  assert.deepEqual(cfg.bind, ['::']);
});

test('config file < environment < flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-cfg-'));
  const file = join(dir, 'warren.json');
  writeFileSync(file, JSON.stringify({ amqpPort: 1111, httpPort: 2222, dataDir: '/from-file', defaultUser: 'file-user' }));
  const cfg = loadConfig({ config: file, amqpPort: '3333' }, {
    WARREN_HTTP_PORT: '4444', WARREN_AMQP_PORT: '5555', WARREN_DEFAULT_USER: 'admin', WARREN_DEFAULT_PASS: 's3cret',
    WARREN_BIND: '127.0.0.1, ::1',
  });
  assert.equal(cfg.amqpPort, 3333, 'flag beats env');
  assert.equal(cfg.httpPort, 4444, 'env beats file');
  assert.equal(cfg.dataDir, '/from-file', 'file beats default');
  assert.equal(cfg.defaultUser, 'admin');
  assert.equal(cfg.defaultPass, 's3cret');
  assert.deepEqual(cfg.bind, ['127.0.0.1', '::1']);
});

test('bad ports and half a TLS configuration are refused', () => {
  assert.throws(() => loadConfig({ amqpPort: '70000' }, {}), /invalid --amqp-port/);
  assert.throws(() => loadConfig({ tlsCert: 'c.pem' }, {}), /TLS needs both/);
  const tls = loadConfig({ tlsCert: 'c.pem', tlsKey: 'k.pem' }, {}).tls;
  assert.deepEqual(tls, { certFile: 'c.pem', keyFile: 'k.pem' });
});
