// The key writes of one apply() call, coalesced per key and handed to the ApplyBatch at its end.
//
// Why not write straight into the batch: a message stored and ended within the same call (an
// enqueue delivered at once to a noAck consumer, or refused and dropped) then costs no write at
// all, several state changes of one message become one put, and the records of noAck deliveries
// can still be read from the batch (which does not see these writes yet) before they are deleted.
import type { ApplyBatch } from '../raft/node/app.js';
import { recordKey, stateKey } from './keys.js';

const RECORD = 0;
const STATE = 1;
const OTHER = 2;

interface Op {
  value: Uint8Array | null;
  /** The key did not exist before this call: a later delete cancels the op entirely. */
  readonly fresh: boolean;
  readonly type: number;
  readonly queue: number;
  readonly msgId: number;
  readonly key: Uint8Array | undefined;
}

export class WriteSet {
  private readonly ops = new Map<string, Op>();

  get size(): number { return this.ops.size; }

  /** Stores a new message record (its key cannot exist: msg ids are never reused). */
  putRecord(queue: number, msgId: number, value: Uint8Array): void {
    this.set(`r${queue}:${msgId}`, RECORD, queue, msgId, undefined, value, true);
  }

  delRecord(queue: number, msgId: number): void {
    this.remove(`r${queue}:${msgId}`, RECORD, queue, msgId, undefined);
  }

  /**
   * The record's value as this call left it: bytes if stored by this call, null if deleted by it,
   * undefined if untouched (then it is in the batch's store, or nowhere).
   */
  recordValue(queue: number, msgId: number): Uint8Array | null | undefined {
    return this.ops.get(`r${queue}:${msgId}`)?.value;
  }

  /** `absent`: the caller knows the state key does not exist (the message's first checkout). */
  putState(queue: number, msgId: number, value: Uint8Array, absent = false): void {
    // Fresh when the message itself is new in this call: its state key cannot exist yet.
    const rec = absent ? undefined : this.ops.get(`r${queue}:${msgId}`);
    this.set(`s${queue}:${msgId}`, STATE, queue, msgId, undefined, value, absent || (rec !== undefined && rec.fresh));
  }

  delState(queue: number, msgId: number): void {
    this.remove(`s${queue}:${msgId}`, STATE, queue, msgId, undefined);
  }

  /** Any other key, named by `id` (unique per key). */
  put(id: string, key: Uint8Array, value: Uint8Array): void {
    this.set(id, OTHER, 0, 0, key, value, false);
  }

  /** Deletes any other key, named by `id`. */
  del(id: string, key: Uint8Array): void {
    this.remove(id, OTHER, 0, 0, key);
  }

  private remove(id: string, type: number, queue: number, msgId: number, key: Uint8Array | undefined): void {
    const op = this.ops.get(id);
    if (op === undefined) {
      this.ops.set(id, { value: null, fresh: false, type, queue, msgId, key });
    } else if (op.fresh) {
      this.ops.delete(id);
    } else {
      op.value = null;
    }
  }

  /** Hands every op to the batch (key order does not matter: one op per key). */
  flush(batch: ApplyBatch): void {
    for (const op of this.ops.values()) {
      const key = op.type === RECORD ? recordKey(op.queue, op.msgId)
        : op.type === STATE ? stateKey(op.queue, op.msgId) : op.key as Uint8Array;
      if (op.value === null) batch.del(key);
      else batch.put(key, op.value, op.fresh);
    }
    this.ops.clear();
  }

  private set(
    id: string, type: number, queue: number, msgId: number, key: Uint8Array | undefined, value: Uint8Array, fresh: boolean,
  ): void {
    const op = this.ops.get(id);
    if (op === undefined) this.ops.set(id, { value, fresh, type, queue, msgId, key });
    else op.value = value;
  }
}
