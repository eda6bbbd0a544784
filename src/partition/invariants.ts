// The partition's accounting invariant, for unit property tests and the Raft simulator:
//
//   every stored message (committed enqueue accepted by a queue, or refused into its DLX) ends
//   exactly one way — settled after delivery, auto-acked (noAck delivery or get), dead-lettered,
//   dropped (expired / overflow / rejected / delivery limit without a DLX), purged, deleted with its
//   queue — or is still present (ready or checked out); and the message records on "disk" are
//   exactly the present messages plus the dead-letters in flight.
//
// Fed with every ApplyOutput of a machine built with { trackOutcomes: true }. The ends are also
// checked against what clients observe: a dead-lettered message has its deadLetter effect, an
// auto-acked one a noAck delivery or a get result, and a settled one was handed out before.
import type { AppReader } from '../raft/node/app.js';
import { parseMessageKey, RANGES } from './keys.js';
import type { PartitionMachine } from './machine.js';
import type { ApplyOutput, MessageOutcome } from './types.js';

export type End = MessageOutcome['end'];

export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

function fail(msg: string): never {
  throw new InvariantError(`partition invariant: ${msg}`);
}

const id = (queue: number, msgId: number): string => `${queue}:${msgId}`;

export class AccountingChecker {
  /** Stored and not ended. */
  private readonly present = new Set<string>();
  /** Ever handed to a client (delivered with ack or got with ack). */
  private readonly handedOut = new Set<string>();
  private readonly ended = new Map<string, End>();
  readonly tally: Record<End | 'stored', number> = {
    stored: 0, settled: 0, autoAcked: 0, deadLettered: 0, dropped: 0, purged: 0, deleted: 0,
  };

  /** Accounts one apply's stored messages and outcomes; throws InvariantError on a violation. */
  observe(out: ApplyOutput): void {
    const deadLetterFx = new Set<string>();
    const autoAckFx = new Set<string>();
    for (const e of out.effects) {
      if (e.kind === 'deadLetter') deadLetterFx.add(id(e.queue, e.msgId));
      if (e.kind === 'deliver') (e.noAck ? autoAckFx : this.handedOut).add(id(e.queue, e.msgId));
    }
    const gets = this.gotIds(out);
    for (const s of out.stored) {
      const k = id(s.queue, s.msgId);
      if (this.present.has(k) || this.ended.has(k)) fail(`message ${k} stored twice`);
      this.present.add(k);
      this.tally.stored++;
    }
    for (const o of out.outcomes) {
      const k = id(o.queue, o.msgId);
      if (!this.present.delete(k)) fail(`message ${k} ended (${o.end}) but was ${this.ended.has(k) ? `already ${this.ended.get(k)}` : 'never stored'}`);
      this.ended.set(k, o.end);
      this.tally[o.end]++;
      if (o.end === 'deadLettered' && !deadLetterFx.has(k)) fail(`message ${k} dead-lettered without a deadLetter effect`);
      if (o.end === 'autoAcked' && !autoAckFx.has(k) && !gets.has(k)) fail(`message ${k} auto-acked but never delivered`);
      if (o.end === 'settled' && !this.handedOut.has(k) && !gets.has(k)) fail(`message ${k} settled but never handed out`);
    }
    for (const k of gets) this.handedOut.add(k);
  }

  private gotIds(out: ApplyOutput): Set<string> {
    const ids = new Set<string>();
    for (const rs of out.results) {
      for (const r of rs) if (r.kind === 'got' && r.message !== undefined) ids.add(id(r.message.queue, r.message.msgId));
    }
    return ids;
  }

  /** Present messages, as "queue:msgId". */
  presentIds(): ReadonlySet<string> {
    return this.present;
  }

  /** The machine holds exactly the present messages (ready or checked out). */
  checkMachine(m: PartitionMachine): void {
    const held = new Set<string>();
    for (const q of m.queueIds()) {
      for (const msgId of m.readyIds(q)) held.add(id(q, msgId));
      for (const c of m.checkedOut(q)) {
        const k = id(q, c.msgId);
        if (held.has(k)) fail(`message ${k} both ready and checked out`);
        held.add(k);
      }
    }
    for (const k of held) if (!this.present.has(k)) fail(`machine holds ${k}, which is ${this.ended.get(k) ?? 'never stored'}`);
    for (const k of this.present) if (!held.has(k)) fail(`message ${k} is present but the machine lost it`);
  }

  /** Records on disk == present messages + dead-letters in flight; state keys only beside records. */
  async checkStore(m: PartitionMachine, store: AppReader): Promise<void> {
    const expected = new Set(this.present);
    for (const q of m.queueIds()) for (const msgId of m.deadLetterIds(q)) expected.add(id(q, msgId));
    const records = new Set<string>();
    for await (const [key] of store.iterate(RANGES.messages)) {
      const k = parseMessageKey(key);
      if (k === undefined) fail('a malformed message key');
      const mk = id(k.queue, k.msgId);
      if (k.isState) {
        if (!records.has(mk)) fail(`state key of ${mk} without its record`);
        continue;
      }
      if (!expected.has(mk)) fail(`record ${mk} on disk but the message ${this.ended.get(mk) ?? 'was never stored'}`);
      records.add(mk);
    }
    for (const k of expected) if (!records.has(k)) fail(`message ${k} present but its record is not on disk`);
  }
}
