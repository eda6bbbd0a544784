// Membership changes: one server at a time (Raft thesis §4.1), effective on APPEND.
//
// Rules (enforced by the leader in raft_leader.ts, relied on here):
//  1. Every node uses the latest configuration in its log, committed or not (apply-on-append).
//     If a suffix holding a conf change is truncated, the node falls back to the earlier one.
//  2. A change adds or removes exactly one voter (or adds / promotes / removes a learner, which
//     never changes any quorum), so any majority of C_old intersects any majority of C_new.
//  3. A leader appends a conf change only when the previous one is committed, and only after
//     it has committed an entry of its own term (Ongaro's fix to the single-server bug).
// See docs/raft.md for the safety argument.
import { ConfChangeInvalidError } from './errors.js';
import type { ConfState, Entry, NodeId } from './types.js';
import { EntryType } from './types.js';

export const ConfChangeType = {
  /** Adds a voter, or promotes an existing learner to voter. */
  AddNode: 0,
  /** Adds a non-voting learner (it must not already be a member). */
  AddLearner: 1,
  /** Removes a voter or a learner. */
  RemoveNode: 2,
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

/** Entry payload: 1 byte type + node id as a big-endian float64 (ids are small integers). */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = cc.type;
  new DataView(out.buffer).setFloat64(1, cc.nodeId);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.length !== 9 || data[0]! > 2) throw new ConfChangeInvalidError('malformed conf change entry');
  const nodeId = new DataView(data.buffer, data.byteOffset, data.byteLength).getFloat64(1);
  return { type: data[0] as ConfChangeType, nodeId };
}

/** The configuration after `cc`; throws ConfChangeInvalidError if it is not a valid single change. */
export function applyConfChange(cs: ConfState, cc: ConfChange): ConfState {
  const id = cc.nodeId;
  if (!Number.isInteger(id) || id <= 0) throw new ConfChangeInvalidError(`bad node id ${id}`);
  const isVoter = cs.voters.includes(id);
  const isLearner = cs.learners.includes(id);
  switch (cc.type) {
    case ConfChangeType.AddNode:
      if (isVoter) throw new ConfChangeInvalidError(`${id} is already a voter`);
      return conf([...cs.voters, id], cs.learners.filter((x) => x !== id));
    case ConfChangeType.AddLearner:
      if (isVoter) throw new ConfChangeInvalidError(`${id} is a voter; demotion is not supported`);
      if (isLearner) throw new ConfChangeInvalidError(`${id} is already a learner`);
      return conf(cs.voters, [...cs.learners, id]);
    case ConfChangeType.RemoveNode:
      if (!isVoter && !isLearner) throw new ConfChangeInvalidError(`${id} is not a member`);
      if (isVoter && cs.voters.length === 1) throw new ConfChangeInvalidError('cannot remove the last voter');
      return conf(cs.voters.filter((x) => x !== id), cs.learners.filter((x) => x !== id));
    default:
      throw new ConfChangeInvalidError(`unknown type ${String(cc.type)}`);
  }
}

function conf(voters: readonly NodeId[], learners: readonly NodeId[]): ConfState {
  return { voters: [...voters].sort((a, b) => a - b), learners: [...learners].sort((a, b) => a - b), votersOutgoing: [] };
}

/**
 * The configuration history of the log above the last snapshot: the base (the snapshot's
 * membership) plus one item per conf-change entry. latest() is the configuration in force.
 * An entry whose change is invalid against its predecessor is a no-op on every node alike.
 */
export class ConfLog {
  private items: { index: number; conf: ConfState }[] = [];

  constructor(baseIndex: number, base: ConfState) {
    this.reset(baseIndex, base);
  }

  reset(baseIndex: number, base: ConfState): void {
    this.items = [{ index: baseIndex, conf: base }];
  }

  latest(): ConfState {
    return this.items[this.items.length - 1]!.conf;
  }

  /** Index of the entry that produced latest() (the snapshot index for the base). */
  latestIndex(): number {
    return this.items[this.items.length - 1]!.index;
  }

  /** The configuration in force at log index i (the latest change at or before i). */
  at(i: number): ConfState {
    for (let k = this.items.length - 1; k > 0; k--) if (this.items[k]!.index <= i) return this.items[k]!.conf;
    return this.items[0]!.conf;
  }

  /** Forgets changes at indexes ≥ i (their entries were truncated by a new leader). */
  truncateFrom(i: number): void {
    while (this.items.length > 1 && this.items[this.items.length - 1]!.index >= i) this.items.pop();
  }

  /** Records the conf changes among newly appended entries (in index order). */
  appendEntries(ents: readonly Entry[]): void {
    for (const e of ents) {
      if (e.type !== EntryType.ConfChange) continue;
      let next = this.latest();
      try {
        next = applyConfChange(next, decodeConfChange(e.data));
      } catch (err) {
        if (!(err instanceof ConfChangeInvalidError)) throw err;
      }
      this.items.push({ index: e.index, conf: next });
    }
  }
}
