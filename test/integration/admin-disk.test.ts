// Observable disk (issue 7): per durable queue its bytes on disk and partition, per partition its
// Raft log (length, indexes, bytes) and bytes on disk, through /api/queues, /api/partitions and
// /metrics of a running Warren, after real AMQP clients filled a queue (Warren only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { channel, confirmChannel, eventually, uniq, useBrokerConnection } from '../helpers/amqp.js';
import { apiBase, apiRequest, basicAuth, GUEST_AUTH, metricSample } from '../helpers/admin.js';
import { partitionOf } from '../../src/owner/durable.js';
import { TARGET } from '../helpers/target.js';

const PARTITIONS = 16;
const COUNT = 3000;
const BODY = 4096;
const MIB = 1024 * 1024;

const fixture = useBrokerConnection();

const get = (path: string, auth = GUEST_AUTH): Promise<Response> => apiRequest(apiBase(fixture.broker), path, auth);

async function getJson<T>(path: string): Promise<T> {
  const res = await get(path);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as T;
}

interface PartitionJson {
  partition: number; queues: number; messages: number; message_bytes: number; disk_bytes: number; log_disk_bytes: number;
  log_entries: number; first_index: number; last_index: number; commit_index: number; applied_index: number; log_bytes: number;
  term: number; leader: number;
}


test('a durable queue reports its partition, persistent messages and bytes on disk; its partition its log', async (t) => {
  if (!fixture.broker.isWarren || fixture.broker.httpPort === undefined) { t.skip('Warren only'); return; }
  const q = uniq('disk');
  const transient = uniq('disk-transient');
  const partition = partitionOf({ vhost: '/', name: q }, PARTITIONS);
  const ch = await confirmChannel(fixture.conn);
  await ch.assertQueue(q, { durable: true });
  await ch.assertQueue(transient, { durable: false });
  // 12 MiB of random (incompressible) bodies: well past LevelDB's 4 MiB memtable, so most records
  // are in table files, and past the 4 MiB after which the partition's log is compacted.
  for (let i = 0; i < COUNT; i++) {
    ch.sendToQueue(q, randomBytes(BODY), { persistent: true });
    if (i % 500 === 499) await ch.waitForConfirms();
  }
  for (let i = 0; i < 10; i++) ch.sendToQueue(transient, Buffer.from('x'), { persistent: true });
  await ch.waitForConfirms();

  const row = await getJson<Record<string, unknown>>(`/api/queues/%2F/${encodeURIComponent(q)}`);
  assert.equal(row['messages'], COUNT);
  assert.equal(row['messages_persistent'], COUNT);
  assert.equal(row['message_bytes_persistent'], COUNT * BODY);
  assert.equal(row['partition'], partition);
  const disk = row['disk_bytes'] as number;
  assert.ok(disk > COUNT * BODY / 2 && disk < COUNT * BODY * 2, `the queue's records on disk: ${disk} bytes`);
  const stats = row['partition_stats'] as PartitionJson;
  assert.equal(stats.partition, partition);

  const other = await getJson<Record<string, unknown>>(`/api/queues/%2F/${encodeURIComponent(transient)}`);
  assert.equal(other['messages'], 10);
  assert.equal(other['messages_persistent'], 0, 'a transient queue keeps nothing on disk');
  assert.equal(other['message_bytes_persistent'], 0);
  assert.equal(other['partition'], undefined);
  assert.equal(other['disk_bytes'], undefined);

  const parts = await getJson<PartitionJson[]>('/api/partitions');
  assert.deepEqual(parts.map((p) => p.partition), Array.from({ length: PARTITIONS }, (_, i) => i + 1));
  const p = await getJson<PartitionJson>(`/api/partitions/${partition}`);
  // The partition's figures are its queues' (on a shared cluster, other suites' queues may hash here too).
  const queues = (await getJson<Record<string, unknown>[]>('/api/queues')).filter((x) => x['partition'] === partition);
  assert.ok(queues.some((x) => x['name'] === q));
  assert.equal(p.messages, queues.reduce((n, x) => n + (x['messages'] as number), 0));
  assert.equal(p.message_bytes, queues.reduce((n, x) => n + (x['message_bytes'] as number), 0));
  assert.ok(p.messages >= COUNT && p.message_bytes >= COUNT * BODY);
  assert.ok(p.queues >= 1);
  assert.ok(p.disk_bytes >= disk, `partition ${p.disk_bytes} bytes on disk, its queue ${disk}`);
  assert.ok(p.log_disk_bytes <= p.disk_bytes);
  assert.ok(p.applied_index <= p.commit_index && p.commit_index <= p.last_index, JSON.stringify(p));
  assert.equal(p.log_entries, p.last_index - p.first_index + 1);
  // 12 MiB went through the log; it is compacted after 4 MiB applied, keeping at most 512 KiB.
  assert.ok(p.first_index > 1, `the log was compacted (first index ${p.first_index})`);
  assert.ok(p.log_bytes < 5 * MIB, `applied entries still in the log: ${p.log_bytes} bytes`);
  assert.equal(p.term >= 1 && p.leader >= 1, true);
  assert.equal((await get('/api/partitions/999')).status, 404);
  t.diagnostic(`queue: disk_bytes ${disk}; partition ${partition}: ${JSON.stringify(p)}`);

  const metrics = await (await get('/metrics')).text();
  const labels = `vhost="/",queue="${q}"`;
  assert.equal(metricSample(metrics, 'warren_detailed_queue_messages_bytes', labels), COUNT * BODY);
  assert.ok((metricSample(metrics, 'warren_queue_disk_bytes', labels) ?? 0) > COUNT * BODY / 2, 'warren_queue_disk_bytes');
  assert.equal(metricSample(metrics, 'warren_queue_disk_bytes', `vhost="/",queue="${transient}"`), undefined);
  const pl = `partition="${partition}"`;
  assert.ok((metricSample(metrics, 'warren_partition_disk_bytes', pl) ?? 0) > COUNT * BODY / 2, 'warren_partition_disk_bytes');
  // As above, on a shared cluster another suite's queue may live in this partition too.
  const partitionMessages = metricSample(metrics, 'warren_partition_messages', pl) ?? -1;
  if (queues.length === 1) assert.equal(partitionMessages, COUNT);
  else assert.ok(partitionMessages >= COUNT, `warren_partition_messages ${partitionMessages}`);
  assert.ok((metricSample(metrics, 'warren_partition_log_entries', pl) ?? -1) >= 0, 'warren_partition_log_entries');
  assert.ok((metricSample(metrics, 'warren_partition_commit_index', pl) ?? 0) >= p.commit_index);
  // The node's own store: a cluster frontend has none (its queue and partition figures are the owners').
  if (TARGET === 'cluster') assert.doesNotMatch(metrics, /^warren_storage_/m);
  else assert.match(metrics, /^warren_storage_disk_bytes \d+/m);

  // Consumed and acked, the queue holds nothing on disk that it counts as persistent.
  const sub = await channel(fixture.conn);
  await sub.prefetch(500);
  let got = 0;
  await new Promise<void>((resolve) => {
    void sub.consume(q, (m) => {
      if (m === null) return;
      sub.ack(m);
      if (++got === COUNT) resolve();
    });
  });
  await eventually(async () => {
    const r = await getJson<Record<string, unknown>>(`/api/queues/%2F/${encodeURIComponent(q)}`);
    return r['messages_persistent'] === 0 && r['message_bytes_persistent'] === 0 ? true : undefined;
  }, 10_000, 'the queue to report no persistent messages');
  await ch.deleteQueue(q);
  await ch.deleteQueue(transient);
});

test('/api/partitions is for administrators', async (t) => {
  if (!fixture.broker.isWarren || fixture.broker.httpPort === undefined) { t.skip('Warren only'); return; }
  const user = uniq('monitor');
  const put = await apiRequest(apiBase(fixture.broker), `/api/users/${user}`, GUEST_AUTH, 'PUT', { password: 'pw', tags: 'management' });
  assert.equal(put.status, 201);
  const res = await get('/api/partitions', basicAuth(user, 'pw'));
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { error: 'not_authorised', reason: 'Not administrator user' });
});
