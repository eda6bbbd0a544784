// Partition machine micro-benchmark (no Raft, no LevelDB): how fast apply() turns log entries into
// key writes, and how much memory ready messages cost when bodies live only in the store.
//
//   npx tsx scripts/partition-bench.ts [--messages 200000] [--bytes 1024] [--batch 100]
//   node --expose-gc --import tsx scripts/partition-bench.ts --memory [--bytes 4096] [--total-mib 400]
//
// Throughput: one consumer (prefetch 0 = unlimited); each round is one entry of `batch` enqueues
// (delivered at once, checked out) followed by one entry settling them: the hot path of a durable
// queue with a keeping-up consumer. The batch handed to apply() only collects the writes, as the
// Raft driver's does before its LevelDB write.
import { encodeBatch } from '../src/partition/codec.js';
import { PartitionMachine } from '../src/partition/machine.js';
import type { AppKeyRange, ApplyBatch } from '../src/raft/node/app.js';
import type { PartitionCommand } from '../src/partition/types.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}

/** Collects writes like the driver's pending batch; reads find nothing (never needed here). */
class CollectingBatch implements ApplyBatch {
  puts = 0;
  dels = 0;
  putBytes = 0;
  put(_key: Uint8Array, value: Uint8Array): void { this.puts++; this.putBytes += value.byteLength; }
  del(): void { this.dels++; }
  putLatin1(_key: string, value: Uint8Array): void { this.puts++; this.putBytes += value.byteLength; }
  delLatin1(): void { this.dels++; }
  async get(): Promise<Uint8Array | undefined> { return undefined; }
  async *iterate(_range?: AppKeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]> { /* empty */ }
}

function apply(m: PartitionMachine, data: Uint8Array, batch: ApplyBatch): void {
  const out = m.apply([data], batch);
  if (out instanceof Promise) throw new Error('bench: unexpected read');
}

const header = new Uint8Array([0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 2]); // delivery-mode 2
const declare = (name: string): PartitionCommand => ({ kind: 'declare', vhost: '/', name, arguments: new Uint8Array(0), nowMs: 1 });

function throughput(): void {
  const total = arg('messages', 200_000);
  const bytes = arg('bytes', 1024);
  const per = arg('batch', 100);
  const body = new Uint8Array(bytes).fill(7);
  const m = new PartitionMachine();
  const batch = new CollectingBatch();
  apply(m, encodeBatch([declare('q'), { kind: 'checkout', queue: 1, session: 's', consumer: 'c', prefetch: 0, priority: 0, noAck: false, nowMs: 1 }]), batch);
  let seq = 0;
  let encodeMs = 0;
  let applyMs = 0;
  for (let done = 0; done < total; done += per) {
    const t0 = performance.now();
    const cmds: PartitionCommand[] = [];
    const ids: number[] = [];
    for (let i = 0; i < per; i++) {
      seq++;
      ids.push(seq);
      cmds.push({ kind: 'enqueue', queues: [1], exchange: '', routingKey: 'q', header, body, session: 'pub', seq, nowMs: 1000 + done });
    }
    const enq = encodeBatch(cmds);
    const ack = encodeBatch([{ kind: 'settle', queue: 1, session: 's', consumer: 'c', msgIds: ids, nowMs: 1000 + done }]);
    const t1 = performance.now();
    apply(m, enq, batch);
    apply(m, ack, batch);
    const t2 = performance.now();
    encodeMs += t1 - t0;
    applyMs += t2 - t1;
  }
  const q = m.queue(1);
  if (q === undefined || q.unackedCount !== 0 || q.messageCount !== 0) throw new Error('bench: queue not drained');
  console.log(JSON.stringify({
    messages: total, bodyBytes: bytes, batch: per,
    applyMsgsPerSec: Math.round(total / (applyMs / 1000)),
    encodeMsgsPerSec: Math.round(total / (encodeMs / 1000)),
    // Per round the write set coalesces; what reaches the batch is what LevelDB would write.
    batchPutsPerMsg: +(batch.puts / total).toFixed(2), batchDelsPerMsg: +(batch.dels / total).toFixed(2),
  }));
}

function memory(): void {
  const bytes = arg('bytes', 4096);
  const count = Math.floor((arg('total-mib', 400) * 1024 * 1024) / bytes);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  const m = new PartitionMachine();
  const batch = new CollectingBatch();
  apply(m, encodeBatch([declare('q')]), batch);
  gc();
  const before = process.memoryUsage();
  const body = new Uint8Array(bytes).fill(1);
  for (let done = 0; done < count; done += 100) {
    const cmds: PartitionCommand[] = [];
    for (let i = 0; i < 100 && done + i < count; i++) {
      cmds.push({ kind: 'enqueue', queues: [1], exchange: '', routingKey: 'q', header, body, session: '', seq: 0, nowMs: 1000 });
    }
    apply(m, encodeBatch(cmds), batch);
  }
  gc();
  const after = process.memoryUsage();
  const q = m.queue(1);
  console.log(JSON.stringify({
    readyMessages: q?.messageCount, readyBodyMiB: Math.round((q?.readyBytes ?? 0) / 1048576),
    heapUsedDeltaMiB: +((after.heapUsed - before.heapUsed) / 1048576).toFixed(1),
    bytesPerMessage: Math.round((after.heapUsed - before.heapUsed) / count),
    rssMiB: Math.round(after.rss / 1048576),
    externalMiB: Math.round(after.external / 1048576),
  }));
}

if (process.argv.includes('--memory')) memory();
else throughput();
