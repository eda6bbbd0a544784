// Bounded memory and disk (issue 7, "Must show"), against `warren start` as a child process:
// - 400 MiB of 4 KiB persistent bodies ready in one durable queue: the broker's RSS stays under
//   400 MiB (bodies live in LevelDB, memory holds indexes; the Raft log is compacted by bytes);
//   then every message is consumed and acked.
// - one consumer holds one unacked message while 400 000 x 1 KiB persistent messages flow through
//   the same queue: the data dir stays under 128 MiB, and after kill -9 the held message comes
//   back (redelivered) and nothing else.
// Bodies are random bytes: LevelDB compresses blocks, and compressible bodies would flatter the
// disk figures. Sizes: WARREN_BOUNDED_MIB (default 400, 100 with CI=true), WARREN_BOUNDED_FLOW (default 400 000,
// 100 000 with CI=true), WARREN_BOUNDED_BACKLOG (how far the flow's publisher may run ahead).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { Inbox, channel, confirmChannel, connect, eventually, uniq } from '../helpers/amqp.js';
import { startWarrenProcess, type WarrenProcess } from '../helpers/process.js';

const MIB = 1024 * 1024;
const READY_MIB = Number(process.env['WARREN_BOUNDED_MIB'] ?? (process.env['CI'] === 'true' ? 100 : 400));
/** The flow is 400 000 messages (a few minutes here); CI runs 100 000, which also fails without the range compactions. */
const FLOW_MESSAGES = Number(process.env['WARREN_BOUNDED_FLOW'] ?? (process.env['CI'] === 'true' ? 100_000 : 400_000));
const RSS_LIMIT = 400 * MIB;
const DISK_LIMIT = 128 * MIB;
const IN_FLIGHT = 500;
/**
 * Messages the flow's publisher may be ahead of its consumer (10 MiB of 1 KiB bodies): what the
 * test measures is what deleted messages and compacted log entries leave behind, so the backlog
 * (live data, on disk as it should be) is kept well below the limit.
 */
const BACKLOG = Number(process.env['WARREN_BOUNDED_BACKLOG'] ?? 10_000);

const external = process.env['WARREN_TEST_URL'] !== undefined;
/** Progress lines (RSS breakdown, data dir size) while the tests run. */
const VERBOSE = process.env['WARREN_BOUNDED_VERBOSE'] !== undefined;
const dirs: string[] = [];
const brokers: WarrenProcess[] = [];

after(async () => {
  for (const b of brokers) await b.kill();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(dataDir: string): Promise<WarrenProcess> {
  const b = await startWarrenProcess(dataDir);
  brokers.push(b);
  return b;
}

function freshDir(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `warren-${name}-`));
  dirs.push(d);
  return d;
}

/** The process's resident set (VmRSS), in bytes. */
/** VmRSS and its parts (anonymous memory; mapped files, e.g. LevelDB's tables), for the diagnostics. */
function rssBreakdown(pid: number): string {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
  return ['VmRSS', 'RssAnon', 'RssFile'].map((k) => `${k} ${mib(kib(k) * 1024)}`).join(', ');
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** Disk blocks used by every file under `dir` (what `du` reports), in bytes; files LevelDB deletes meanwhile count 0. */
function diskUsage(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p, { throwIfNoEntry: false });
    if (s !== undefined) total += s.isDirectory() ? diskUsage(p) : s.blocks * 512;
  }
  return total;
}

const mib = (n: number): string => `${(n / MIB).toFixed(1)} MiB`;

interface Publishing {
  readonly done: Promise<void>;
  /** Sends more if the gate allows it now. */
  resume(): void;
}

/**
 * Publishes `count` persistent messages to `queue` with confirms, at most IN_FLIGHT outstanding
 * and only while `gate(sent)` allows; `body(i)` makes message i. `sample` runs every 1000 confirms.
 */
function publishConfirmed(
  ch: ConfirmChannel, queue: string, count: number, body: (i: number) => Buffer, sample: () => void,
  gate: (sent: number) => boolean = () => true,
): Publishing {
  let pump = (): void => {};
  const done = new Promise<void>((resolve, reject) => {
    let sent = 0;
    let confirmed = 0;
    let failed = false;
    pump = (): void => {
      while (!failed && sent - confirmed < IN_FLIGHT && sent < count && gate(sent)) {
        const i = sent++;
        ch.sendToQueue(queue, body(i), { persistent: true }, (err) => {
          if (err !== null && err !== undefined) {
            failed = true;
            reject(new Error(`message ${i} was nacked`));
            return;
          }
          if (++confirmed % 1000 === 0) sample();
          if (confirmed === count) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  return { done, resume: () => pump() };
}

/** Consumes on `ch` until `count` messages were received, acking each; `check` sees every one (after its ack). */
async function drain(ch: Channel, queue: string, count: number, check: (m: ConsumeMessage) => void, sample: () => void): Promise<void> {
  let received = 0;
  let tag = '';
  let onClose: ((err?: Error) => void) | undefined;
  await new Promise<void>((resolve, reject) => {
    onClose = (err?: Error): void => reject(new Error(`the consumer's channel closed after ${received} messages: ${err?.message ?? 'no error'}`));
    ch.on('error', onClose);
    ch.on('close', onClose);
    void ch.consume(queue, (m) => {
      if (m === null) { reject(new Error('consumer cancelled')); return; }
      ch.ack(m);
      try { check(m); } catch (err) { reject(err as Error); return; }
      if (++received % 1000 === 0) sample();
      if (received === count) resolve();
    }).then((ok) => { tag = ok.consumerTag; }, reject);
  });
  ch.off('error', onClose!);
  ch.off('close', onClose!);
  await ch.cancel(tag);
}

test(`${READY_MIB} MiB of 4 KiB bodies ready in a durable queue: RSS stays under 400 MiB`, { timeout: 600_000 }, async (t) => {
  if (external) { t.skip('reads the broker process\'s memory'); return; }
  const broker = await start(freshDir('bounded-rss'));
  const pid = broker.child.pid!;
  const count = Math.ceil(READY_MIB * MIB / 4096);
  const queue = uniq('bounded-rss');
  const conn = await connect(broker.url);
  try {
    const setup = await channel(conn);
    await setup.assertQueue(queue, { durable: true });
    const pub = await confirmChannel(conn);
    let peak = 0;
    let peakParts = '';
    const sample = (): void => {
      const r = rssOf(pid);
      if (r <= peak) return;
      peak = r;
      peakParts = rssBreakdown(pid);
      if (VERBOSE) console.log(peakParts);
    };
    const t0 = Date.now();
    await publishConfirmed(pub, queue, count, (i) => {
      const b = randomBytes(4096);
      b.writeUInt32BE(i, 0);
      return b;
    }, sample).done;
    const publishMs = Date.now() - t0;
    assert.equal((await setup.checkQueue(queue)).messageCount, count, 'every confirmed message is ready');
    // Let the last batches settle into LevelDB and the log compact, then read RSS at rest too.
    await new Promise((r) => setTimeout(r, 2000));
    sample();
    const ready = rssOf(pid);
    t.diagnostic(`${count} x 4 KiB confirmed in ${publishMs} ms; with them ready: ${rssBreakdown(pid)}; peak while publishing: ${peakParts}`);
    assert.ok(ready < RSS_LIMIT, `RSS with ${READY_MIB} MiB ready is ${mib(ready)}`);
    assert.ok(peak < RSS_LIMIT, `RSS peaked at ${mib(peak)} while publishing`);

    const sub = await channel(conn);
    await sub.prefetch(200);
    const seen = new Uint8Array(count);
    let duplicates = 0;
    peak = 0;
    peakParts = '';
    const t1 = Date.now();
    await drain(sub, queue, count, (m) => {
      assert.equal(m.content.length, 4096);
      const i = m.content.readUInt32BE(0);
      if (seen[i] === 1) duplicates++;
      seen[i] = 1;
    }, sample);
    t.diagnostic(`consumed and acked ${count} in ${Date.now() - t1} ms; peak while consuming: ${peakParts}`);
    assert.equal(duplicates, 0);
    assert.equal(seen.reduce((a, b) => a + b, 0), count, 'every message was delivered');
    // Reported, not asserted: draining reads records back through LevelDB's caches and mapped
    // table pages (a full-size run here peaked at ~420 MiB); the bound is for ready messages.
    t.diagnostic(`RSS peak while consuming: ${mib(peak)}${peak < RSS_LIMIT ? '' : ' (over the ready bound)'}`);
    assert.equal((await setup.checkQueue(queue)).messageCount, 0);
    await setup.deleteQueue(queue);
  } finally {
    await conn.close().catch(() => undefined);
    await broker.kill();
  }
});

test(`one held message while ${FLOW_MESSAGES} x 1 KiB flow through the queue: data dir under 128 MiB, held message survives kill -9`, { timeout: 900_000 }, async (t) => {
  if (external) { t.skip('kills Warren itself'); return; }
  const dataDir = freshDir('bounded-disk');
  let broker = await start(dataDir);
  const queue = uniq('bounded-disk');
  const held = Buffer.from('held message #1');
  {
    const conn = await connect(broker.url);
    conn.on('close', () => {});
    const setup = await confirmChannel(conn);
    await setup.assertQueue(queue, { durable: true });
    setup.sendToQueue(queue, held, { persistent: true });
    await setup.waitForConfirms();
    // The holder takes message #1 and never acks it; with prefetch 1 it gets nothing else.
    const holder = await channel(conn);
    await holder.prefetch(1);
    const inbox = new Inbox();
    await holder.consume(queue, inbox.onMessage);
    const [first] = await inbox.take(1);
    assert.deepEqual(first!.content, held);

    const sub = await channel(conn);
    await sub.prefetch(200);
    let peak = 0;
    let samples = 0;
    const sample = (): void => {
      peak = Math.max(peak, diskUsage(dataDir));
      if (VERBOSE && ++samples % 10 === 0) console.log(`acked ${samples * 1000}, data dir ${mib(diskUsage(dataDir))}`);
    };
    const t0 = Date.now();
    // The flow: the publisher stays at most BACKLOG messages ahead of the acks, so what is on disk
    // beyond that backlog is what deleted messages and compacted log entries leave behind.
    let acked = 0;
    let publishing: Publishing | undefined;
    const consumed = drain(sub, queue, FLOW_MESSAGES, (m) => {
      assert.equal(m.content.length, 1024);
      assert.equal(m.fields.redelivered, false);
      acked++;
      publishing?.resume();
    }, sample);
    publishing = publishConfirmed(setup, queue, FLOW_MESSAGES, () => randomBytes(1024), () => undefined, (sent) => sent - acked < BACKLOG);
    await Promise.all([publishing.done, consumed]);
    const flowMs = Date.now() - t0;
    sample();
    const afterFlow = diskUsage(dataDir);
    assert.equal(inbox.messages.length, 1, 'the holder got nothing but message #1');
    await eventually(async () => ((await setup.checkQueue(queue)).messageCount === 0 ? true : undefined), 10_000, 'the queue to drain');
    t.diagnostic(`${FLOW_MESSAGES} x 1 KiB published and acked in ${flowMs} ms (${Math.round(FLOW_MESSAGES / (flowMs / 1000))} msg/s); `
      + `data dir ${mib(afterFlow)} after the flow, sampled peak ${mib(peak)}`);
    assert.ok(afterFlow < DISK_LIMIT, `data dir is ${mib(afterFlow)} after the flow`);
    assert.ok(peak < DISK_LIMIT, `data dir peaked at ${mib(peak)} during the flow`);
    await broker.kill('SIGKILL');
  }

  broker = await start(dataDir);
  const conn = await connect(broker.url);
  try {
    const ch = await channel(conn);
    assert.equal((await ch.checkQueue(queue)).messageCount, 1, 'only the held message is left');
    const inbox = new Inbox();
    await ch.consume(queue, inbox.onMessage);
    const [back] = await inbox.take(1);
    assert.deepEqual(back!.content, held);
    assert.equal(back!.fields.redelivered, true, 'the held message comes back redelivered');
    ch.ack(back!);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(inbox.messages.length, 1, 'nothing else is delivered');
    await ch.deleteQueue(queue);
  } finally {
    await conn.close();
  }
});
