// The local cluster's plan: ids, the port layout from --base-port, each node's `warren start` flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LAUNCHER_OPTIONS, hostPort, planCluster, type LauncherOptions } from '../../src/launcher/plan.js';

const opts = (o: Partial<LauncherOptions> = {}): LauncherOptions => ({ ...DEFAULT_LAUNCHER_OPTIONS, dataDir: '/d', ...o });

test('defaults: owners 1-3 and frontends 101-102, two ports each from 25700, balancer on 5672 and 15672', () => {
  const p = planCluster(opts());
  assert.deepEqual(p.nodes.map((n) => [n.name, n.clusterPort ?? n.amqpPort, n.httpPort]), [
    ['owner-1', 25700, 25701], ['owner-2', 25702, 25703], ['owner-3', 25704, 25705],
    ['frontend-101', 25706, 25707], ['frontend-102', 25708, 25709],
  ]);
  assert.deepEqual(p.lb, { amqpPort: 5672, httpPort: 15672 });
  assert.deepEqual(p.ports.map((x) => x.port), [5672, 15672, ...Array.from({ length: 10 }, (_, i) => 25700 + i)]);
  assert.equal(p.haproxyConfigFile, '/d/haproxy.cfg');
});

test("an owner's flags: gRPC on --cluster-port, no AMQP; a frontend's: AMQP, no --cluster-port; both know every owner", () => {
  const [owner, , , frontend] = planCluster(opts({ host: '127.0.0.1', logLevel: 'debug' })).nodes;
  const owners = '1=127.0.0.1:25700,2=127.0.0.1:25702,3=127.0.0.1:25704';
  assert.deepEqual(owner!.args, ['--role', 'owner', '--node-id', '1', '--owners', owners, '--http-port', '25701',
    '--data-dir', '/d/owner-1', '--bind', '127.0.0.1', '--log-level', 'debug', '--cluster-port', '25700']);
  assert.deepEqual(frontend!.args, ['--role', 'frontend', '--node-id', '101', '--owners', owners, '--http-port', '25707',
    '--data-dir', '/d/frontend-101', '--bind', '127.0.0.1', '--log-level', 'debug', '--amqp-port', '25706']);
  assert.equal(owner!.logFile, '/d/owner-1.log');
  assert.equal(frontend!.dataDir, '/d/frontend-101');
});

test('counts scale the plan; an IPv6 host is bracketed in --owners', () => {
  const p = planCluster(opts({ owners: 5, frontends: 1, basePort: 30000, host: '::1' }));
  assert.deepEqual(p.nodes.map((n) => n.id), [1, 2, 3, 4, 5, 101]);
  assert.equal(p.nodes[5]!.amqpPort, 30010);
  assert.ok(p.nodes[0]!.args.includes('1=[::1]:30000,2=[::1]:30002,3=[::1]:30004,4=[::1]:30006,5=[::1]:30008'));
  assert.equal(hostPort('::1', 5672), '[::1]:5672');
  assert.equal(hostPort('127.0.0.1', 5672), '127.0.0.1:5672');
});

test('refused: bad counts and ports, and a node range over a balancer port', () => {
  assert.throws(() => planCluster(opts({ owners: 0 })), /invalid --owners: 0/);
  assert.throws(() => planCluster(opts({ frontends: 1.5 })), /invalid --frontends/);
  assert.throws(() => planCluster(opts({ amqpPort: Number.NaN })), /invalid --amqp-port: NaN/);
  assert.throws(() => planCluster(opts({ basePort: 65530 })), /invalid --base-port/);
  assert.throws(() => planCluster(opts({ restartDelayMs: -1 })), /invalid --restart-delay-ms/);
  assert.throws(() => planCluster(opts({ basePort: 5670 })), /port 5672 is planned twice: balancer AMQP \(--amqp-port\) and owner-2 gRPC/);
  assert.throws(() => planCluster(opts({ amqpPort: 9000, httpPort: 9000 })), /port 9000 is planned twice/);
});
