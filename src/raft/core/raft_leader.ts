// The leader's half of the state machine: proposals, replication (probe / pipelined replicate /
// snapshot), the commit rule, check-quorum, ReadIndex and leadership transfer.
import { applyConfChange, decodeConfChange } from './confchange.js';
import { CompactedError, ProposalDroppedError, invariant } from './errors.js';
import { Progress, ProgressState } from './progress.js';
import { VoteResult, committedIndex, voteResult } from './quorum.js';
import type { RaftState as Raft } from './raft_state.js';
import { StateType } from './raft_state.js';
import type { Entry, Message, NodeId } from './types.js';
import { EntryType, MessageType, NONE } from './types.js';
import { EMPTY_BYTES } from './util.js';

/** Stamps term and index on new entries and appends them to the leader's (unstable) log. */
export function appendEntries(r: Raft, es: readonly Entry[]): void {
  const li = r.log.lastIndex();
  const stamped = es.map((e, i) => ({ term: r.term, index: li + 1 + i, type: e.type, data: e.data }));
  const before = r.conf();
  r.log.append(stamped);
  r.confLog.appendEntries(stamped);
  // Apply-on-append: the new membership governs replication and commit from this moment.
  if (r.conf() !== before) onConfChanged(r);
  // The leader's own progress advances only when the entries are persisted (RawNode.advance):
  // counting unpersisted entries towards a quorum would let a crash lose a committed entry.
}

function onConfChanged(r: Raft): void {
  r.resetProgress(true);
  if (r.leadTransferee !== NONE && !r.prs.has(r.leadTransferee)) r.leadTransferee = NONE;
  // A smaller voter set may already have a majority for a higher index.
  if (maybeCommit(r)) afterCommit(r);
}

export function tickHeartbeat(r: Raft): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  for (const pr of r.prs.values()) {
    if (pr.state !== ProgressState.Snapshot) continue;
    // No SnapStatus arrived in time (chunk lost, follower crashed): give up and probe again.
    if (++pr.snapshotTicks >= 2 * r.electionTimeout) {
      pr.pendingSnapshot = 0;
      pr.becomeProbe();
    }
  }
  if (r.electionElapsed >= r.electionTimeout) {
    r.electionElapsed = 0;
    if (r.checkQuorum && !quorumActive(r)) {
      // §6.2 check-quorum: a leader that cannot hear a majority steps down.
      r.becomeFollower(r.term, NONE);
      return;
    }
    if (r.leadTransferee !== NONE) r.leadTransferee = NONE; // transfer timed out
  }
  if (r.heartbeatElapsed >= r.heartbeatTimeout) {
    r.heartbeatElapsed = 0;
    bcastHeartbeat(r, r.readOnly.lastPendingRequestContext());
  }
}

function quorumActive(r: Raft): boolean {
  const active = new Map<NodeId, boolean>();
  for (const [id, pr] of r.prs) {
    if (id === r.id) active.set(id, true);
    else if (!pr.isLearner) active.set(id, pr.recentActive);
    if (id !== r.id) pr.recentActive = false;
  }
  return voteResult(r.conf().voters, active) === VoteResult.Won;
}

/** `local`: the message is a request made on this node (may throw), not one from the network. */
export function stepLeader(r: Raft, m: Message, local: boolean): void {
  switch (m.type) {
    case MessageType.Prop:
      propose(r, m, local);
      return;
    case MessageType.ReadIndex:
      readIndex(r, m);
      return;
    case MessageType.TransferLeader:
      transferLeader(r, m.from);
      return;
    default:
  }
  const pr = r.prs.get(m.from);
  if (pr === undefined) return;
  switch (m.type) {
    case MessageType.AppResp:
      handleAppendResponse(r, m, pr);
      return;
    case MessageType.HeartbeatResp:
      handleHeartbeatResponse(r, m, pr);
      return;
    case MessageType.SnapStatus:
      if (pr.state !== ProgressState.Snapshot) return;
      if (m.reject) pr.pendingSnapshot = 0;
      pr.becomeProbe();
      pr.probeSent = true; // wait for the next heartbeat response before probing
      return;
    default:
  }
}

function propose(r: Raft, m: Message, local: boolean): void {
  invariant(m.entries.length > 0, 'empty proposal');
  const drop = (reason: string): void => {
    if (local) throw new ProposalDroppedError(reason);
  };
  if (!r.promotable()) return drop('leader is being removed from the group');
  if (r.leadTransferee !== NONE) return drop('leadership transfer in progress');
  let confChanges = 0;
  for (const e of m.entries) {
    if (e.type !== EntryType.ConfChange) continue;
    if (++confChanges > 1) return drop('one conf change per proposal');
    if (r.confLog.latestIndex() > r.log.committed) return drop('a conf change is pending');
    // Ongaro's fix: only after an entry of this term is committed may a new change be appended.
    if (r.log.term(r.log.committed) !== r.term) return drop('leader has not committed an entry in its term');
    if (local) applyConfChange(r.conf(), decodeConfChange(e.data)); // throws ConfChangeInvalidError
    else {
      try {
        applyConfChange(r.conf(), decodeConfChange(e.data));
      } catch {
        return undefined;
      }
    }
  }
  appendEntries(r, m.entries);
  if (r.state === StateType.Leader) bcastAppend(r);
  return undefined;
}

export function maybeCommit(r: Raft): boolean {
  const mci = committedIndex(r.conf().voters, (id) => r.prs.get(id)?.match ?? 0);
  return r.log.maybeCommit(mci, r.term);
}

/** After the commit index advanced: tell followers, serve waiting reads, maybe step down. */
export function afterCommit(r: Raft): void {
  releasePendingReadIndex(r);
  bcastAppend(r);
  // Members removed by a now-committed change stop being replicated to (after this broadcast,
  // which tells them the removal committed).
  const removedPending = r.prs.size > r.conf().voters.length + r.conf().learners.length;
  if (removedPending && r.confLog.latestIndex() <= r.log.committed) r.resetProgress(true);
  // A leader that removed itself leads until the removal commits, then steps down (§4.2.2).
  if (!r.promotable() && r.log.committed >= r.confLog.latestIndex()) r.becomeFollower(r.term, NONE);
}

function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    if (m.rejectHint < pr.match) {
      // The follower's log ends below what it acknowledged: it lost its disk and came back with
      // the same id (an owner wiped and restarted). Entries it had never truncate, so this is
      // the only way a hint falls below match. Replicate to it from scratch (a snapshot once the
      // log is compacted); commit never moves back, and the follower itself stays out of
      // elections until it has caught up (node/adapter.ts, rejoining).
      pr.match = 0;
      pr.becomeProbe();
      sendAppend(r, m.from);
      return;
    }
    // Fast back-off: skip every entry of the conflicting term in one round trip.
    let hint = m.rejectHint;
    if (m.logTerm > 0) hint = r.log.findConflictByTerm(m.rejectHint, m.logTerm)[0];
    if (pr.maybeDecrTo(m.index, hint)) {
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      sendAppend(r, m.from);
    }
    return;
  }
  const oldPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index)) return;
  if (pr.state === ProgressState.Probe) pr.becomeReplicate();
  else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= r.log.firstIndex()) {
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Replicate) pr.inflights.freeLE(m.index);
  if (maybeCommit(r)) {
    afterCommit(r);
    if (r.state !== StateType.Leader) return;
  } else if (oldPaused) sendAppend(r, m.from);
  // Pipelining: keep sending batches while the inflight window has room.
  while (maybeSendAppend(r, m.from, false)) {
    /* loop */
  }
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) {
    r.send({ type: MessageType.TimeoutNow, to: m.from });
  }
}

function handleHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.probeSent = false;
  // A lost append can leave the window full forever; free one slot so replication resumes.
  if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.log.lastIndex()) sendAppend(r, m.from);
  if (m.context === undefined || m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined) return;
  const votes = new Map<NodeId, boolean>();
  for (const id of acks) votes.set(id, true);
  if (voteResult(r.conf().voters, votes) !== VoteResult.Won) return;
  for (const rs of r.readOnly.advance(m.context)) respondRead(r, rs.req, rs.index);
}

export function sendAppend(r: Raft, to: NodeId): void {
  maybeSendAppend(r, to, true);
}

/** Sends the next batch to `to` if its progress allows; returns whether a message went out. */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.prs.get(to);
  if (pr === undefined || to === r.id || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.log.term(prevIndex);
  let ents: Entry[] | undefined;
  if (prevTerm !== undefined) {
    try {
      ents = r.log.entriesFrom(pr.next, r.maxMsgSizeBytes);
    } catch (err) {
      if (!(err instanceof CompactedError)) throw err;
    }
  }
  if (prevTerm === undefined || ents === undefined) {
    invariant(prevIndex <= r.log.lastIndex(), `progress of ${to} beyond the leader's log`);
    return sendSnapshot(r, to, pr);
  }
  if (ents.length === 0 && !sendIfEmpty) return false;
  r.send({ type: MessageType.App, to, index: prevIndex, logTerm: prevTerm, entries: ents, commit: r.log.committed });
  pr.sentEntries(ents.length > 0 ? ents[ents.length - 1]!.index : undefined);
  return true;
}

/** InstallSnapshot, chunked: every chunk carries the metadata, its byte offset and a done flag. */
function sendSnapshot(r: Raft, to: NodeId, pr: Progress): boolean {
  if (!pr.recentActive) return false;
  const snap = r.log.snapshot();
  if (snap.meta.index === 0) return false;
  const size = r.maxSnapshotChunkBytes;
  const total = snap.data.length;
  for (let off = 0; ; off += size) {
    const done = off + size >= total;
    const data = snap.data.subarray(off, Math.min(total, off + size));
    r.send({ type: MessageType.Snap, to, snapshot: { meta: snap.meta, data }, snapOffset: off, snapDone: done });
    if (done) break;
  }
  pr.becomeSnapshot(snap.meta.index);
  return true;
}

export function bcastAppend(r: Raft): void {
  for (const id of r.prs.keys()) if (id !== r.id) sendAppend(r, id);
}

function bcastHeartbeat(r: Raft, ctx: Uint8Array | undefined): void {
  for (const [id, pr] of r.prs) {
    if (id === r.id) continue;
    // Never tell a follower to commit beyond what it is known to hold.
    const commit = Math.min(pr.match, r.log.committed);
    r.send({ type: MessageType.Heartbeat, to: id, commit, context: ctx });
  }
}

function readIndex(r: Raft, m: Message): void {
  // §6.4 step 1: the commit index is only known once an entry of this term is committed.
  if (r.log.term(r.log.committed) !== r.term) {
    r.pendingReadIndex.push(m);
    return;
  }
  sendReadIndexResponse(r, m);
}

function sendReadIndexResponse(r: Raft, m: Message): void {
  const voters = r.conf().voters;
  if (voters.length === 1 && voters[0] === r.id) {
    respondRead(r, m, r.log.committed);
    return;
  }
  r.readOnly.addRequest(r.log.committed, m);
  r.readOnly.recvAck(r.id, m.context);
  bcastHeartbeat(r, m.context);
}

function releasePendingReadIndex(r: Raft): void {
  if (r.pendingReadIndex.length === 0 || r.log.term(r.log.committed) !== r.term) return;
  const pending = r.pendingReadIndex;
  r.pendingReadIndex = [];
  for (const m of pending) sendReadIndexResponse(r, m);
}

function respondRead(r: Raft, req: Message, index: number): void {
  if (req.from === r.id) r.readStates.push({ index, requestCtx: req.context ?? EMPTY_BYTES });
  else r.send({ type: MessageType.ReadIndexResp, to: req.from, index, context: req.context });
}

/** §3.10: bring the target up to date, then tell it to campaign at once (TimeoutNow). */
function transferLeader(r: Raft, target: NodeId): void {
  const pr = r.prs.get(target);
  if (pr === undefined || pr.isLearner || target === r.id) return;
  if (r.leadTransferee === target) return;
  r.leadTransferee = NONE;
  r.electionElapsed = 0; // the transfer must complete within one election timeout
  r.leadTransferee = target;
  if (pr.match === r.log.lastIndex()) r.send({ type: MessageType.TimeoutNow, to: target });
  else sendAppend(r, target);
}
