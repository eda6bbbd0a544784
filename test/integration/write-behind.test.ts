// Write-behind (issue 7, DESIGN §5: "a message enqueued and settled before its write is flushed need
// never be written at all"), as LevelDB sees it through /metrics of a running Warren: a durable
// queue whose consumer keeps up costs per message about one log write of its body, not the log
// write plus a record put and delete; and every confirmed message is delivered (Warren only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ConsumeMessage } from 'amqplib';
import { channel, confirmChannel, eventually, uniq, useBrokerConnection } from '../helpers/amqp.js';
import { apiBase, apiRequest, metricSample } from '../helpers/admin.js';
import { skipOnCluster } from '../helpers/target.js';

const COUNT = 4000;
const BODY = 1024;
/** The publisher stays at most this many messages ahead of the acks: well inside the write-behind window. */
const AHEAD = 200;

const fixture = useBrokerConnection();

const WRITE_COUNTERS = ['warren_storage_write_bytes_total', 'warren_storage_write_ops_total', 'warren_storage_fsyncs_total'] as const;

/** The node's storage write counters, from /metrics. */
async function counters(): Promise<Map<string, number>> {
  const text = await (await apiRequest(apiBase(fixture.broker), '/metrics', undefined)).text();
  return new Map(WRITE_COUNTERS.map((name) => {
    const v = metricSample(text, name);
    if (v === undefined) throw new Error(`${name} missing from /metrics`);
    return [name, v];
  }));
}

test('a consumer keeping up: messages are written once (in the log), and every confirmed one is delivered', async (t) => {
  if (!fixture.broker.isWarren) { t.skip('reads Warren metrics'); return; }
  if (skipOnCluster(t, 'the owners\' storage counters (/metrics through the balancer is a frontend\'s, which stores nothing)')) return;
  const queue = uniq('write-behind');
  const pub = await confirmChannel(fixture.conn);
  await pub.assertQueue(queue, { durable: true });
  const sub = await channel(fixture.conn);
  await sub.prefetch(100);
  const seen = new Set<string>();
  let acked = 0;
  let wake: (() => void) | undefined;
  await sub.consume(queue, (m: ConsumeMessage | null) => {
    if (m === null) return;
    seen.add(m.content.subarray(0, 8).toString('hex'));
    sub.ack(m);
    acked++;
    wake?.();
  });
  const before = await counters();
  for (let i = 0; i < COUNT; i++) {
    while (i - acked >= AHEAD) await new Promise<void>((r) => { wake = r; });
    const body = randomBytes(BODY);
    body.writeUInt32BE(i, 0);
    pub.sendToQueue(queue, body, { persistent: true });
    if (i % 100 === 99) await pub.waitForConfirms();
  }
  await pub.waitForConfirms();
  await eventually(() => (acked >= COUNT ? true : undefined), 30_000, 'every message consumed');
  // /metrics reuses one stats snapshot for 1 s (STATS_REUSE_MS in src/admin/metrics.ts): a flow
  // faster than that would read the `before` figures again (a delta of 0).
  await new Promise((r) => setTimeout(r, 1100));
  const afterFlow = await counters();
  const delta = (name: string): number => (afterFlow.get(name) ?? 0) - (before.get(name) ?? 0);
  assert.equal(seen.size, COUNT, 'every confirmed message was delivered once');
  const bytesPerMessage = delta('warren_storage_write_bytes_total') / COUNT;
  const opsPerMessage = delta('warren_storage_write_ops_total') / COUNT;
  t.diagnostic(`per message: ${bytesPerMessage.toFixed(0)} bytes, ${opsPerMessage.toFixed(2)} ops written; `
    + `${(delta('warren_storage_fsyncs_total') / COUNT).toFixed(3)} fsyncs`);
  // The log entry carries the body once (~1.1 KiB with its header and command); writing the record
  // too would add another ~1.1 KiB and at least two ops per message.
  // And at least once: a node that writes nothing (a frontend's zeros) must not pass for write-behind.
  assert.ok(bytesPerMessage >= BODY, `${bytesPerMessage.toFixed(0)} bytes written per message: each body goes to the log once`);
  assert.ok(bytesPerMessage < 1.6 * BODY, `${bytesPerMessage.toFixed(0)} bytes written per message`);
  assert.ok(opsPerMessage < 1.5, `${opsPerMessage.toFixed(2)} write ops per message`);
  await sub.close();
  await pub.deleteQueue(queue);
  await pub.close();
});
