// The state every role shares (term, vote, log, membership, progress) and the role transitions.
// The role behaviour lives in raft.ts (dispatch), raft_follower.ts and raft_leader.ts; they see
// the node through this class, so the modules form no import cycle.
import { ConfLog } from './confchange.js';
import { invariant } from './errors.js';
import { RaftLog } from './log.js';
import { Progress } from './progress.js';
import { voteResult } from './quorum.js';
import type { VoteResult } from './quorum.js';
import { ReadOnly } from './read_only.js';
import type { Storage } from './storage.js';
import type { ConfState, HardState, Message, NodeId } from './types.js';
import { MessageType, NONE } from './types.js';

export const StateType = { Follower: 0, Candidate: 1, Leader: 2, PreCandidate: 3 } as const;
export type StateType = (typeof StateType)[keyof typeof StateType];

export interface Config {
  readonly id: NodeId;
  readonly storage: Storage;
  /** Ticks without hearing from a leader before campaigning (randomized in [n, 2n)). */
  readonly electionTicks: number;
  /** Ticks between leader heartbeats; must be < electionTicks. */
  readonly heartbeatTicks: number;
  /** Uniform [0, 1) source for election jitter; inject a seeded PRNG (rand.ts) for determinism. */
  readonly rand: () => number;
  /** The index the application has already applied (on restart). Default: the snapshot index. */
  readonly applied?: number;
  /** Upper bound on the bytes of entries in one append message (batching). */
  readonly maxSizePerMsgBytes?: number;
  /** Append messages in flight per follower before the leader pauses (pipelining window). */
  readonly maxInflightMsgs?: number;
  /** Upper bound on committed entries handed out in one Ready. */
  readonly maxCommittedSizePerReadyBytes?: number;
  /** Snapshot data is sent in chunks of this many bytes. */
  readonly maxSnapshotChunkBytes?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
}

export interface ReadState {
  readonly index: number;
  readonly requestCtx: Uint8Array;
}

/** Partial message as built by the core; send() fills from, term (where implied) and defaults. */
export interface MsgInit {
  readonly type: MessageType;
  readonly to: NodeId;
  readonly from?: NodeId;
  readonly term?: number;
  readonly logTerm?: number;
  readonly index?: number;
  readonly entries?: Message['entries'];
  readonly commit?: number;
  readonly reject?: boolean;
  readonly rejectHint?: number;
  readonly snapshot?: Message['snapshot'];
  readonly snapOffset?: number;
  readonly snapDone?: boolean;
  readonly context?: Uint8Array | undefined;
}

/** Marks a Vote sent because of TimeoutNow: voters must not ignore it on lease grounds. */
export const CAMPAIGN_TRANSFER: Uint8Array = new TextEncoder().encode('CampaignTransfer');

export interface SnapshotReceive {
  index: number;
  term: number;
  bytes: number;
  chunks: Uint8Array[];
}

export abstract class RaftState {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  state: StateType = StateType.Follower;
  readonly log: RaftLog;
  readonly confLog: ConfLog;
  prs = new Map<NodeId, Progress>();
  votes = new Map<NodeId, boolean>();
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  readOnly = new ReadOnly();
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  pendingReadIndex: Message[] = [];
  leadTransferee: NodeId = NONE;
  snapRecv: SnapshotReceive | undefined = undefined;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;

  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  readonly maxMsgSizeBytes: number;
  readonly maxInflight: number;
  readonly maxSnapshotChunkBytes: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  protected readonly rand: () => number;

  constructor(c: Config) {
    invariant(c.id !== NONE, 'node id must be non-zero');
    invariant(c.heartbeatTicks > 0 && c.electionTicks > c.heartbeatTicks, 'electionTicks must exceed heartbeatTicks');
    this.id = c.id;
    this.electionTimeout = c.electionTicks;
    this.heartbeatTimeout = c.heartbeatTicks;
    this.rand = c.rand;
    this.maxMsgSizeBytes = c.maxSizePerMsgBytes ?? 1024 * 1024;
    this.maxInflight = c.maxInflightMsgs ?? 256;
    this.maxSnapshotChunkBytes = c.maxSnapshotChunkBytes ?? 512 * 1024;
    this.preVote = c.preVote ?? true;
    this.checkQuorum = c.checkQuorum ?? true;
    this.log = new RaftLog(c.storage, c.maxCommittedSizePerReadyBytes ?? 16 * 1024 * 1024);
    const init = c.storage.initialState();
    // Apply-on-append: the membership is the snapshot's, changed by every conf-change entry
    // after the snapshot anywhere in the stable log (committed or not).
    const snapIndex = c.storage.snapshot().meta.index;
    this.confLog = new ConfLog(snapIndex, init.confState);
    const first = snapIndex + 1;
    const last = c.storage.lastIndex();
    if (last >= first) this.confLog.appendEntries(c.storage.entries(first, last + 1, Infinity));
    const hs = init.hardState;
    if (hs.term !== 0 || hs.vote !== NONE || hs.commit !== 0) this.loadState(hs);
    if (c.applied !== undefined && c.applied > 0) this.log.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);
  }

  protected loadState(hs: HardState): void {
    invariant(
      hs.commit >= this.log.committed && hs.commit <= this.log.lastIndex(),
      `hard state commit ${hs.commit} outside [${this.log.committed}, ${this.log.lastIndex()}]`,
    );
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  conf(): ConfState {
    return this.confLog.latest();
  }

  /** A voter in its own latest configuration: the only kind of node that may campaign. */
  promotable(): boolean {
    return this.conf().voters.includes(this.id);
  }

  send(m: MsgInit): void {
    const t = m.type;
    const isVote = t === MessageType.Vote || t === MessageType.PreVote;
    const isVoteResp = t === MessageType.VoteResp || t === MessageType.PreVoteResp;
    const isForward = t === MessageType.Prop || t === MessageType.ReadIndex || t === MessageType.TransferLeader;
    let term = m.term;
    if (isVote || isVoteResp) invariant(term !== undefined && term > 0, 'vote messages carry an explicit term');
    else term = isForward ? 0 : this.term;
    const msg: Message = {
      type: t,
      from: m.from ?? this.id,
      to: m.to,
      term: term ?? 0,
      logTerm: m.logTerm ?? 0,
      index: m.index ?? 0,
      entries: m.entries ?? [],
      commit: m.commit ?? 0,
      reject: m.reject ?? false,
      rejectHint: m.rejectHint ?? 0,
      ...(m.snapshot !== undefined ? { snapshot: m.snapshot } : {}),
      ...(m.snapOffset !== undefined ? { snapOffset: m.snapOffset } : {}),
      ...(m.snapDone !== undefined ? { snapDone: m.snapDone } : {}),
      ...(m.context !== undefined ? { context: m.context } : {}),
    };
    this.msgs.push(msg);
  }

  // ---- role transitions -------------------------------------------------------------------

  protected reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.rand() * this.electionTimeout);
    this.leadTransferee = NONE;
    this.votes.clear();
    this.readOnly = new ReadOnly();
    this.pendingReadIndex = [];
    this.snapRecv = undefined;
    this.resetProgress();
  }

  /** Rebuilds the progress map from the latest configuration; known followers keep theirs. */
  resetProgress(keep = false): void {
    const cs = this.conf();
    const next = new Map<NodeId, Progress>();
    const last = this.log.lastIndex();
    const add = (id: NodeId, isLearner: boolean): void => {
      const old = keep ? this.prs.get(id) : undefined;
      const pr = old ?? new Progress(last + 1, this.maxInflight, isLearner);
      pr.isLearner = isLearner;
      if (old === undefined && id === this.id) pr.match = this.log.stableLastIndex();
      next.set(id, pr);
    };
    for (const id of cs.voters) add(id, false);
    for (const id of cs.learners) add(id, true);
    // A member being removed keeps receiving the log until its removal commits, so it normally
    // learns that it is out (and stops campaigning). It counts in no quorum meanwhile.
    if (this.confLog.latestIndex() > this.log.committed) {
      const prev = this.confLog.at(this.log.committed);
      for (const id of [...prev.voters, ...prev.learners]) if (!next.has(id)) add(id, true);
    }
    this.prs = next;
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
  }

  becomePreCandidate(): void {
    invariant(this.state !== StateType.Leader, 'leader cannot become pre-candidate');
    // Pre-vote changes neither term nor vote: a partitioned node cannot inflate terms (§9.6).
    this.votes.clear();
    this.lead = NONE;
    this.state = StateType.PreCandidate;
  }

  becomeCandidate(): void {
    invariant(this.state !== StateType.Leader, 'leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.Candidate;
  }

  poll(id: NodeId, _type: MessageType, granted: boolean): VoteResult {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    return voteResult(this.conf().voters, this.votes);
  }

  abstract hup(transfer: boolean): void;
  abstract campaign(kind: 'pre' | 'election' | 'transfer'): void;
  abstract becomeLeader(): void;
}
