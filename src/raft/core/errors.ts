// Errors the Raft core throws, each a class with a stable `code` (callers switch on the code,
// people grep for the message). A broken invariant is not one of these: it is an AssertionError
// from `invariant()`, a programmer error after which the node must not limp on.

export class RaftError extends Error {
  override readonly name: string = 'RaftError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A request that only the leader can serve reached a follower or candidate. */
export class NotLeaderError extends RaftError {
  override readonly name = 'NotLeaderError';
  constructor(readonly leaderHint: number) {
    super('RAFT_NOT_LEADER', 'raft: not leader');
  }
}

/** A proposal was refused (no leader known, transfer in progress, conf change pending, removed). */
export class ProposalDroppedError extends RaftError {
  override readonly name = 'ProposalDroppedError';
  constructor(readonly reason: string) {
    super('RAFT_PROPOSAL_DROPPED', `raft: proposal dropped: ${reason}`);
  }
}

/** A membership change that is not valid against the current configuration. */
export class ConfChangeInvalidError extends RaftError {
  override readonly name = 'ConfChangeInvalidError';
  constructor(reason: string) {
    super('RAFT_CONF_CHANGE_INVALID', `raft: invalid conf change: ${reason}`);
  }
}

/** The requested index lies before the first entry still in the log (it is in the snapshot). */
export class CompactedError extends RaftError {
  override readonly name = 'CompactedError';
  constructor() {
    super('RAFT_COMPACTED', 'raft: requested index is unavailable due to compaction');
  }
}

/** The requested index lies beyond the last entry of the log. */
export class UnavailableError extends RaftError {
  override readonly name = 'UnavailableError';
  constructor() {
    super('RAFT_UNAVAILABLE', 'raft: requested entry at index is unavailable');
  }
}

/** A snapshot older than (or equal to) the one the storage already holds. */
export class SnapshotOutOfDateError extends RaftError {
  override readonly name = 'SnapshotOutOfDateError';
  constructor() {
    super('RAFT_SNAP_OUT_OF_DATE', 'raft: requested index is older than the existing snapshot');
  }
}

/** A local-only message (Hup) arrived through step() from the network. */
export class StepLocalMessageError extends RaftError {
  override readonly name = 'StepLocalMessageError';
  constructor() {
    super('RAFT_STEP_LOCAL_MSG', 'raft: cannot step raft local message');
  }
}

export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/** Asserts a Raft invariant; a failure is a bug, never an operational condition. */
export function invariant(cond: unknown, message: string): asserts cond {
  if (!cond) throw new InvariantError(`raft invariant violated: ${message}`);
}
