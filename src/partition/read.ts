// Reading a message's record when carrying out a delivery whose effect did not carry it.
import type { AppReader } from '../raft/node/app.js';
import { recordKey } from './keys.js';

/** The stored record of (queue, msgId), or undefined if it is gone (queue deleted meanwhile). */
export function readRecord(store: AppReader, queue: number, msgId: number): Promise<Uint8Array | undefined> {
  return store.get(recordKey(queue, msgId));
}
