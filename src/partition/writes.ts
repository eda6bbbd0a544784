// The key writes of one apply() call, coalesced per key and handed to the ApplyBatch at its end.
//
// Why not write straight into the batch: a message stored and ended within the same call (an
// enqueue delivered at once to a noAck consumer, or refused and dropped) then costs no write at
// all, several state changes of one message become one put, and the records of noAck deliveries
// can still be read from the batch (which does not see these writes yet) before they are deleted.
//
// Keys are held as latin1 strings (ApplyBatch.putLatin1), message keys made straight from their
// numbers: the string is the only form of the key most writes ever need (the driver cancels a
// message's writes when it is acknowledged before they reach the store).
import type { ApplyBatch } from '../raft/node/app.js';
import { toLatin1 } from '../raft/storage/appkv.js';
import { parseMessageKey, recordKeyLatin1, stateKeyLatin1 } from './keys.js';

interface Op {
  value: Uint8Array | null;
  /** The key did not exist before this call: a later delete cancels the op entirely. */
  readonly fresh: boolean;
}

/**
 * The op of every other key deleted (and not freshly put) by this call, shared: never modified
 * (set() replaces it), so a delete costs no object.
 */
const DELETE: Op = Object.freeze({ value: null, fresh: false });

/**
 * What this call does to one message's two keys, its record and its state, under the record key:
 * one map entry per message and call, not one per key (a message is usually stored and checked out
 * by one call, settled by another: the map grows from empty each call, per message on every
 * replica). A value: put; null: delete; undefined: untouched. Fresh: the key did not exist before
 * this call, so a later delete cancels the op entirely.
 */
class MessageOps {
  record: Uint8Array | null | undefined = undefined;
  recordFresh = false;
  state: Uint8Array | null | undefined = undefined;
  stateFresh = false;
  constructor(readonly queue: number, readonly msgId: number) {}
}

export class WriteSet {
  /** Message keys, by the record key as a latin1 string. */
  private readonly messages = new Map<string, MessageOps>();
  /** Every other key, by its latin1 string. */
  private readonly ops = new Map<string, Op>();
  /** The message written last (in `messages`). */
  private last: MessageOps | undefined;

  /** Entries held: one per message touched, one per other key written (0 after flush). */
  get size(): number { return this.messages.size + this.ops.size; }

  /** Stores a new message record (its key cannot exist: msg ids are never reused). */
  putRecord(queue: number, msgId: number, value: Uint8Array): void {
    const m = this.message(queue, msgId);
    if (m.record === undefined) m.recordFresh = true;
    m.record = value;
  }

  delRecord(queue: number, msgId: number): void {
    const m = this.message(queue, msgId);
    if (m.recordFresh) {
      m.record = undefined;
      m.recordFresh = false;
    } else {
      m.record = null;
    }
  }

  /**
   * The record's value as this call left it: bytes if stored by this call, null if deleted by it,
   * undefined if untouched (then it is in the batch's store, or nowhere).
   */
  recordValue(queue: number, msgId: number): Uint8Array | null | undefined {
    return this.messages.get(recordKeyLatin1(queue, msgId))?.record;
  }

  /** `absent`: the caller knows the state key does not exist (the message's first checkout). */
  putState(queue: number, msgId: number, value: Uint8Array, absent = false): void {
    const m = this.message(queue, msgId);
    // Fresh when the message itself is new in this call: its state key cannot exist yet.
    if (m.state === undefined) m.stateFresh = absent || m.recordFresh;
    m.state = value;
  }

  delState(queue: number, msgId: number): void {
    const m = this.message(queue, msgId);
    if (m.stateFresh) {
      m.state = undefined;
      m.stateFresh = false;
    } else {
      m.state = null;
    }
  }

  /** Any other key (a message key too: the same key as by its numbers). */
  put(key: Uint8Array, value: Uint8Array): void {
    const k = parseMessageKey(key);
    if (k === undefined) this.set(toLatin1(key), value);
    else if (k.isState) this.message(k.queue, k.msgId).state = value;
    else this.message(k.queue, k.msgId).record = value;
  }

  /** Deletes any other key (a message key too). */
  del(key: Uint8Array): void {
    const k = parseMessageKey(key);
    if (k === undefined) this.remove(toLatin1(key));
    else if (k.isState) this.delState(k.queue, k.msgId);
    else this.delRecord(k.queue, k.msgId);
  }

  /** Hands every op to the batch (key order does not matter: one op per key). */
  flush(batch: ApplyBatch): void {
    // forEach, not for-of over entries: no [key, op] pair allocated per write.
    this.messages.forEach((m, key) => {
      if (m.record === null) batch.delLatin1(key);
      else if (m.record !== undefined) batch.putLatin1(key, m.record, m.recordFresh);
      if (m.state === null) batch.delLatin1(stateKeyLatin1(m.queue, m.msgId));
      else if (m.state !== undefined) batch.putLatin1(stateKeyLatin1(m.queue, m.msgId), m.state, m.stateFresh);
    });
    this.ops.forEach((op, key) => {
      if (op.value === null) batch.delLatin1(key);
      else batch.putLatin1(key, op.value, op.fresh);
    });
    this.messages.clear();
    this.ops.clear();
    this.last = undefined;
  }

  private message(queue: number, msgId: number): MessageOps {
    // A message's keys are usually written one right after the other (stored and checked out,
    // record and state deleted): the last one is at hand without a key string and a lookup.
    const last = this.last;
    if (last !== undefined && last.msgId === msgId && last.queue === queue) return last;
    const key = recordKeyLatin1(queue, msgId);
    let m = this.messages.get(key);
    if (m === undefined) {
      m = new MessageOps(queue, msgId);
      this.messages.set(key, m);
    }
    this.last = m;
    return m;
  }

  private set(key: string, value: Uint8Array): void {
    const op = this.ops.get(key);
    if (op === undefined || op === DELETE) this.ops.set(key, { value, fresh: false });
    else op.value = value;
  }

  private remove(key: string): void {
    if (this.ops.get(key) !== DELETE) this.ops.set(key, DELETE);
  }
}
