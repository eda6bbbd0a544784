// The building blocks: MemoryStorage, the unstable log, progress and inflights, quorum
// arithmetic, conf-change encoding, errors and the PRNG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompactedError,
  ConfChangeType,
  MemoryStorage,
  NotLeaderError,
  ProposalDroppedError,
  SnapshotOutOfDateError,
  UnavailableError,
  applyConfChange,
  decodeConfChange,
  encodeConfChange,
  mulberry32,
} from '../../../../src/raft/core/index.js';
import { Unstable } from '../../../../src/raft/core/log_unstable.js';
import { Progress, ProgressState } from '../../../../src/raft/core/progress.js';
import { Inflights } from '../../../../src/raft/core/inflights.js';
import { VoteResult, committedIndex, voteResult } from '../../../../src/raft/core/quorum.js';
import { ent } from './harness.js';

const cs = { voters: [1, 2, 3], learners: [], votersOutgoing: [] };

test('§5.3 MemoryStorage.append truncates a conflicting suffix', () => {
  const s = new MemoryStorage();
  s.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
  s.append([ent(2, 2)]);
  assert.equal(s.lastIndex(), 2);
  assert.equal(s.term(2), 2);
  assert.throws(() => s.append([ent(5, 2)]), /missing log entry/);
});

test('MemoryStorage.append in place: entries handed out earlier are copies, and a compacted prefix is skipped', () => {
  const s = new MemoryStorage();
  s.append([1, 2, 3, 4].map((i) => ent(i, 1)));
  const before = s.entries(1, 5, Infinity);
  s.append([ent(3, 2), ent(4, 2), ent(5, 2)]);
  assert.deepEqual(before.map((e) => [e.index, e.term]), [[1, 1], [2, 1], [3, 1], [4, 1]], 'an earlier read is not rewritten');
  assert.deepEqual(s.entries(1, 6, Infinity).map((e) => [e.index, e.term]), [[1, 1], [2, 1], [3, 2], [4, 2], [5, 2]]);
  s.createSnapshot(2, cs, new Uint8Array());
  s.compact(2);
  s.append([ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 3)]); // starts below the first index: only 3.. count
  assert.equal(s.firstIndex(), 3);
  assert.deepEqual(s.entries(3, 5, Infinity).map((e) => [e.index, e.term]), [[3, 2], [4, 3]]);
  assert.equal(s.lastIndex(), 4);
});

test('§7 MemoryStorage compaction and snapshots', () => {
  const s = new MemoryStorage();
  s.append([1, 2, 3, 4, 5].map((i) => ent(i, 1)));
  s.createSnapshot(3, cs, new Uint8Array([7]));
  s.compact(3);
  assert.equal(s.firstIndex(), 4);
  assert.equal(s.term(3), 1, 'the snapshot index keeps its term');
  assert.throws(() => s.term(2), CompactedError);
  assert.throws(() => s.entries(3, 5, Infinity), CompactedError);
  assert.throws(() => s.term(6), UnavailableError);
  assert.throws(() => s.createSnapshot(2, cs, new Uint8Array()), SnapshotOutOfDateError);
  assert.deepEqual(s.entries(4, 6, Infinity).map((e) => e.index), [4, 5]);
  assert.deepEqual(s.entries(4, 6, 1).map((e) => e.index), [4], 'size limit keeps at least one entry');
  s.applySnapshot({ meta: { index: 10, term: 3, confState: cs }, data: new Uint8Array() });
  assert.equal(s.firstIndex(), 11);
  assert.equal(s.lastIndex(), 10);
});

test('§5.3 unstable.stableTo ignores a persisted entry that was replaced meanwhile', () => {
  const u = new Unstable(5);
  u.truncateAndAppend([ent(5, 1), ent(6, 1)]);
  u.truncateAndAppend([ent(6, 2)]); // a new leader replaced index 6
  u.stableTo(6, 1); // the write of the old entry 6 completes
  assert.equal(u.offset, 5, 'the new entry 6 is still unstable');
  u.stableTo(6, 2);
  assert.equal(u.offset, 7);
  assert.deepEqual(u.entries, []);
});

test('progress: stale rejections are ignored; probing skips to the hint', () => {
  const p = new Progress(11, 4, false);
  p.match = 5;
  assert.equal(p.maybeDecrTo(9, 3), false, 'a rejection of an index we did not send last');
  assert.equal(p.maybeDecrTo(10, 7), true);
  assert.equal(p.next, 8);
  p.becomeReplicate();
  assert.equal(p.maybeDecrTo(4, 0), false, 'below match: stale');
  p.becomeSnapshot(30);
  assert.equal(p.isPaused(), true);
  p.becomeProbe();
  assert.equal(p.next, 31, 'after a snapshot, probe resumes after it');
  assert.equal(p.state, ProgressState.Probe);
});

test('inflights bound the pipeline', () => {
  const f = new Inflights(2);
  f.add(3);
  f.add(5);
  assert.equal(f.full(), true);
  f.freeLE(4);
  assert.equal(f.count(), 1);
  f.freeLE(5);
  assert.equal(f.count(), 0);
});

test('§5.3 quorum: commit index is the highest index on a majority', () => {
  const match = new Map([
    [1, 9],
    [2, 5],
    [3, 7],
    [4, 2],
    [5, 7],
  ]);
  assert.equal(committedIndex([1, 2, 3, 4, 5], (id) => match.get(id)!), 7);
  assert.equal(committedIndex([1, 2, 3, 4], (id) => match.get(id)!), 5);
  const votes = new Map([
    [1, true],
    [2, false],
  ]);
  assert.equal(voteResult([1, 2, 3], votes), VoteResult.Pending);
  votes.set(3, false);
  assert.equal(voteResult([1, 2, 3], votes), VoteResult.Lost);
});

test('§4.1 conf changes encode, decode and apply one server at a time', () => {
  const cc = { type: ConfChangeType.AddLearner, nodeId: 12345 };
  assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
  const withLearner = applyConfChange(cs, cc);
  assert.deepEqual(withLearner.learners, [12345]);
  const promoted = applyConfChange(withLearner, { type: ConfChangeType.AddNode, nodeId: 12345 });
  assert.deepEqual(promoted.voters, [1, 2, 3, 12345]);
  assert.deepEqual(promoted.learners, []);
  assert.throws(() => applyConfChange({ voters: [1], learners: [], votersOutgoing: [] }, { type: ConfChangeType.RemoveNode, nodeId: 1 }));
});

test('errors carry stable codes and raft: messages', () => {
  const e = new NotLeaderError(3);
  assert.equal(e.code, 'RAFT_NOT_LEADER');
  assert.equal(e.message, 'raft: not leader');
  assert.equal(e.leaderHint, 3);
  assert.match(new ProposalDroppedError('x').message, /^raft: proposal dropped/);
});

test('mulberry32 is deterministic per seed', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const xs = [a(), a(), a()];
  assert.deepEqual([b(), b(), b()], xs);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.notDeepEqual([mulberry32(43)()], [xs[0]]);
});
