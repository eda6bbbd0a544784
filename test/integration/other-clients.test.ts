// Non-JavaScript clients against the broker: pika (Python, Debian's python3-pika) and
// librabbitmq's amqp-tools, via the scripts in test/clients/. Each also interoperates with
// amqplib (one client publishes, another reads). Tests skip, with a visible reason, when the
// client is not installed (`npm test` installs both through scripts/install-test-deps.sh).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { Inbox, channel, confirmChannel, connect, eventually, texts, uniq } from '../helpers/amqp.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const clientsDir = fileURLToPath(new URL('../clients/', import.meta.url));

const hasPika = spawnSync(PYTHON, ['-c', 'import pika'], { stdio: 'ignore' }).status === 0;
const hasAmqpTools = ['amqp-declare-queue', 'amqp-publish', 'amqp-get', 'amqp-consume']
  .every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0);

let broker: TestBroker;
let conn: ChannelModel;
let ch: ConfirmChannel;
before(async () => { broker = await startBroker(); conn = await connect(broker); ch = await confirmChannel(conn); });
after(async () => { await conn.close(); await broker.stop(); });

interface PikaResult {
  mode: string;
  server_product: string;
  declared?: string;
  unroutable?: string;
  received?: Array<{ body: string; redelivered: boolean; message_id: string; headers: Record<string, unknown> }>;
  left?: number;
}

async function pika(mode: 'roundtrip' | 'publish' | 'consume', queue: string, count: number): Promise<PikaResult> {
  const { stdout } = await run(PYTHON, [`${clientsDir}pika_smoke.py`, mode, broker.url, queue, String(count)], { timeout: 20_000 });
  return JSON.parse(stdout) as PikaResult;
}

describe('pika', () => {
  test('declare, publish with confirms, consume and ack; mandatory unroutable is returned', async (t) => {
    if (!hasPika) { t.skip('python3-pika is not installed (scripts/install-test-deps.sh installs it)'); return; }
    const q = uniq('pika-rt');
    const r = await pika('roundtrip', q, 5);
    assert.equal(r.declared, q);
    assert.equal(r.unroutable, 'returned');
    assert.deepEqual(r.received?.map((m) => m.body), [0, 1, 2, 3, 4].map((i) => `pika message ${i}`));
    assert.deepEqual(r.received?.[2]?.headers, { i: 2, client: 'pika' });
    assert.ok(r.received?.every((m) => !m.redelivered));
    assert.equal(r.left, 0, 'every message acked');
  });

  test('pika publishes, amqplib reads every property (including cluster-id)', async (t) => {
    if (!hasPika) { t.skip('python3-pika is not installed'); return; }
    const q = uniq('pika-pub');
    await pika('publish', q, 3);
    const m = await eventually(async () => (await ch.get(q, { noAck: true })) || undefined);
    assert.equal(m.content.toString(), 'pika message 0');
    assert.equal(m.properties.contentType, 'text/plain');
    assert.equal(m.properties.deliveryMode, 2);
    assert.equal(m.properties.priority, 3);
    assert.equal(m.properties.messageId, 'pika-0');
    assert.equal(m.properties.correlationId, 'corr-0');
    assert.equal(m.properties.clusterId, 'pika-cluster');
    assert.equal(m.properties.appId, 'pika_smoke');
    assert.deepEqual(m.properties.headers, { i: 0, client: 'pika' });
    assert.equal((await ch.deleteQueue(q)).messageCount, 2);
  });

  test('amqplib publishes, pika consumes and acks', async (t) => {
    if (!hasPika) { t.skip('python3-pika is not installed'); return; }
    const q = uniq('pika-sub');
    await ch.assertQueue(q, { durable: false });
    for (let i = 0; i < 4; i++) ch.sendToQueue(q, Buffer.from(`from amqplib ${i}`), { messageId: `js-${i}` });
    await ch.waitForConfirms();
    const r = await pika('consume', q, 4);
    assert.deepEqual(r.received?.map((m) => m.body), [0, 1, 2, 3].map((i) => `from amqplib ${i}`));
    assert.equal(r.received?.[3]?.message_id, 'js-3');
    assert.equal(r.left, 0);
    await ch.deleteQueue(q);
  });
});

describe('amqp-tools', () => {
  test('amqp-declare-queue / amqp-publish / amqp-get / amqp-consume', async (t) => {
    if (!hasAmqpTools) { t.skip('amqp-tools is not installed (scripts/install-test-deps.sh installs it)'); return; }
    const q = uniq('tools');
    const { stdout } = await run('bash', [`${clientsDir}amqp_tools_smoke.sh`, broker.url, q], { timeout: 30_000 });
    assert.deepEqual(stdout.trim().split('\n'), [
      `declared: ${q}`, 'get: tools message 1', 'get: tools message 2', 'consume: tools message 3',
    ]);
    assert.equal((await ch.checkQueue(q)).messageCount, 0, 'amqp-get and amqp-consume acked');
    await ch.deleteQueue(q);
  });

  test('amqp-publish properties as amqplib sees them; amqp-consume reads amqplib messages', async (t) => {
    if (!hasAmqpTools) { t.skip('amqp-tools is not installed'); return; }
    const q = uniq('tools-x');
    await ch.assertQueue(q, { durable: false });
    await run('amqp-publish', [`--url=${broker.url}`, '-r', q, '-C', 'application/json', '-E', 'identity',
      '-t', 'replies', '-p', '-H', 'origin: amqp-tools', '-b', '{"n":1}']);
    const c = await channel(conn);
    const inbox = new Inbox();
    await c.consume(q, inbox.onMessage, { noAck: true });
    const [m] = await inbox.take(1);
    assert.ok(m);
    assert.equal(m.content.toString(), '{"n":1}');
    assert.equal(m.properties.contentType, 'application/json');
    assert.equal(m.properties.contentEncoding, 'identity');
    assert.equal(m.properties.replyTo, 'replies');
    assert.equal(m.properties.deliveryMode, 2);
    assert.deepEqual(m.properties.headers, { origin: 'amqp-tools' });
    await c.close();
    ch.sendToQueue(q, Buffer.from('for the tools'));
    await ch.waitForConfirms();
    const { stdout } = await run('amqp-consume', [`--url=${broker.url}`, '-q', q, '-c', '1', 'cat'], { timeout: 10_000 });
    assert.deepEqual(texts([{ content: Buffer.from(stdout) }]), ['for the tools']);
    await ch.deleteQueue(q);
  });
});
