// A confirm means the message is on disk (issue 7): persistent messages published with confirms to
// four durable queues in different partitions, `kill -9` of the broker mid-stream, restart on the
// same data directory. Every confirmed message is delivered afterwards, none twice unless
// redelivered; non-durable queues are gone.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConsumeMessage } from 'amqplib';
import { channel, confirmChannel, connect, uniq } from '../helpers/amqp.js';
import { startWarrenProcess, type WarrenProcess } from '../helpers/process.js';
import { partitionOf } from '../../src/owner/durable.js';

const TOTAL = Number(process.env['WARREN_KILL9_MESSAGES'] ?? 50_000);
const KILL_AT = Math.floor(TOTAL / 2);
const PARTITIONS = 16;
const IN_FLIGHT = 500;

const external = process.env['WARREN_TEST_URL'] !== undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'warren-kill9-'));
let broker: WarrenProcess | undefined;

after(async () => {
  await broker?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Four queue names whose partitions all differ. */
function queuesInDistinctPartitions(): string[] {
  const names: string[] = [];
  const used = new Set<number>();
  for (let i = 0; names.length < 4; i++) {
    const name = uniq(`k9-${i}`);
    const p = partitionOf({ vhost: '/', name }, PARTITIONS);
    if (used.has(p)) continue;
    used.add(p);
    names.push(name);
  }
  return names;
}

test(`kill -9 while publishing ${TOTAL} persistent messages: every confirmed message survives`, { timeout: 600_000 }, async (t) => {
  if (external) { t.skip('kills Warren itself'); return; }
  broker = await startWarrenProcess(dataDir);
  const queues = queuesInDistinctPartitions();
  const transient = uniq('k9-transient');
  const confirmed = new Set<number>();
  let sent = 0;
  {
    const conn = await connect(broker.url);
    conn.on('close', () => {});
    const setup = await channel(conn);
    for (const q of queues) await setup.assertQueue(q, { durable: true });
    await setup.assertQueue(transient, { durable: false });
    const ch = await confirmChannel(conn);
    let killed = false;
    await new Promise<void>((resolve) => {
      let inFlight = 0;
      const pump = (): void => {
        while (!killed && inFlight < IN_FLIGHT && sent < TOTAL) {
          const id = sent++;
          inFlight++;
          const body = Buffer.alloc(16);
          body.writeUInt32BE(id, 0);
          try {
            ch.sendToQueue(queues[id % queues.length] as string, body, { persistent: true }, (err) => {
              inFlight--;
              if (err === null || err === undefined) confirmed.add(id);
              if (!killed && confirmed.size >= KILL_AT) {
                killed = true;
                void broker!.kill('SIGKILL').then(() => resolve());
                return;
              }
              if (!killed) pump();
            });
          } catch {
            break; // the channel died with the broker
          }
        }
      };
      pump();
    });
    await conn.close().catch(() => undefined);
  }
  assert.ok(confirmed.size >= KILL_AT, `confirmed ${confirmed.size}`);

  broker = await startWarrenProcess(dataDir);
  const conn = await connect(broker.url);
  try {
    const ch = await channel(conn);
    const probe = await channel(conn);
    await assert.rejects(probe.checkQueue(transient), /404/, 'the non-durable queue is gone');
    await ch.prefetch(1000);
    const seen = new Map<number, number>();
    const duplicatesWithoutRedelivered: number[] = [];
    let received = 0;
    const expected = new Map<string, number>();
    for (const q of queues) expected.set(q, (await ch.checkQueue(q)).messageCount);
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    await new Promise<void>((resolve) => {
      if (total === 0) resolve();
      const onMessage = (m: ConsumeMessage | null): void => {
        if (m === null) return;
        const id = m.content.readUInt32BE(0);
        const n = (seen.get(id) ?? 0) + 1;
        seen.set(id, n);
        if (n > 1 && !m.fields.redelivered) duplicatesWithoutRedelivered.push(id);
        ch.ack(m);
        if (++received === total) resolve();
      };
      for (const q of queues) void ch.consume(q, onMessage);
    });
    const lost = [...confirmed].filter((id) => !seen.has(id));
    t.diagnostic(`sent ${sent}, confirmed ${confirmed.size}, present after restart ${total}, lost ${lost.length}`);
    assert.equal(lost.length, 0, `lost confirmed messages: ${lost.slice(0, 10).join(', ')}`);
    assert.deepEqual(duplicatesWithoutRedelivered, []);
    assert.ok(total <= sent, 'nothing appears that was never sent');
    for (const q of queues) await ch.deleteQueue(q);
  } finally {
    await conn.close();
  }
});
