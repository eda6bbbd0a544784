// The follower's and candidates' half of the state machine: accepting appends (§5.3) with a
// conflict hint, heartbeats, chunked InstallSnapshot, and counting votes.
import { ProposalDroppedError } from './errors.js';
import type { RaftState as Raft } from './raft_state.js';
import { StateType } from './raft_state.js';
import { bcastAppend } from './raft_leader.js';
import { VoteResult } from './quorum.js';
import type { Message, Snapshot } from './types.js';
import { MessageType, NONE } from './types.js';
import { EMPTY_BYTES } from './util.js';

/** Refuses a request that needs a leader: local requests throw, forwarded ones are dropped. */
function dropRequest(local: boolean, reason: string): void {
  if (local) throw new ProposalDroppedError(reason);
}

/** `local`: the message is a request made on this node (may throw), not one from the network. */
export function stepFollower(r: Raft, m: Message, local: boolean): void {
  switch (m.type) {
    case MessageType.Prop:
      if (r.lead === NONE) return dropRequest(local, 'no leader');
      r.send({ type: MessageType.Prop, to: r.lead, from: m.from, entries: m.entries });
      return;
    case MessageType.ReadIndex:
      if (r.lead === NONE) return dropRequest(local, 'no leader');
      r.send({ type: MessageType.ReadIndex, to: r.lead, from: m.from, context: m.context });
      return;
    case MessageType.TransferLeader:
      if (r.lead !== NONE) r.send({ type: MessageType.TransferLeader, to: r.lead, from: m.from });
      return;
    case MessageType.App:
    case MessageType.Heartbeat:
    case MessageType.Snap:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleFromLeader(r, m);
      return;
    case MessageType.TimeoutNow:
      r.hup(true); // skips pre-vote and lease checks: the leader asked for it
      return;
    case MessageType.ReadIndexResp:
      r.readStates.push({ index: m.index, requestCtx: m.context ?? EMPTY_BYTES });
      return;
    default:
  }
}

export function stepCandidate(r: Raft, m: Message, local: boolean): void {
  const myResp = r.state === StateType.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
  switch (m.type) {
    case MessageType.Prop:
    case MessageType.ReadIndex:
      return dropRequest(local, 'no leader');
    case MessageType.App:
    case MessageType.Heartbeat:
    case MessageType.Snap:
      // §5.2: a candidate that hears from a leader of its term (or newer) returns to follower.
      r.becomeFollower(m.term, m.from);
      handleFromLeader(r, m);
      return;
    default:
  }
  if (m.type !== myResp) return;
  const res = r.poll(m.from, m.type, !m.reject);
  if (res === VoteResult.Won) {
    if (r.state === StateType.PreCandidate) r.campaign('election');
    else {
      r.becomeLeader();
      bcastAppend(r);
    }
  } else if (res === VoteResult.Lost) {
    r.becomeFollower(r.term, NONE);
  }
}

function handleFromLeader(r: Raft, m: Message): void {
  if (m.type === MessageType.App) handleAppendEntries(r, m);
  else if (m.type === MessageType.Heartbeat) {
    r.log.commitTo(m.commit);
    r.send({ type: MessageType.HeartbeatResp, to: m.from, context: m.context });
  } else handleSnapshot(r, m);
}

/**
 * §5.3 AppendEntries. The response (an ack of lastNewIndex, or a rejection) leaves in the same
 * Ready as the entries, so it is sent only after they are durable.
 */
function handleAppendEntries(r: Raft, m: Message): void {
  if (m.index < r.log.committed) {
    r.send({ type: MessageType.AppResp, to: m.from, index: r.log.committed });
    return;
  }
  const res = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (res !== undefined) {
    if (res.conflictIndex !== 0) {
      const before = r.conf();
      // Apply-on-append: truncated conf changes stop counting, appended ones count at once.
      r.confLog.truncateFrom(res.conflictIndex);
      r.confLog.appendEntries(m.entries.slice(res.conflictIndex - (m.index + 1)));
      if (r.conf() !== before) r.resetProgress(true);
    }
    r.send({ type: MessageType.AppResp, to: m.from, index: res.lastNewIndex });
    return;
  }
  // Hint: the last index whose term is ≤ the leader's prevLogTerm, so the leader can skip the
  // whole conflicting term rather than probing one index per round trip.
  const hintIndex = Math.min(m.index, r.log.lastIndex());
  const [hint, hintTerm] = r.log.findConflictByTerm(hintIndex, m.logTerm);
  r.send({ type: MessageType.AppResp, to: m.from, index: m.index, reject: true, rejectHint: hint, logTerm: hintTerm });
}

/** Reassembles a chunked snapshot; chunks must arrive in order (else the leader retries). */
function handleSnapshot(r: Raft, m: Message): void {
  const s = m.snapshot;
  if (s === undefined) return;
  const offset = m.snapOffset ?? 0;
  let rec = r.snapRecv;
  if (offset === 0) {
    rec = { index: s.meta.index, term: s.meta.term, bytes: 0, chunks: [] };
    r.snapRecv = rec;
  } else if (rec === undefined || rec.index !== s.meta.index || rec.term !== s.meta.term || rec.bytes !== offset) {
    return;
  }
  rec.chunks.push(s.data);
  rec.bytes += s.data.length;
  if (m.snapDone === false) return;
  r.snapRecv = undefined;
  const data = new Uint8Array(rec.bytes);
  let at = 0;
  for (const c of rec.chunks) {
    data.set(c, at);
    at += c.length;
  }
  if (restore(r, { meta: s.meta, data })) {
    r.send({ type: MessageType.AppResp, to: m.from, index: r.log.lastIndex() });
  } else {
    r.send({ type: MessageType.AppResp, to: m.from, index: r.log.committed });
  }
}

/** Installs a snapshot into the (unstable) log; false if it brings nothing new. */
export function restore(r: Raft, s: Snapshot): boolean {
  if (s.meta.index <= r.log.committed) return false;
  if (r.state !== StateType.Follower) {
    r.becomeFollower(r.term + 1, NONE);
    return false;
  }
  if (r.log.matchTerm(s.meta.index, s.meta.term)) {
    // We already hold the snapshot's last entry: just fast-forward the commit index.
    r.log.commitTo(s.meta.index);
    return false;
  }
  r.log.restore(s);
  r.confLog.reset(s.meta.index, s.meta.confState);
  r.resetProgress(true);
  return true;
}
