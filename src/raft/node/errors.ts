// Errors of the Raft driver, visible to proposers. Not-leader and dropped proposals reuse the
// core's classes (src/raft/core/errors.ts: `raft: not leader`, code RAFT_NOT_LEADER, leaderHint)
// so callers switch on one set of codes.
import { RaftError } from '../core/errors.js';

export { NotLeaderError, ProposalDroppedError } from '../core/errors.js';

/** No commit within the timeout: the outcome is unknown (the entry may still commit). */
export class ProposalTimeoutError extends RaftError {
  override readonly name = 'ProposalTimeoutError';
  constructor(readonly group: number, readonly index: number) {
    super('RAFT_PROPOSAL_TIMEOUT', `raft: proposal timed out (group ${group}, index ${index}); outcome unknown`);
  }
}

export class GroupUnknownError extends RaftError {
  override readonly name = 'GroupUnknownError';
  constructor(readonly group: number) {
    super('RAFT_GROUP_UNKNOWN', `raft: group ${group} is not hosted here`);
  }
}

/** A compaction request the driver refused (index not applied yet, or not newer than the snapshot). */
export class CompactionRefusedError extends RaftError {
  override readonly name = 'CompactionRefusedError';
  constructor(readonly group: number, readonly index: number, reason: string) {
    super('RAFT_COMPACTION_REFUSED', `raft: compaction at ${index} refused (group ${group}): ${reason}`);
  }
}
