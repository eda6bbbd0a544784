// `warren cluster` end to end with fake nodes (test/launcher/fake-node.ts) and the real haproxy:
// readiness and the state file, balancing over both frontends, StatefulSet-like restarts after
// kill -9, a dead frontend skipped, and a clean stop on SIGTERM. Loopback only, free ports.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { findHaproxy } from '../../src/launcher/commands.js';
import type { ClusterState } from '../../src/launcher/state.js';
import {
  alive, banner, freePortRange, HOST, cleanUp, readState, startLauncher, waitFor, waitReady, whoami, type Launcher,
} from './harness.js';

const haproxyMissing = ((): string | false => {
  try { findHaproxy(); return false; } catch (err) { return (err as Error).message; }
})();

const RESTART_DELAY_MS = 2000;

/** Every pid a state file names: nodes and haproxy. */
function pids(s: ClusterState): number[] {
  return [s.lb.pid, ...s.nodes.map((n) => n.pid)].filter((p): p is number => p !== null);
}

function node(s: ClusterState, id: number): ClusterState['nodes'][number] {
  const n = s.nodes.find((x) => x.id === id);
  assert.ok(n, `node ${id} in the state file`);
  return n;
}

describe('warren cluster with fake nodes', { skip: haproxyMissing, timeout: 240_000 }, () => {
  let l: Launcher;
  let first: ClusterState;
  const seen = new Set<number>();

  before(async () => {
    l = await startLauncher(['--restart-delay-ms', String(RESTART_DELAY_MS), '--stop-grace-ms', '5000']);
    first = await waitReady(l);
    for (const p of pids(first)) seen.add(p);
  });

  after(async () => {
    const last = readState(l.stateFile);
    await cleanUp(l, [...seen, ...(last ? pids(last) : [])]);
  });

  test('becomes ready: the state file names every node, its pid, addresses, data dir and log', async () => {
    assert.equal(first.ready, true);
    assert.equal(first.pid, l.child.pid);
    assert.match(first.lb.amqp, /^amqp:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match(first.lb.http, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(first.lb.pid !== null && alive(first.lb.pid), 'haproxy runs');
    assert.deepEqual(first.nodes.map((n) => [n.id, n.role]),
      [[1, 'owner'], [2, 'owner'], [3, 'owner'], [101, 'frontend'], [102, 'frontend']]);
    for (const n of first.nodes) {
      assert.ok(n.pid !== null && alive(n.pid), `node ${n.id} runs`);
      assert.equal(n.up, true);
      assert.equal(n.restarts, 0);
      assert.equal(n.amqp !== undefined, n.role === 'frontend', `only frontends have an AMQP address (node ${n.id})`);
      assert.equal(n.cluster !== undefined, n.role === 'owner', `only owners have a gRPC address (node ${n.id})`);
      assert.ok(statSync(n.dataDir).isDirectory());
      assert.match(readFileSync(n.log, 'utf8'), new RegExp(`fake-node ${n.id} \\(${n.role}\\) pid ${n.pid} listening`));
      // The node's own HTTP port is the one the state file names, and it runs with the planned flags.
      const me = await whoami(n.http);
      assert.deepEqual([me.id, me.role, me.pid], [n.id, n.role, n.pid]);
      if (n.amqp !== undefined) assert.equal(await banner(n.amqp), `fake-node ${n.id}`);
      if (n.cluster !== undefined) assert.equal(await banner(`tcp://${n.cluster}`), `fake-node ${n.id}`);
    }
  });

  test('AMQP and HTTP through haproxy reach both frontends', async () => {
    const amqp = new Set<string>();
    const http = new Set<number>();
    for (let i = 0; i < 6; i++) {
      amqp.add(await banner(first.lb.amqp));
      http.add((await whoami(first.lb.http)).id);
    }
    assert.deepEqual([...amqp].sort(), ['fake-node 101', 'fake-node 102']);
    assert.deepEqual([...http].sort(), [101, 102]);
  });

  test('kill -9 of an owner: restarted after the delay, same id and data, new pid in the state file', async () => {
    const before = node(readState(l.stateFile)!, 2);
    const killedAt = Date.now();
    process.kill(before.pid!, 'SIGKILL');
    const down = await waitFor('owner 2 down in the state file', () => node(readState(l.stateFile)!, 2), (n) => n.pid === null, 10_000);
    assert.equal(down.up, false);
    const back = await waitFor('owner 2 back', () => node(readState(l.stateFile)!, 2), (n) => n.pid !== null && n.up, 30_000);
    const tookMs = Date.now() - killedAt;
    seen.add(back.pid!);
    assert.notEqual(back.pid, before.pid);
    assert.ok(tookMs >= RESTART_DELAY_MS, `restarted after ${tookMs} ms, not before the ${RESTART_DELAY_MS} ms delay`);
    assert.equal(back.restarts, 1);
    assert.equal(back.dataDir, before.dataDir);
    assert.equal(alive(before.pid!), false);
    const me = await whoami(back.http);
    assert.deepEqual([me.id, me.pid], [2, back.pid]);
    assert.ok(me.args.join(' ').includes(`--data-dir ${before.dataDir}`), 'same data directory');
    // The log is appended to: both incarnations are in it.
    assert.equal(readFileSync(back.log, 'utf8').match(/--- warren cluster: starting owner-2/g)?.length, 2);
  });

  test('a dead frontend is skipped: every connection through haproxy reaches the other one', async () => {
    const victim = node(readState(l.stateFile)!, 101);
    const killedAt = Date.now();
    process.kill(victim.pid!, 'SIGKILL');
    await waitFor('frontend 101 gone', () => alive(victim.pid!), (a) => !a, 5000);
    // Until the restart delay has passed nothing serves as 101, so anything answering is 102.
    let tries = 0;
    while (Date.now() - killedAt < RESTART_DELAY_MS - 500 && tries < 20) {
      assert.equal(await banner(first.lb.amqp), 'fake-node 102');
      assert.equal((await whoami(first.lb.http)).id, 102);
      tries++;
    }
    assert.ok(tries >= 3, `only ${tries} rounds of connections within the restart delay`);
    const back = await waitFor('frontend 101 back', () => node(readState(l.stateFile)!, 101), (n) => n.pid !== null && n.up, 30_000);
    seen.add(back.pid!);
    // haproxy's health check (every 500 ms, up after one success) brings it back into rotation.
    await waitFor('frontend 101 through haproxy again', async () => (await whoami(first.lb.http)).id, (id) => id === 101, 10_000);
  });

  test('haproxy killed: restarted, and the balancer works again', async () => {
    const before = readState(l.stateFile)!.lb.pid!;
    process.kill(before, 'SIGKILL');
    const s = await waitFor('a new haproxy pid', () => readState(l.stateFile)!, (x) => x.lb.pid !== null && x.lb.pid !== before, 30_000);
    seen.add(s.lb.pid!);
    await waitFor('AMQP through the new haproxy', () => banner(s.lb.amqp).catch((e: Error) => e.message), (b) => b.startsWith('fake-node 10'), 10_000);
  });

  test('SIGTERM: the launcher exits 0, every node and haproxy is gone, the state file removed', async () => {
    const last = readState(l.stateFile)!;
    const all = pids(last);
    assert.equal(all.length, 6);
    l.child.kill('SIGTERM');
    const { code, signal } = await l.exit;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, l.stderr());
    for (const pid of [...all, ...seen]) assert.equal(alive(pid), false, `pid ${pid} still runs`);
    assert.equal(existsSync(l.stateFile), false);
    assert.match(l.stderr(), /SIGTERM: stopping/);
  });
});

describe('warren cluster stopping and refusing', { skip: haproxyMissing, timeout: 120_000 }, () => {
  test('a node that ignores SIGTERM is killed after the grace; the launcher still exits 0', async () => {
    const l = await startLauncher(['--owners', '1', '--frontends', '1', '--stop-grace-ms', '1000'],
      { FAKE_NODE_IGNORE_SIGTERM: '1' });
    let s: ClusterState | undefined;
    try {
      s = await waitReady(l);
      const t0 = Date.now();
      l.child.kill('SIGTERM');
      const { code } = await l.exit;
      assert.equal(code, 0, l.stderr());
      assert.ok(Date.now() - t0 >= 1000, 'waited for the grace');
      assert.match(l.stderr(), /owner-1 did not stop within 1000 ms; SIGKILL/);
      for (const pid of pids(s)) assert.equal(alive(pid), false, `pid ${pid} still runs`);
    } finally {
      await cleanUp(l, s ? pids(s) : []);
    }
  });

  test('a planned port in use: exit 1 naming the port, nothing started', async () => {
    // Hold the port the first owner would take, so the plan cannot run.
    const base = await freePortRange(6);
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(base + 2, HOST, () => r()));
    try {
      const l = await startLauncher(['--owners', '1', '--frontends', '1', '--amqp-port', String(base), '--http-port', String(base + 1),
        '--base-port', String(base + 2)]);
      const { code } = await l.exit;
      assert.equal(code, 1);
      assert.match(l.stderr(), new RegExp(`${base + 2} \\(owner-1 gRPC\\): in use`));
      assert.equal(existsSync(l.stateFile), false);
      await cleanUp(l);
    } finally {
      squatter.close();
    }
  });

  test('bad options: exit 2 with the flag named', async () => {
    const l = await startLauncher(['--owners', '0']);
    assert.equal((await l.exit).code, 2);
    assert.match(l.stderr(), /invalid --owners: 0/);
    await cleanUp(l);
  });
});

test('node command override must be a JSON array', { skip: haproxyMissing }, async () => {
  const l = await startLauncher([], { WARREN_CLUSTER_NODE_COMMAND: 'node fake.js' });
  assert.equal((await l.exit).code, 2);
  assert.match(l.stderr(), /invalid node command/);
  await cleanUp(l);
});
