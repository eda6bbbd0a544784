// The Raft state machine (etcd's raft.go): one step function per role, no I/O, no clock.
// Time arrives as tick(), the network as step(msg), randomness as Config.rand. Everything the
// node wants done (persist, send, apply) accumulates in `msgs` and the log's unstable part and is
// handed out by RawNode.ready().
//
// Roles: raft_follower.ts (follower, pre-candidate, candidate), raft_leader.ts (leader).
import { StepLocalMessageError, invariant } from './errors.js';
import { VoteResult } from './quorum.js';
import * as follower from './raft_follower.js';
import * as leader from './raft_leader.js';
import { CAMPAIGN_TRANSFER, RaftState, StateType } from './raft_state.js';
import type { Message } from './types.js';
import { EntryType, MessageType, NONE } from './types.js';
import { EMPTY_BYTES, bytesEqual } from './util.js';

export { CAMPAIGN_TRANSFER, StateType } from './raft_state.js';
export type { Config, ReadState } from './raft_state.js';

export class Raft extends RaftState {
  override becomeLeader(): void {
    invariant(this.state === StateType.Candidate, 'only a candidate can become leader');
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    this.prs.get(this.id)?.becomeReplicate();
    // §5.4.2 / §8: an empty entry of the new term lets the leader commit (and learn the commit
    // index of) everything before it; until then ReadIndex and conf changes wait.
    leader.appendEntries(this, [{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES }]);
  }

  // ---- elections --------------------------------------------------------------------------

  override hup(transfer: boolean): void {
    if (this.state === StateType.Leader || !this.promotable()) return;
    if (this.preVote && !transfer) this.campaign('pre');
    else this.campaign(transfer ? 'transfer' : 'election');
  }

  override campaign(kind: 'pre' | 'election' | 'transfer'): void {
    let term: number;
    let voteType: MessageType;
    if (kind === 'pre') {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      term = this.term + 1; // the term we would campaign in; our own term is unchanged
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    const respType = kind === 'pre' ? MessageType.PreVoteResp : MessageType.VoteResp;
    if (this.poll(this.id, respType, true) === VoteResult.Won) {
      // A single-voter group wins at once.
      if (kind === 'pre') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    for (const id of this.conf().voters) {
      if (id === this.id) continue;
      this.send({
        type: voteType,
        to: id,
        term,
        index: this.log.lastIndex(),
        logTerm: this.log.lastTerm(),
        context: kind === 'transfer' ? CAMPAIGN_TRANSFER : undefined,
      });
    }
  }

  // ---- ticks ------------------------------------------------------------------------------

  tick(): void {
    if (this.state === StateType.Leader) leader.tickHeartbeat(this);
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  // ---- step -------------------------------------------------------------------------------

  /**
   * Feeds one message to the node. `local` is true only for requests made through RawNode's API
   * on this node (propose, readIndex, ...): those may throw ProposalDroppedError. A message from
   * the network never throws, even when its `from` is this node (a proposal this node forwarded
   * can come back to it through a node that lost leadership): `from` names the originator, not
   * the entry point.
   */
  step(m: Message, local = false): void {
    if (m.term === 0) {
      // Local or forwarded requests (Hup, Prop, ReadIndex, TransferLeader) carry no term.
    } else if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.stepLowerTerm(m);
      return;
    }
    switch (m.type) {
      case MessageType.Hup:
        this.hup(false);
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        this.handleVoteRequest(m);
        return;
      default:
        if (this.state === StateType.Leader) leader.stepLeader(this, m, local);
        else if (this.state === StateType.Follower) follower.stepFollower(this, m, local);
        else follower.stepCandidate(this, m, local);
    }
  }

  /** Returns false when the message is to be ignored. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
      const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
      // §4.2.3: a node that heard from a live leader recently ignores would-be disrupters.
      if (!force && inLease) return false;
    }
    if (m.type === MessageType.PreVote) return true; // never change term for a pre-vote
    if (m.type === MessageType.PreVoteResp && !m.reject) return true; // term bumps on winning
    const fromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
    this.becomeFollower(m.term, fromLeader ? m.from : NONE);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if ((this.checkQuorum || this.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
      // A stale leader (e.g. back from a partition) learns the new term from this response;
      // without it, pre-vote/check-quorum could leave it and us stuck (etcd #5451 / #8501).
      this.send({ type: MessageType.AppResp, to: m.from });
    } else if (m.type === MessageType.PreVote) {
      this.send({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true });
    }
  }

  private handleVoteRequest(m: Message): void {
    const respType = m.type === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp;
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === MessageType.PreVote && m.term > this.term);
    // §5.2 one vote per term; §5.4.1 only for a candidate whose log is at least as up-to-date.
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      this.send({ type: respType, to: m.from, term: m.term });
      if (m.type === MessageType.Vote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, to: m.from, term: this.term, reject: true });
    }
  }

  /** Local requests must not come from the network. */
  static checkNotLocal(m: Message): void {
    if (m.type === MessageType.Hup) throw new StepLocalMessageError();
  }
}
