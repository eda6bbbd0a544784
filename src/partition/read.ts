// Reading a message's record when carrying out a delivery whose effect did not carry it.
import type { AppReader } from '../raft/node/app.js';
import { readMany } from '../raft/storage/appkv.js';
import { recordKey } from './keys.js';

/** The stored record of (queue, msgId), or undefined if it is gone (queue deleted meanwhile). */
export function readRecord(store: AppReader, queue: number, msgId: number): Promise<Uint8Array | undefined> {
  return store.get(recordKey(queue, msgId));
}

/** The stored records of many (queue, msgId) pairs in one read; undefined where gone. */
export function readRecords(store: AppReader, ids: ReadonlyArray<{ readonly queue: number; readonly msgId: number }>): Promise<Array<Uint8Array | undefined>> {
  return readMany(store, ids.map((id) => recordKey(id.queue, id.msgId)));
}
