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

test('cluster roles: owners parsed from flag or env, an owner is one of them, a frontend is not', () => {
  const owners = '1=127.0.0.1:25001, 2=127.0.0.1:25002,3=owner-2.warren:25672';
  const cfg = loadConfig({ role: 'owner', nodeId: '2', owners }, {});
  assert.equal(cfg.role, 'owner');
  assert.equal(cfg.nodeId, 2);
  assert.deepEqual(cfg.owners, [
    { id: 1, address: '127.0.0.1:25001' }, { id: 2, address: '127.0.0.1:25002' }, { id: 3, address: 'owner-2.warren:25672' },
  ]);
  assert.equal(cfg.clusterPort, 25672, "RabbitMQ's inter-node port by default");
  const fe = loadConfig({}, { WARREN_ROLE: 'frontend', WARREN_NODE_ID: '11', WARREN_OWNERS: owners, WARREN_CLUSTER_PORT: '7000' });
  assert.equal(fe.role, 'frontend');
  assert.equal(fe.clusterPort, 7000);
  assert.throws(() => loadConfig({ role: 'owner', nodeId: '4', owners }, {}), /not one of --owners/);
  assert.throws(() => loadConfig({ role: 'frontend', nodeId: '1', owners }, {}), /an owner's id/);
  assert.throws(() => loadConfig({ role: 'owner', nodeId: '1' }, {}), /needs --owners/);
  assert.throws(() => loadConfig({ role: 'owner', owners }, {}), /needs --node-id/);
  assert.equal(loadConfig({ role: 'frontend', owners }, {}).nodeId, 0, "a frontend's id is optional");
  assert.throws(() => loadConfig({ owners }, {}), /--owners needs --role/);
  assert.throws(() => loadConfig({ role: 'leader' }, {}), /invalid --role/);
  assert.throws(() => loadConfig({ role: 'owner', nodeId: '1', owners: '1=nohost' }, {}), /invalid --owners entry/);
  assert.throws(() => loadConfig({ role: 'owner', nodeId: '1', owners: '1=a:1,1=b:2' }, {}), /twice/);
  assert.throws(() => loadConfig({ nodeId: '0' }, {}), /invalid --node-id/);
});

test('WARREN_NODE_ID_FROM_ORDINAL: a StatefulSet ordinal gives node id ordinal + 1; an explicit id wins', () => {
  const owners = '1=o-0.h:25672,2=o-1.h:25672,3=o-2.h:25672';
  const idOf = (env: NodeJS.ProcessEnv, nodeId?: string): number =>
    loadConfig({ role: 'owner', owners, ...(nodeId ? { nodeId } : {}) }, env).nodeId;
  assert.equal(idOf({ WARREN_NODE_ID_FROM_ORDINAL: '0' }), 1);
  assert.equal(idOf({ WARREN_NODE_ID_FROM_ORDINAL: '2' }), 3);
  assert.equal(idOf({ WARREN_NODE_ID_FROM_ORDINAL: '0', WARREN_NODE_ID: '2' }), 2, 'WARREN_NODE_ID wins');
  assert.equal(idOf({ WARREN_NODE_ID_FROM_ORDINAL: '0' }, '3'), 3, '--node-id wins');
  // An empty value is what the downward API gives when the pod-index label is missing (Kubernetes < 1.28).
  for (const bad of ['', '-1', '1.5', 'warren-owner-0']) {
    assert.throws(() => idOf({ WARREN_NODE_ID_FROM_ORDINAL: bad }), /invalid WARREN_NODE_ID_FROM_ORDINAL/, `'${bad}'`);
  }
  assert.throws(() => idOf({ WARREN_NODE_ID_FROM_ORDINAL: '3' }), /--node-id 4 is not one of --owners/, 'a pod beyond the owners list');
  assert.throws(() => idOf({ WARREN_NODE_ID_FROM_ORDINAL: '65535' }), /invalid --node-id: 65536/);
});
