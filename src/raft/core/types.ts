// The vocabulary shared by the pure Raft core, its storage and its transport (etcd's raftpb).
// Plain data only: everything here is serialisable and carries no behaviour, so the core,
// the LevelDB store, the gRPC transport and the simulator can all exchange it.
//
// Node ids are positive integers; 0 means "none" (no vote, no leader). Indexes and terms are
// JS numbers (safe up to 2^53, far beyond any log we will write).

export type NodeId = number;
export const NONE: NodeId = 0;

export const EntryType = {
  /** An application command (or an empty entry appended by a new leader when data is empty). */
  Normal: 0,
  /** A membership change; data is an encoded ConfChange (see confchange.ts in the core). */
  ConfChange: 1,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be durable before any message that depends on it is sent (Raft §5.1, Figure 2). */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };

/** The membership of a group. `votersOutgoing` is non-empty only inside a joint configuration. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly votersOutgoing: readonly NodeId[];
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The application's state at meta.index; opaque to Raft. */
  readonly data: Uint8Array;
}

export const MessageType = {
  /** Local only: start an election (tick or campaign()). Never sent on the wire. */
  Hup: 0,
  PreVote: 1,
  PreVoteResp: 2,
  Vote: 3,
  VoteResp: 4,
  App: 5,
  AppResp: 6,
  Heartbeat: 7,
  HeartbeatResp: 8,
  /** One chunk of a snapshot; see Message.snapshot and the chunk fields. */
  Snap: 9,
  SnapStatus: 10,
  TimeoutNow: 11,
  ReadIndex: 12,
  ReadIndexResp: 13,
  /** A follower forwarding a client proposal to the leader. */
  Prop: 14,
  TransferLeader: 15,
  /**
   * Driver-level, never stepped into the core (which ignores it): a follower's driver acknowledges
   * the snapshot chunks it wrote (context = the stream's id, snapOffset = bytes written so far,
   * reject = the install was dropped), pacing the leader's driver that streams them.
   */
  SnapAck: 16,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** For App: term of the entry at `index` (prevLogTerm). For votes: candidate's last log term. */
  readonly logTerm: number;
  /** For App: prevLogIndex. For votes: candidate's last log index. For AppResp: the index acked or rejected. */
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  /** On a rejected AppResp: a hint (the follower's last index or conflict index) for fast back-off. */
  readonly rejectHint: number;
  /** For Snap: the snapshot being installed (possibly one chunk of its data; see snapChunk). */
  readonly snapshot?: Snapshot;
  /** For chunked snapshots: byte offset of this chunk and whether it is the last. */
  readonly snapOffset?: number;
  readonly snapDone?: boolean;
  /** Opaque request context (ReadIndex request ids, campaign-transfer marker). */
  readonly context?: Uint8Array;
}
