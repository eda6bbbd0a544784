// Random partition workloads for the property tests: fast-check generates abstract operations,
// and `resolve` turns each into a concrete command using the machine's current views (so settles
// mostly name messages the consumer really holds). The resolved entries are what gets compared
// across machines, so resolution may look at one machine only.
import fc from 'fast-check';
import type { FieldTable } from '../../../src/amqp/table.js';
import type { PartitionMachine } from '../../../src/partition/machine.js';
import type { PartitionCommand } from '../../../src/partition/types.js';
import { declare, header, text } from './helpers.js';

/** Argument profiles the queues are declared with. */
export const PROFILES: readonly FieldTable[] = [
  {},
  { 'x-message-ttl': 50, 'x-dead-letter-exchange': 'dlx' },
  { 'x-max-length': 3, 'x-dead-letter-exchange': 'dlx' },
  { 'x-max-length': 2, 'x-overflow': 'reject-publish-dlx', 'x-dead-letter-exchange': 'dlx' },
  { 'x-max-length-bytes': 20, 'x-overflow': 'reject-publish' },
  { 'x-delivery-limit': 1, 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'd' },
  { 'x-max-priority': 3, 'x-message-ttl': 120 },
  { 'x-single-active-consumer': true, 'x-delivery-limit': 2 },
  { 'x-expires': 150 },
];

const QUEUES = 4;
const CONSUMERS = 4;
const SESSIONS = 3;

export type Op =
  | { t: 'enq'; qs: number[]; size: number; pub: number; priority: number | undefined; ttl: number | undefined }
  | { t: 'retry'; back: number }
  | { t: 'co'; q: number; c: number; prefetch: number; noAck: boolean; priority: number }
  | { t: 'settle' | 'return' | 'discard'; q: number; c: number; pick: number; stale: boolean }
  | { t: 'cancel' | 'recover' | 'get' | 'getNoAck'; q: number; c: number }
  | { t: 'flow'; q: number; c: number; active: boolean }
  | { t: 'down'; q: number; cs: number[] }
  | { t: 'sessionDown'; s: number }
  | { t: 'purge' | 'touch' | 'delete' | 'redeclare'; q: number }
  | { t: 'deadLettered'; q: number; pick: number }
  | { t: 'tick'; dt: number }
  | { t: 'skew'; back: number };

const q = fc.integer({ min: 0, max: QUEUES - 1 });
const c = fc.integer({ min: 0, max: CONSUMERS - 1 });
const pick = fc.integer({ min: 0, max: 0xffff });

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({
    t: fc.constant('enq' as const), qs: fc.uniqueArray(q, { minLength: 1, maxLength: 3 }), size: fc.integer({ min: 0, max: 12 }),
    pub: fc.integer({ min: 0, max: SESSIONS }), priority: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
    ttl: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined, freq: 4 }),
  }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('retry' as const), back: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 3, arbitrary: fc.record({
    t: fc.constant('co' as const), q, c, prefetch: fc.integer({ min: 0, max: 3 }), noAck: fc.integer({ min: 0, max: 4 }).map((n) => n === 0), priority: fc.integer({ min: 0, max: 2 }),
  }) },
  { weight: 8, arbitrary: fc.record({ t: fc.constantFrom('settle' as const, 'settle' as const, 'return' as const, 'discard' as const), q, c, pick, stale: fc.integer({ min: 0, max: 4 }).map((n) => n === 0) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constantFrom('cancel' as const, 'recover' as const, 'get' as const, 'getNoAck' as const), q, c }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('flow' as const), q, c, active: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('down' as const), q: fc.integer({ min: -1, max: QUEUES - 1 }), cs: fc.uniqueArray(c, { maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('sessionDown' as const), s: fc.integer({ min: 0, max: SESSIONS - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constantFrom('purge' as const, 'touch' as const, 'delete' as const, 'redeclare' as const), q }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('deadLettered' as const), q, pick }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 80 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('skew' as const), back: fc.integer({ min: 1, max: 30 }) }) },
);

/** Entries of 1..4 operations each. */
export interface Workload { readonly profiles: number[]; readonly entries: Op[][] }

export const workloadArb: fc.Arbitrary<Workload> = fc.record({
  profiles: fc.array(fc.integer({ min: 0, max: PROFILES.length - 1 }), { minLength: QUEUES, maxLength: QUEUES }),
  entries: fc.array(fc.array(opArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 60, size: 'large' }),
});

const sessionOf = (consumer: number): string => `s${consumer % SESSIONS}`;

/** Turns abstract operations into commands against one machine's current state. */
export class Resolver {
  private nowMs = 1000;
  private readonly seqs = new Map<string, number>();
  private readonly enqueues: PartitionCommand[] = [];

  constructor(private readonly profiles: readonly number[]) {}

  /** Declares of the workload's queues (queue i gets id i + 1 when declared first). */
  declares(): PartitionCommand[] {
    return this.profiles.map((p, i) => declare(`q${i}`, PROFILES[p], this.nowMs));
  }

  private qid(m: PartitionMachine, i: number): number {
    return m.queueId('/', `q${i}`) ?? 1000 + i; // a deleted queue: its (unknown) id
  }

  private held(m: PartitionMachine, qid: number, consumer: number): number[] {
    if (m.queue(qid) === undefined) return [];
    return m.checkedOut(qid).filter((x) => x.consumer === `c${consumer}` && x.session === sessionOf(consumer)).map((x) => x.msgId);
  }

  resolve(m: PartitionMachine, op: Op): PartitionCommand {
    const now = this.nowMs;
    const who = (i: number): { session: string; consumer: string } => ({ session: sessionOf(i), consumer: `c${i}` });
    switch (op.t) {
      case 'enq': {
        const session = op.pub === 0 ? '' : `p${op.pub}`;
        const seq = session === '' ? 0 : (this.seqs.get(session) ?? 0) + 1;
        if (session !== '') this.seqs.set(session, seq);
        const cmd: PartitionCommand = {
          kind: 'enqueue', queues: op.qs.map((i) => this.qid(m, i)), exchange: 'ex', routingKey: 'rk',
          header: header(), body: text('x'.repeat(op.size)), session, seq, priority: op.priority,
          expirationMs: op.ttl, nowMs: now,
        };
        this.enqueues.push(cmd);
        return cmd;
      }
      case 'retry': {
        const prev = this.enqueues[this.enqueues.length - 1 - op.back];
        return prev ?? { kind: 'tick', nowMs: now };
      }
      case 'co': return { kind: 'checkout', queue: this.qid(m, op.q), ...who(op.c), prefetch: op.prefetch, priority: op.priority, noAck: op.noAck, nowMs: now };
      case 'settle': case 'return': case 'discard': {
        // Mostly a consumer (or getter) that holds something in the queue, so settles hit.
        const qid = this.qid(m, op.q);
        const holders = m.queue(qid) === undefined ? [] : [...new Set(m.checkedOut(qid).map((x) => x.consumer))].sort();
        const holder = op.stale || holders.length === 0 ? `c${op.c}` : holders[op.c % holders.length] as string;
        const held = this.held(m, qid, Number(holder.slice(1)));
        const n = held.length === 0 ? 0 : 1 + (op.pick % held.length);
        const ids = held.slice(0, n);
        if (op.stale) ids.push(op.pick % 50); // an id it does not hold (or one already settled)
        return { kind: op.t, queue: qid, ...who(Number(holder.slice(1))), msgIds: ids, nowMs: now };
      }
      case 'cancel': case 'recover': return { kind: op.t, queue: this.qid(m, op.q), ...who(op.c), nowMs: now };
      case 'get': case 'getNoAck': return { kind: 'get', queue: this.qid(m, op.q), ...who(op.c), noAck: op.t === 'getNoAck', nowMs: now };
      case 'flow': return { kind: 'flow', queue: this.qid(m, op.q), ...who(op.c), active: op.active, nowMs: now };
      case 'down': {
        const s = op.cs[0] ?? 0;
        return { kind: 'down', queue: op.q < 0 ? 0 : this.qid(m, op.q), session: sessionOf(s), consumers: op.cs.filter((x) => sessionOf(x) === sessionOf(s)).map((x) => `c${x}`), nowMs: now };
      }
      case 'sessionDown': return { kind: 'sessionDown', session: `s${op.s}`, nowMs: now };
      case 'purge': case 'touch': case 'delete': return { kind: op.t, queue: this.qid(m, op.q), nowMs: now };
      case 'redeclare': return declare(`q${op.q}`, PROFILES[this.profiles[op.q] ?? 0], now);
      case 'deadLettered': {
        const qid = this.qid(m, op.q);
        const pending = m.queue(qid) === undefined ? [] : m.deadLetterIds(qid);
        return { kind: 'deadLettered', queue: qid, msgIds: pending.slice(0, 1 + (op.pick % 3)), nowMs: now };
      }
      case 'tick':
        this.nowMs += op.dt;
        return { kind: 'tick', nowMs: this.nowMs };
      case 'skew': return { kind: 'tick', nowMs: Math.max(0, now - op.back) };
      default: {
        const never: never = op;
        throw new Error(`unknown op ${JSON.stringify(never)}`);
      }
    }
  }
}
