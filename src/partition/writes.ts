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
import { recordKeyLatin1, stateKeyLatin1 } from './keys.js';

interface Op {
  value: Uint8Array | null;
  /** The key did not exist before this call: a later delete cancels the op entirely. */
  readonly fresh: boolean;
}

/**
 * The op of every key deleted (and not freshly put) by this call, shared: never modified (set()
 * replaces it), so each delete, two per message on every replica, costs no object.
 */
const DELETE: Op = Object.freeze({ value: null, fresh: false });

export class WriteSet {
  /** By key, as a latin1 string. */
  private readonly ops = new Map<string, Op>();

  get size(): number { return this.ops.size; }

  /** Stores a new message record (its key cannot exist: msg ids are never reused). */
  putRecord(queue: number, msgId: number, value: Uint8Array): void {
    this.set(recordKeyLatin1(queue, msgId), value, true);
  }

  delRecord(queue: number, msgId: number): void {
    this.remove(recordKeyLatin1(queue, msgId));
  }

  /**
   * The record's value as this call left it: bytes if stored by this call, null if deleted by it,
   * undefined if untouched (then it is in the batch's store, or nowhere).
   */
  recordValue(queue: number, msgId: number): Uint8Array | null | undefined {
    return this.ops.get(recordKeyLatin1(queue, msgId))?.value;
  }

  /** `absent`: the caller knows the state key does not exist (the message's first checkout). */
  putState(queue: number, msgId: number, value: Uint8Array, absent = false): void {
    // Fresh when the message itself is new in this call: its state key cannot exist yet.
    const rec = absent ? undefined : this.ops.get(recordKeyLatin1(queue, msgId));
    this.set(stateKeyLatin1(queue, msgId), value, absent || (rec !== undefined && rec.fresh));
  }

  delState(queue: number, msgId: number): void {
    this.remove(stateKeyLatin1(queue, msgId));
  }

  /** Any other key. */
  put(key: Uint8Array, value: Uint8Array): void {
    this.set(toLatin1(key), value, false);
  }

  /** Deletes any other key. */
  del(key: Uint8Array): void {
    this.remove(toLatin1(key));
  }

  /** Hands every op to the batch (key order does not matter: one op per key). */
  flush(batch: ApplyBatch): void {
    // forEach, not for-of over entries: no [key, op] pair allocated per write.
    this.ops.forEach((op, key) => {
      if (op.value === null) batch.delLatin1(key);
      else batch.putLatin1(key, op.value, op.fresh);
    });
    this.ops.clear();
  }

  private set(key: string, value: Uint8Array, fresh: boolean): void {
    const op = this.ops.get(key);
    if (op === undefined) this.ops.set(key, { value, fresh });
    else if (op === DELETE) this.ops.set(key, { value, fresh: false });
    else op.value = value;
  }

  private remove(key: string): void {
    const op = this.ops.get(key);
    if (op !== undefined && op.fresh) this.ops.delete(key);
    else if (op !== DELETE) this.ops.set(key, DELETE);
  }
}
