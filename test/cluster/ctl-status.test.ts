// Issue 8's operator views against a real cluster (`warren cluster`: 3 owners, 2 frontends, haproxy,
// real `warren start --role …` processes): a frontend's /api/queues shows the owners' figures for
// what was published and consumed, a durable queue's leader / members / online as the owners see
// them, and `warren ctl status --json` lists the owners, the metadata group (one leader, every
// owner's replica with small lag), every partition with its replicas, one leader and small lag, and
// both frontends' session leases — the consuming one's with the partition holding its consumer, the
// idle one's from its lease alone. A frontend stopped with SIGTERM ends its lease at once: it leaves
// the list, and the launcher's restart of it opens a new one. Then an owner is killed: it drops
// out of `online`, and ctl status says degraded (exit 2) until the launcher brings it back.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import amqp from 'amqplib';
import type { ClusterStatus } from '../../src/cli/ctl-status.js';
import type { ClusterState } from '../../src/launcher/state.js';
import { waitFor } from '../launcher/harness.js';
import { haproxyMissing, RealCluster } from './amqp-load.js';

const ROOT = join(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const PARTITIONS = 16; // the default (src/config.ts)

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { authorization: AUTH }, signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200, `GET ${url}`);
  return (await res.json()) as T;
}

interface QueueJson {
  messages: number; messages_ready: number; messages_unacknowledged: number; consumers: number; message_bytes: number;
  partition?: number; leader?: number; members?: number[]; online?: number[];
}
interface PartitionJson { partition: number; leader: number; sessions?: string[] }
interface MetadataJson { leader: number; lease_deadlines: boolean; leases: Array<{ session?: string; frontend?: number; expires_in_ms?: number }> }

/** `warren ctl status …`: its exit code and output. */
function ctl(args: readonly string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'ctl', 'status', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

function ownersFlag(state: ClusterState): string {
  return state.nodes.filter((n) => n.role === 'owner').map((n) => `${n.id}=${new URL(n.http).host}`).join(',');
}

let cluster: RealCluster | undefined;
after(async () => cluster?.stop());

test('a frontend shows the owners\' queue figures and Raft members; ctl status lists the cluster', { skip: haproxyMissing, timeout: 240_000 }, async () => {
  // A killed owner stays down long enough to be seen down.
  cluster = await RealCluster.start(8000);
  const state = cluster.state();
  const owners = state.nodes.filter((n) => n.role === 'owner');
  const [fe1, fe2] = state.nodes.filter((n) => n.role === 'frontend');
  assert.ok(fe1?.amqp !== undefined && fe2 !== undefined);

  // Published and consumed through frontend 1: 30 durable (10 got and acked, 5 held unacked by a consumer), 7 transient.
  const conn = await amqp.connect(fe1.amqp);
  const ch = await conn.createConfirmChannel();
  const durable = 'ctl-durable';
  const transient = 'ctl-transient';
  await ch.assertQueue(durable, { durable: true });
  await ch.assertQueue(transient, { durable: false });
  for (let i = 0; i < 30; i++) ch.sendToQueue(durable, Buffer.from(`d${i}`.padEnd(100, '.')), { persistent: true });
  for (let i = 0; i < 7; i++) ch.sendToQueue(transient, Buffer.from('t'.repeat(50)));
  await ch.waitForConfirms();
  for (let i = 0; i < 10; i++) {
    const m = await ch.get(durable, { noAck: false });
    assert.ok(m !== false);
    ch.ack(m);
  }
  const sub = await conn.createChannel();
  await sub.prefetch(5);
  let held = 0;
  await sub.consume(durable, () => { held++; }, { noAck: false });
  await waitFor('5 deliveries held', () => held, (n) => n === 5, 10_000);

  // Both frontends (frontend 2 never saw these clients) answer with the owners' figures.
  for (const fe of [fe1, fe2]) {
    const q = await waitFor(`${fe.id}: durable figures`, () => getJson<QueueJson>(`${fe.http}/api/queues/%2F/${durable}`),
      (x) => x.messages_ready === 15 && x.messages_unacknowledged === 5, 10_000);
    assert.equal(q.messages, 20);
    assert.equal(q.consumers, 1);
    assert.equal(q.message_bytes, 20 * 100);
    const t = await getJson<QueueJson>(`${fe.http}/api/queues/%2F/${transient}`);
    assert.deepEqual([t.messages, t.messages_ready, t.messages_unacknowledged, t.message_bytes], [7, 7, 0, 7 * 50]);
    assert.equal(t.leader, undefined, 'a transient queue has no Raft members');
    assert.equal(t.members, undefined);

    // leader = the owner the owners' /api/partitions names; members = the owners replicating the partition.
    // The frontend's figures and the owners' views are read at different moments: on a loaded machine
    // a leader may move (a transfer to the preferred replica, an election) or an answer arrive late in
    // between, so the two are compared until they agree (each check below still fails if they never do).
    assert.ok(q.partition !== undefined && q.partition >= 1 && q.partition <= PARTITIONS);
    const views = async (): Promise<{ q: QueueJson; hosting: number[]; leaders: number[] }> => {
      const now = await getJson<QueueJson>(`${fe.http}/api/queues/%2F/${durable}`);
      const vs = await Promise.all(owners.map(async (o) => ({ id: o.id, parts: await getJson<PartitionJson[]>(`${o.http}/api/partitions`) })));
      const hosting = vs.filter((v) => v.parts.some((p) => p.partition === now.partition)).map((v) => v.id).sort();
      const leaders = [...new Set(vs.flatMap((v) => v.parts.filter((p) => p.partition === now.partition).map((p) => p.leader)))];
      return { q: now, hosting, leaders };
    };
    const agreed = await waitFor(`${fe.id}: the frontend's leader and online members agree with the owners'`, views,
      (v) => v.leaders.length === 1 && v.leaders[0] === v.q.leader && [...(v.q.online ?? [])].sort().join() === v.hosting.join(), 10_000)
      .catch(() => views());
    assert.deepEqual(agreed.leaders, [agreed.q.leader], 'every replica names the leader the frontend shows');
    assert.deepEqual([...(agreed.q.members ?? [])].sort(), agreed.hosting);
    assert.equal(agreed.hosting.length, 3);
    assert.deepEqual([...(agreed.q.online ?? [])].sort(), agreed.hosting);

    // The list carries the same fields, and the overview the owners' totals.
    const list = await getJson<Array<QueueJson & { name: string }>>(`${fe.http}/api/queues/%2F`);
    const inList = list.find((x) => x.name === durable);
    assert.deepEqual([inList?.messages, inList?.members], [20, agreed.q.members]);
    assert.ok(inList?.leader !== undefined && agreed.hosting.includes(inList.leader), `the list names a replica as leader: ${inList?.leader}`);
    const ov = await getJson<{ queue_totals: { messages: number } }>(`${fe.http}/api/overview`);
    assert.equal(ov.queue_totals.messages, 27);
  }
  const before = await getJson<QueueJson>(`${fe2.http}/api/queues/%2F/${durable}`);
  const partition = before.partition;

  // ctl status: 3 owners up, every partition with 3 replicas and one leader, small lag, frontend 1's session.
  const r = await ctl(['--owners', ownersFlag(state), '--json']);
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out) as ClusterStatus;
  assert.equal(s.healthy, true);
  assert.deepEqual(s.members.filter((m) => m.role === 'owner').map((m) => [m.id, m.up]), [[1, true], [2, true], [3, true]]);
  assert.equal(s.partitions.length, PARTITIONS);
  for (const p of s.partitions) {
    assert.equal(p.replicas.length, 3, `partition ${p.partition}`);
    assert.deepEqual(p.replicas.filter((x) => x.role === 'leader').map((x) => x.id), [p.leader]);
    assert.ok(p.replicas.every((x) => x.lag <= 5), `partition ${p.partition} lags: ${JSON.stringify(p.replicas)}`);
  }
  // The frontend's leader as read just before or just after ctl ran (a leader may move in between).
  const after = await getJson<QueueJson>(`${fe2.http}/api/queues/%2F/${durable}`);
  const ctlLeader = s.partitions.find((p) => p.partition === partition)?.leader;
  assert.ok(ctlLeader === before.leader || ctlLeader === after.leader, `ctl's leader ${ctlLeader}, the frontend's ${before.leader} then ${after.leader}`);
  const consumerSession = s.sessions.find((x) => x.frontend === fe1.id && x.partitions.includes(partition ?? -1));
  assert.ok(consumerSession !== undefined, `frontend ${fe1.id}'s session holds the consumer: ${JSON.stringify(s.sessions)}`);
  assert.ok(s.members.some((m) => m.role === 'frontend' && m.id === fe1.id));

  // The metadata group: one leader every replica agrees on, all three owners' replicas close behind it.
  const ownerIds = owners.map((o) => o.id);
  assert.ok(ownerIds.includes(s.metadata.leader), `metadata leader ${s.metadata.leader}`);
  assert.deepEqual(s.metadata.replicas.map((x) => x.id), ownerIds);
  assert.deepEqual(s.metadata.replicas.filter((x) => x.role === 'leader').map((x) => x.id), [s.metadata.leader]);
  assert.ok(s.metadata.replicas.every((x) => x.lag <= 5 && x.applied_index > 0), JSON.stringify(s.metadata.replicas));
  assert.deepEqual(s.metadata.unanswered, []);
  assert.equal(s.metadata.leases_from, s.metadata.leader, 'leases as the leader holds them');
  // Both frontends' leases, with their node ids; frontend 2 has no consumer anywhere and shows all the same.
  const leased = new Map(s.sessions.filter((x) => x.state === 'open').map((x) => [x.frontend, x]));
  for (const fe of [fe1, fe2]) {
    const x = leased.get(fe.id);
    assert.ok(x !== undefined, `frontend ${fe.id}'s lease: ${JSON.stringify(s.sessions)}`);
    assert.equal(x.session, `fe-${fe.id}-${x.lease}`);
    assert.equal(x.ttl_ms, 10_000);
    assert.ok(x.expires_in_ms !== undefined && x.expires_in_ms > 0 && x.expires_in_ms <= 10_000, `time left ${x.expires_in_ms}`);
    assert.deepEqual(s.members.find((m) => m.role === 'frontend' && m.id === fe.id)?.sessions, [x.session]);
  }
  assert.equal(leased.get(fe1.id)?.session, consumerSession.session);
  assert.deepEqual(leased.get(fe2.id)?.partitions, [], 'frontend 2 holds no consumer');
  assert.equal(s.metadata.open_leases, 2);
  // The endpoint itself: every owner lists the same two leases; only the leader knows the time left.
  for (const o of owners) {
    const m = await getJson<MetadataJson>(`${o.http}/api/metadata`);
    assert.deepEqual(m.leases.map((l) => l.frontend).sort(), [fe1.id, fe2.id].sort(), `owner ${o.id}`);
    assert.equal(m.lease_deadlines, o.id === s.metadata.leader, `owner ${o.id} keeps the deadlines iff it leads`);
    assert.equal(m.leases.every((l) => l.expires_in_ms !== undefined), o.id === s.metadata.leader);
  }
  const text = await ctl(['--state', cluster.launcher.stateFile]);
  assert.equal(text.code, 0, text.err);
  console.log(text.out); // the operator's view, in the test log
  assert.match(text.out, /^Cluster: healthy \(3 owners, 16 partitions/);
  assert.ok(text.out.includes(consumerSession.session));
  assert.match(text.out, new RegExp(`^Metadata group: leader ${s.metadata.leader}, term \\d+, 2 open leases`, 'm'));

  // Frontend 2 stopped cleanly: it ends its lease on the way out, so it leaves the list at once;
  // the launcher starts it again and the new process opens a new lease.
  const oldLease = leased.get(fe2.id)!;
  assert.ok(fe2.pid !== null);
  process.kill(fe2.pid, 'SIGTERM');
  const gone = await waitFor('frontend 2\'s lease gone', async () => JSON.parse((await ctl(['--owners', ownersFlag(state), '--json'])).out) as ClusterStatus,
    (x) => !x.sessions.some((y) => y.session === oldLease.session), 15_000);
  assert.equal(gone.members.some((m) => m.role === 'frontend' && m.id === fe2.id), false, 'no lease, no consumer: not listed');
  assert.ok(gone.sessions.some((y) => y.session === consumerSession.session && y.state === 'open'), 'frontend 1 is untouched');
  const back = await waitFor('frontend 2 with a new lease', async () => JSON.parse((await ctl(['--owners', ownersFlag(state), '--json'])).out) as ClusterStatus,
    (x) => x.sessions.some((y) => y.frontend === fe2.id && y.state === 'open'), 60_000);
  const renewed = back.sessions.find((y) => y.frontend === fe2.id)!;
  assert.ok((renewed.lease ?? 0) > (oldLease.lease ?? 0), `a new lease: ${oldLease.session} → ${renewed.session}`);
  assert.deepEqual(back.members.find((m) => m.id === fe2.id), { id: fe2.id, role: 'frontend', up: true, sessions: [renewed.session] });
  await cluster.restarted(fe2.id, fe2.pid);
  await waitFor('frontend 2 ready', () => fetch(`${fe2.http}/readyz`).then((r) => r.status, () => 0), (code) => code === 200, 30_000);

  // An owner other than the queue's leader is killed: it leaves `online` and ctl status reports it down.
  const leaderNow = (await getJson<QueueJson>(`${fe2.http}/api/queues/%2F/${durable}`)).leader;
  const victim = owners.find((o) => o.id !== leaderNow)!;
  assert.ok(victim.pid !== null);
  process.kill(victim.pid, 'SIGKILL');
  const q = await waitFor('the killed owner offline', () => getJson<QueueJson>(`${fe2.http}/api/queues/%2F/${durable}`),
    (x) => !(x.online ?? []).includes(victim.id), 15_000);
  assert.deepEqual([...(q.online ?? [])].sort(), (q.members ?? []).filter((id) => id !== victim.id).sort());
  assert.equal(q.messages, 20, 'figures still come from the leader');
  const down = await ctl(['--owners', ownersFlag(state), '--json', '--timeout-ms', '1000']);
  assert.equal(down.code, 2);
  const ds = JSON.parse(down.out) as ClusterStatus;
  assert.equal(ds.healthy, false);
  assert.equal(ds.members.find((m) => m.id === victim.id)?.up, false);
  await conn.close();
});
