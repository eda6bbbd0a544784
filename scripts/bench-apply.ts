// Per-message cost of applying committed entries on one replica (PartitionApp.apply, as the Raft
// driver calls it): nanoseconds and JS heap bytes allocated per message, in a steady state of a
// durable queue with one consumer at its prefetch limit.
//
//   node --max-semi-space-size=8 --import tsx scripts/bench-apply.ts [--role follower|leader]
//        [--messages 200000] [--warmup 50000] [--body 1024] [--reps 5] [--seed 1]
//        [--profile] [--interval 512] [--top 25]
//
// The stream is generated first (one machine applies it as a leader would, and its deliveries
// decide the acks), then replayed on fresh replicas, so the measured loop allocates nothing of its
// own: per entry 20-60 enqueues of `body` bytes (a persistent-message header, one publisher with
// deduplication seqs), and per enqueue entry one entry of settles for the deliveries of six entries
// before (the consumer, prefetch 200, runs at its limit, so messages also wait in the ready list).
// Entries are applied 1-3 per call, as Readies carry them.
//
// Timing: `reps` replays; medians of wall and CPU ns/msg, and of the GC pauses in it (node's 'gc'
// performance entries). On a shared machine CPU time is the steadier of the two.
// --profile: one replay under V8's sampling heap profiler, counting objects a scavenge or a
// mark-compact already collected too, so its total estimates every byte allocated; the top
// allocation sites follow. Flags as a node runs them (src/launcher/node-flags.ts).
import { Session } from 'node:inspector';
import { PerformanceObserver } from 'node:perf_hooks';
import { PartitionApp } from '../src/partition/app.js';
import { encodeBatch } from '../src/partition/codec.js';
import { PartitionMachine } from '../src/partition/machine.js';
import type { PartitionCommand } from '../src/partition/types.js';
import { EntryType, type Entry } from '../src/raft/core/types.js';
import type { AppKeyRange, ApplyBatch } from '../src/raft/node/app.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}
function strArg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1] ?? dflt;
}

const role = strArg('role', 'follower');
const messages = arg('messages', 200_000);
const warmup = arg('warmup', 50_000);
const bodyBytes = arg('body', 1024);
const reps = arg('reps', 5);
const TERM = 1;
const PREFETCH = 200;
const ACK_LAG_ENTRIES = 6;

/** Counts writes like the driver's batch would take them; reads find nothing (none are needed). */
class CountingBatch implements ApplyBatch {
  puts = 0;
  dels = 0;
  put(): void { this.puts++; }
  del(): void { this.dels++; }
  putLatin1(): void { this.puts++; }
  delLatin1(): void { this.dels++; }
  async get(): Promise<Uint8Array | undefined> { return undefined; }
  async *iterate(_range?: AppKeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]> { /* empty */ }
}

/** xorshift32: the same stream for the same seed. */
function rng(seed: number): (lo: number, hi: number) => number {
  let x = seed >>> 0 || 1;
  return (lo, hi) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return lo + (x % (hi - lo + 1));
  };
}

// class 60, weight 0, body size, property flags 0x1000 (delivery-mode), delivery-mode 2 (persistent)
const header = Buffer.from([0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0x10, 0, 2]);

interface Stream {
  /** Apply calls, each 1-3 entries. */
  readonly calls: Entry[][];
  /** Messages enqueued by the calls before `calls[warmupCalls]`. */
  readonly warmupCalls: number;
  readonly measured: number;
}

function generate(): Stream {
  const next = rng(arg('seed', 1));
  const body = Buffer.alloc(bodyBytes, 7);
  const gen = new PartitionMachine();
  const entries: Uint8Array[] = [];
  const run = (cmds: PartitionCommand[]): number[] => {
    const data = encodeBatch(cmds);
    entries.push(data);
    const out = gen.apply([data], new CountingBatch());
    if (out instanceof Promise) throw new Error('bench: unexpected read');
    return out.effects.flatMap((e) => (e.kind === 'deliver' ? [e.msgId] : []));
  };
  let nowMs = 1_000;
  run([{ kind: 'declare', vhost: '/', name: 'orders', arguments: new Uint8Array(0), nowMs }]);
  const lagging: number[][] = [run([{
    kind: 'checkout', queue: 1, session: 'frontend-2:17', consumer: 'amq.ctag-1', prefetch: PREFETCH, priority: 0, noAck: false, nowMs,
  }])];
  let seq = 0;
  let warmupEntries = -1;
  while (seq < warmup + messages) {
    if (warmupEntries < 0 && seq >= warmup) warmupEntries = entries.length;
    nowMs++;
    const cmds: PartitionCommand[] = [];
    for (let i = next(20, 60); i > 0; i--) {
      cmds.push({
        kind: 'enqueue', queues: [1], exchange: 'amq.direct', routingKey: 'orders', header, body,
        session: 'frontend-1:3', seq: ++seq, nowMs,
      });
    }
    lagging.push(run(cmds));
    if (lagging.length <= ACK_LAG_ENTRIES) continue;
    // What the consumer got six entries ago, acked in a few frontend turns (settle batches).
    const acked = lagging.shift() ?? [];
    const settles: PartitionCommand[] = [];
    for (let i = 0; i < acked.length; i += 25) {
      settles.push({ kind: 'settle', queue: 1, session: 'frontend-2:17', consumer: 'amq.ctag-1', msgIds: acked.slice(i, i + 25), nowMs });
    }
    // Freed credit delivers waiting messages: they are acked with the next batch.
    if (settles.length > 0) (lagging[0] as number[]).push(...run(settles));
  }
  const calls: Entry[][] = [];
  let warmupCalls = 0;
  for (let i = 0; i < entries.length;) {
    if (i <= warmupEntries) warmupCalls = calls.length;
    const n = next(1, 3);
    calls.push(entries.slice(i, i + n).map((data, k) => ({ term: TERM, index: i + k + 1, type: EntryType.Normal, data })));
    i += n;
  }
  return { calls, warmupCalls, measured: seq - warmup };
}

/** A fresh replica in `role` (the term of every entry). */
function replica(): { app: PartitionApp; batch: CountingBatch } {
  const app = new PartitionApp(new PartitionMachine(), () => {});
  app.roleChanged({ term: TERM, leader: role === 'leader' ? 1 : 2, isLeader: role === 'leader' });
  return { app, batch: new CountingBatch() };
}

async function replay(app: PartitionApp, batch: CountingBatch, calls: readonly Entry[][], from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const out = app.apply(calls[i] as Entry[], batch);
    if (out instanceof Promise) await out;
  }
}

/** Medians over the reps: wall time, CPU time of the process (GC threads too) and GC pauses, per message. */
async function timed(s: Stream): Promise<{ nsPerMsg: number; cpuNsPerMsg: number; gcNsPerMsg: number }> {
  let gcMs = 0;
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcMs += e.duration; });
  const wall: number[] = [];
  const cpu: number[] = [];
  const gcs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const { app, batch } = replica();
    await replay(app, batch, s.calls, 0, s.warmupCalls);
    obs.observe({ entryTypes: ['gc'] });
    gcMs = 0;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await replay(app, batch, s.calls, s.warmupCalls, s.calls.length);
    const t1 = process.hrtime.bigint();
    const c1 = process.cpuUsage(c0);
    await new Promise((res) => setTimeout(res, 20)); // the observer reports this rep's GCs on a later turn
    obs.disconnect();
    wall.push(Number(t1 - t0) / s.measured);
    cpu.push(((c1.user + c1.system) * 1000) / s.measured);
    gcs.push((gcMs * 1e6) / s.measured);
  }
  const median = (xs: number[]): number => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number);
  return { nsPerMsg: median(wall), cpuNsPerMsg: median(cpu), gcNsPerMsg: median(gcs) };
}

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((res, rej) => session.post(method, params, (err, r) => (err ? rej(err) : res(r as T))));
}

async function profiled(s: Stream): Promise<void> {
  const { app, batch } = replica();
  await replay(app, batch, s.calls, 0, s.warmupCalls);
  const session = new Session();
  session.connect();
  await post(session, 'HeapProfiler.startSampling', {
    samplingInterval: arg('interval', 512), includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
  });
  await replay(app, batch, s.calls, s.warmupCalls, s.calls.length);
  const { profile } = await post<{ profile: { head: ProfileNode } }>(session, 'HeapProfiler.stopSampling');
  session.disconnect();
  const sites = new Map<string, number>();
  let total = 0;
  const name = (f: ProfileNode['callFrame']): string =>
    `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|scripts|node_modules)\//, '$1/')}`;
  const walk = (n: ProfileNode, caller: string): void => {
    const here = name(n.callFrame);
    if (n.selfSize > 0) {
      // A builtin (Map.set, Array.push...) is named with its caller.
      const where = n.callFrame.url === '' ? `${here}<- ${caller}` : here;
      sites.set(where, (sites.get(where) ?? 0) + n.selfSize);
      total += n.selfSize;
    }
    for (const c of n.children) walk(c, here);
  };
  walk(profile.head, '');
  console.log(JSON.stringify({ role, messages: s.measured, bytesPerMsg: Math.round(total / s.measured) }));
  const top = [...sites].sort((a, b) => b[1] - a[1]).slice(0, arg('top', 25));
  for (const [where, bytes] of top) console.log(`${(bytes / s.measured).toFixed(1).padStart(8)} B/msg  ${where}`);
}

const stream = generate();
if (process.argv.includes('--profile')) {
  await profiled(stream);
} else {
  const t = await timed(stream);
  console.log(JSON.stringify({ role, messages: stream.measured, bodyBytes, reps, ...t }));
}
