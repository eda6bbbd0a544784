// What one partition group's replicas applied, as reported by every replica (partition mode of the
// simulator). All replicas apply the same committed log, so every report about one entry or one
// message must agree; the first report is recorded and later ones are compared with it:
//
//   state digests   the observable state of a replica after applying index i (or after recovering
//                   at i, from its keys) is the same on every replica (replica agreement);
//   enqueues        the first application of a (session, seq) stored its message once; a later one
//                   at another index must be a duplicate (retries never store twice);
//   message ends    each stored message ends at most one way, the same on every replica;
//   dead-letters    which dead-letter seq of a queue carries which message, to find its copy.
//
// At the end, a confirmed publish is traced through this ledger to where its messages are now.
import type { PartitionMachine } from '../../../src/partition/machine.js';
import type { ApplyOutput, CommandResult, EnqueueCmd, MessageOutcome } from '../../../src/partition/types.js';
import { SafetyViolation } from '../checker.js';

export type End = MessageOutcome['end'];

export interface EnqueueApplied {
  readonly index: number;
  readonly queues: readonly number[];
  readonly outcomes: readonly string[];
  readonly msgIds: readonly number[];
}

const key = (queue: number, msgId: number): string => `${queue}:${msgId}`;

/** FNV-1a over a string, as two 32-bit halves: a short digest of a replica's state. */
function hash(s: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c ^ (a >>> 11), 0x5bd1e995) >>> 0;
  }
  return `${a.toString(16)}.${b.toString(16)}.${s.length}`;
}

/** Everything observable of a machine (views, ready order, holders, consumers, dedupe of `sessions`). */
export function observable(m: PartitionMachine, sessions: Iterable<string>): string {
  const queues = m.queueIds().sort((x, y) => x - y).map((id) => ({
    // Arguments as hex: a Buffer and a Uint8Array of the same bytes serialise differently.
    view: { ...m.queue(id), arguments: Buffer.from(m.queue(id)!.arguments).toString('hex') }, ready: m.readyMessages(id), checkedOut: m.checkedOut(id), deadLetters: m.deadLetterIds(id),
    consumers: m.consumerIds(id),
  }));
  const dedupe = [...sessions].sort().map((s) => [s, m.dedupeSeq(s)]);
  return JSON.stringify({ clock: m.clockMs, deadline: m.nextDeadlineMs() ?? null, queues, dedupe });
}

export class GroupLedger {
  private readonly digests = new Map<number, { digest: string; who: string; full?: string }>();
  /** Keep whole states, to print what differs (SIM_DEBUG_DIGEST=1; memory-hungry). */
  private readonly keepFull = process.env['SIM_DEBUG_DIGEST'] === '1';
  readonly enqueues = new Map<string, EnqueueApplied>();
  /** "queue:msgId" → how it ended (first report). */
  readonly ends = new Map<string, End>();
  readonly stored = new Set<string>();
  /** "queue:msgId" → the body of the enqueue that stored it (accepted outcomes). */
  readonly bodies = new Map<string, string>();
  /** "queue:msgId" of a dead-lettered message → its dead-letter seq in that queue. */
  readonly deadLetterSeq = new Map<string, number>();
  /** Dead-lettered messages whose target did not exist when the owner carried them out. */
  readonly unroutedDeadLetters = new Set<string>();
  /** Sessions whose dedupe entries are part of the compared state. */
  readonly sessions = new Set<string>();
  tally: Record<End | 'stored' | 'enqueueEntries' | 'duplicates', number> = {
    stored: 0, settled: 0, autoAcked: 0, deadLettered: 0, dropped: 0, purged: 0, deleted: 0, enqueueEntries: 0, duplicates: 0,
  };

  constructor(readonly group: number) {}

  private fail(msg: string): never {
    throw new SafetyViolation(`group ${this.group}: ${msg}`);
  }

  /** Replica agreement: the state after applying (or recovering at) `index`. */
  digest(index: number, m: PartitionMachine, who: string): void {
    const full = observable(m, this.sessions);
    const d = hash(full);
    const seen = this.digests.get(index);
    if (seen === undefined) this.digests.set(index, { digest: d, who, ...(this.keepFull ? { full } : {}) });
    else if (seen.digest !== d) {
      const detail = seen.full === undefined ? '' : `\n    ${seen.who}: ${seen.full}\n    ${who}: ${full}`;
      this.fail(`replicas disagree at applied index ${index}: ${seen.who} and ${who}${detail}`);
    }
  }

  /** One apply() call's enqueue commands (in order) with their results, and its output. */
  observe(enqueues: readonly { index: number; cmd: EnqueueCmd; result: CommandResult }[], out: ApplyOutput): void {
    for (const { index, cmd, result } of enqueues) this.enqueue(index, cmd, result);
    for (const s of out.stored) {
      const k = key(s.queue, s.msgId);
      if (this.stored.has(k)) continue; // another replica's report of the same apply
      this.stored.add(k);
      this.tally.stored++;
    }
    for (const o of out.outcomes) {
      const k = key(o.queue, o.msgId);
      const prev = this.ends.get(k);
      if (prev !== undefined && prev !== o.end) this.fail(`message ${k} ended ${prev} on one replica and ${o.end} on another`);
      if (prev !== undefined) continue;
      this.ends.set(k, o.end);
      this.tally[o.end]++;
    }
    for (const e of out.effects) {
      if (e.kind !== 'deadLetter') continue;
      const k = key(e.queue, e.msgId);
      const seq = this.deadLetterSeq.get(k);
      if (seq !== undefined && seq !== e.seq) this.fail(`message ${k} dead-lettered with seq ${seq} and ${e.seq}`);
      this.deadLetterSeq.set(k, e.seq);
    }
  }

  private enqueue(index: number, cmd: EnqueueCmd, result: CommandResult): void {
    if (cmd.session === '' || cmd.seq === 0) return;
    const id = `${cmd.session}/${cmd.seq}`;
    const seen = this.enqueues.get(id);
    if (result.kind === 'duplicate') {
      if (seen === undefined) this.fail(`enqueue ${id} at ${index} answered duplicate, but no replica applied it before`);
      if (seen.index >= index) this.fail(`enqueue ${id} at ${index} answered duplicate of a later application (${seen.index})`);
      if (seen.index !== index) this.tally.duplicates++;
      return;
    }
    if (result.kind !== 'enqueued') this.fail(`enqueue ${id} at ${index} answered ${result.kind}`);
    const applied: EnqueueApplied = { index, queues: [...cmd.queues], outcomes: [...result.outcomes], msgIds: [...result.msgIds] };
    if (seen !== undefined) {
      if (seen.index !== index) this.fail(`enqueue ${id} stored twice: at ${seen.index} and at ${index}`);
      if (JSON.stringify(seen) !== JSON.stringify(applied)) this.fail(`enqueue ${id} at ${index} has different results on two replicas`);
      return;
    }
    this.enqueues.set(id, applied);
    this.tally.enqueueEntries++;
    const body = new TextDecoder().decode(cmd.body);
    for (let i = 0; i < applied.queues.length; i++) {
      if (applied.outcomes[i] === 'accepted') this.bodies.set(key(applied.queues[i]!, applied.msgIds[i]!), body);
    }
  }
}
