// Issue 8: the placement lives in the metadata group. A real cluster (`warren cluster`: 3 owners,
// 2 frontends, haproxy, real `warren start --role …` processes) bootstraps epoch 1; Meta.GetPlacement,
// GET /api/placement on every node and `warren ctl status` report it, the owners host exactly the
// partitions it gives them and a frontend shows a queue's members from it. A frontend started with
// an --owners list that contradicts the stored placement refuses to run (exit 1, a clear error),
// and so does an owner restarted on its data directory with a changed list: it reads the record its
// replica recovered before it opens any partition.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import type { ClusterStatus } from '../../src/cli/ctl-status.js';
import type { ClusterState } from '../../src/launcher/state.js';
import { META } from '../../src/rpc/contracts.js';
import { RpcChannel } from '../../src/rpc/server.js';
import { waitFor } from '../launcher/harness.js';
import { haproxyMissing, RealCluster } from './amqp-load.js';

const ROOT = join(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const PARTITIONS = 16;

interface PlacementJson {
  epoch: number; partitions: number; replication_factor: number; vnodes: number;
  owners: Array<{ id: number; address: string }>; replicas: number[][];
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { authorization: AUTH }, signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200, `GET ${url}`);
  return (await res.json()) as T;
}

/** Runs `main.ts <args>` to its exit (killed after `timeoutMs`): exit code and output. */
function run(args: readonly string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const ownerList = (state: ClusterState): string =>
  state.nodes.filter((n) => n.role === 'owner').map((n) => `${n.id}=${n.cluster}`).join(',');

let cluster: RealCluster | undefined;
const scratch = mkdtempSync(join(tmpdir(), 'warren-placement-'));
after(async () => {
  await cluster?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

test('the placement is stored with epoch 1 and every node uses it; a contradicting --owners is refused', { skip: haproxyMissing, timeout: 240_000 }, async () => {
  cluster = await RealCluster.start();
  const state = cluster.state();
  const owners = state.nodes.filter((n) => n.role === 'owner');
  const frontends = state.nodes.filter((n) => n.role === 'frontend');

  // Meta.GetPlacement, at the metadata leader (the others answer NotLeader).
  const answers = await Promise.all(owners.map(async (o) => {
    const ch = new RpcChannel(o.cluster!);
    try {
      return await ch.unary(META.getPlacement, {}, 5000);
    } finally {
      ch.close();
    }
  }));
  const led = answers.filter((a) => a.error == null);
  assert.equal(led.length, 1, `one metadata leader answers: ${JSON.stringify(answers.map((a) => a.error))}`);
  const wire = led[0]!.placement!;
  assert.equal(Number(wire.epoch), 1);
  assert.deepEqual(wire.owners?.map((o) => [o.id, o.address, o.metaVoter]), owners.map((o) => [String(o.id), o.cluster, true]));
  assert.equal(wire.partitions?.length, PARTITIONS);
  assert.deepEqual([wire.vnodes, wire.replicationFactor], [64, 3]);

  // Every node (owners' replicas, frontends' caches) has the same record, the one GetPlacement gave.
  const stored = await getJson<PlacementJson>(`${owners[0]!.http}/api/placement`);
  assert.equal(stored.epoch, 1);
  assert.deepEqual(stored.replicas, wire.partitions!.map((p) => p.replicas!.map(Number)));
  for (const n of state.nodes) assert.deepEqual(await getJson<PlacementJson>(`${n.http}/api/placement`), stored, `node ${n.id}`);
  for (const [i, set] of stored.replicas.entries()) assert.equal(new Set(set).size, 3, `partition ${i + 1} has 3 distinct replicas`);

  // The owners host exactly the partitions the record gives them.
  for (const o of owners) {
    const parts = await getJson<Array<{ partition: number }>>(`${o.http}/api/partitions`);
    const expected = stored.replicas.flatMap((set, i) => (set.includes(o.id) ? [i + 1] : []));
    assert.deepEqual(parts.map((p) => p.partition).sort((a, b) => a - b), expected, `owner ${o.id}`);
  }

  // A frontend shows a durable queue's members from the record.
  const conn = await amqp.connect(state.lb.amqp);
  const ch = await conn.createChannel();
  await ch.assertQueue('placed', { durable: true });
  await conn.close();
  for (const fe of frontends) {
    const q = await waitFor(`${fe.id}: queue figures`, () => getJson<{ partition?: number; members?: number[] }>(`${fe.http}/api/queues/%2F/placed`),
      (x) => x.partition !== undefined, 10_000);
    assert.deepEqual(q.members, stored.replicas[q.partition! - 1], `frontend ${fe.id}: members = the stored replicas, preferred first`);
  }

  // ctl status reports the epoch.
  const status = await run(['ctl', 'status', '--state', cluster.launcher.stateFile, '--json'], 30_000);
  assert.equal(status.code, 0, status.out);
  const s = JSON.parse(status.out) as ClusterStatus;
  assert.equal(s.placement?.epoch, 1);
  assert.deepEqual(s.placement?.replicas, stored.replicas);
  const text = await run(['ctl', 'status', '--state', cluster.launcher.stateFile], 30_000);
  assert.match(text.out, /^Placement: epoch 1 \(16 partitions, replication factor 3, 64 vnodes, owners 1,2,3\)$/m);

  // A frontend that names a fourth owner: it reads the stored placement, says why it cannot run, exits 1.
  const extra = `${ownerList(state)},4=127.0.0.1:1`;
  const fe = await run(['start', '--role', 'frontend', '--node-id', '150', '--owners', extra, '--amqp-port', '0', '--http-port', '0',
    '--bind', '127.0.0.1', '--data-dir', join(scratch, 'fe-150')], 60_000);
  assert.equal(fe.code, 1, fe.out);
  assert.match(fe.out, /differs from the placement stored in the metadata group \(epoch 1\)/);
  assert.match(fe.out, /Membership changes are not supported yet/);
  console.log(fe.out.split('\n').find((l) => l.includes('differs')));

  // An owner restarted on its data directory with another address for owner 2: its replica
  // recovered the record, so it refuses before opening a partition. (The cluster is stopped first,
  // without removing the data, so nothing restarts owner 1 meanwhile.)
  cluster.launcher.child.kill('SIGKILL');
  for (const n of cluster.state().nodes) if (n.pid !== null) try { process.kill(n.pid, 'SIGKILL'); } catch { /* gone */ }
  const owner1 = owners.find((o) => o.id === 1)!;
  await waitFor('owner 1 gone', async () => {
    try { await fetch(`${owner1.http}/readyz`, { signal: AbortSignal.timeout(500) }); return false; } catch { return true; }
  }, (gone) => gone, 10_000);
  const moved = owners.map((o) => `${o.id}=${o.id === 2 ? '127.0.0.1:1' : o.cluster}`).join(',');
  const restarted = await run(['start', '--role', 'owner', '--node-id', '1', '--owners', moved, '--cluster-port', '0', '--http-port', '0',
    '--bind', '127.0.0.1', '--data-dir', owner1.dataDir], 60_000);
  assert.equal(restarted.code, 1, restarted.out);
  assert.match(restarted.out, /owners 1=[^ ]+,2=127\.0\.0\.1:1,3=[^ ]+ \(stored: /);
  assert.doesNotMatch(restarted.out, /owner started/, 'it opened no partition');
});
