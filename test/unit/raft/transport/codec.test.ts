import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../../../src/raft/core/types.js';
import { EntryType, MessageType } from '../../../../src/raft/core/types.js';
import { decodeBatch, encodeBatch, estimateBytes } from '../../../../src/raft/transport/codec.js';
import { norm, plain } from './helpers.js';

const base: Message = {
  type: MessageType.App, from: 1, to: 2, term: 7, logTerm: 6, index: 2 ** 40 + 3,
  entries: [
    { term: 7, index: 2 ** 40 + 4, type: EntryType.Normal, data: new Uint8Array([1, 2, 3]) },
    { term: 7, index: 2 ** 40 + 5, type: EntryType.ConfChange, data: new Uint8Array(0) },
  ],
  commit: 99, reject: false, rejectHint: 0,
};

function roundTrip(m: Message): Message {
  const out = decodeBatch(encodeBatch(plain(1, 2, [{ group: 4_000_000_000, message: m }])));
  assert.equal(out.fromNode, 1);
  assert.equal(out.envelopes.length, 1);
  assert.equal(out.envelopes[0]!.group, 4_000_000_000);
  return out.envelopes[0]!.message;
}

test('an append with 64-bit indexes round-trips exactly', () => {
  assert.deepEqual(norm(roundTrip(base)), norm(base));
});

test('optional fields stay absent, and present ones (even zero/false) survive', () => {
  const hb: Message = { ...base, type: MessageType.HeartbeatResp, entries: [], reject: true, rejectHint: 5 };
  const back = roundTrip(hb);
  assert.equal('snapshot' in back, false);
  assert.equal('snapOffset' in back, false);
  assert.equal('context' in back, false);
  const snap: Message = {
    ...base, type: MessageType.Snap, entries: [],
    snapshot: { meta: { index: 50, term: 3, confState: { voters: [1, 2], learners: [3], votersOutgoing: [4] } }, data: new Uint8Array([9, 9]) },
    snapOffset: 0, snapDone: false, context: new Uint8Array([0]),
  };
  assert.deepEqual(norm(roundTrip(snap)), norm(snap));
});

test('estimateBytes bounds the encoded size', () => {
  const big: Message = { ...base, entries: [{ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(1024) }] };
  for (const m of [base, big]) {
    const encoded = encodeBatch(plain(1, 2, [{ group: 1, message: m }])).length;
    assert.ok(estimateBytes(m) >= encoded - 16, `${estimateBytes(m)} vs ${encoded}`);
  }
});
