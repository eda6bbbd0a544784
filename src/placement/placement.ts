// Placement: for every partition 1..P its replicas, preferred leader first. A plain, JSON-safe value
// with a fixed key order, so the metadata group can store it (with an epoch it assigns) and every
// node serializes it to the same bytes. Computing it is pure and deterministic; acting on it
// (membership changes, leadership transfers) is the cluster's job.

import { spreadLeaders } from './leaders.js';
import { buildRing, compareIds, replicasOf, type OwnerId } from './ring.js';

/** Named limit on the partition count (DESIGN.md §2: P is fixed at bootstrap, default 16). */
export const MAX_PARTITIONS = 65536;

export interface PartitionReplicas {
  readonly partition: number;
  /** Distinct owners; [0] is the preferred leader, the rest in ring order. */
  readonly replicas: readonly OwnerId[];
}

export interface Placement {
  /** Sorted, distinct. */
  readonly owners: readonly OwnerId[];
  readonly vnodes: number;
  /** The requested replication factor; a partition has min(replicationFactor, owners) replicas. */
  readonly replicationFactor: number;
  /** partitions[i].partition === i + 1. */
  readonly partitions: readonly PartitionReplicas[];
}

export interface PlacementOptions {
  /**
   * The placement in force. A partition whose preferred leader is still one of its replicas keeps
   * it unless evening out the leaders needs it to move, so a membership change transfers few
   * leaderships. Without it, the result depends on (owners, partitions, r, vnodes) alone.
   */
  readonly previous?: Placement;
}

export function placement(owners: readonly OwnerId[], partitions: number, r: number, vnodes: number, opts: PlacementOptions = {}): Placement {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) throw new RangeError(`placement: partitions must be an integer in 1..${MAX_PARTITIONS}, got ${partitions}`);
  if (owners.length === 0) throw new RangeError('placement: no owners');
  if (opts.previous !== undefined && opts.previous.partitions.length !== partitions) throw new RangeError(`placement: previous placement has ${opts.previous.partitions.length} partitions, not ${partitions}`);
  const ring = buildRing(owners, vnodes);
  const sets = Array.from({ length: partitions }, (_, i) => replicasOf(ring, i + 1, r));
  const keep = sets.map((_, i) => opts.previous?.partitions[i]?.replicas[0]);
  const leaders = spreadLeaders(ring.owners, sets, keep);
  return {
    owners: [...ring.owners],
    vnodes,
    replicationFactor: r,
    partitions: sets.map((set, i) => {
      const leader = leaders[i] as OwnerId;
      return { partition: i + 1, replicas: [leader, ...set.filter((o) => o !== leader)] };
    }),
  };
}

/** What a rebalancer must do to one partition. */
export interface PartitionMove {
  readonly partition: number;
  /** Owners to add as replicas (learner → catch up → promote), sorted. */
  readonly added: readonly OwnerId[];
  /** Owners to remove, sorted. */
  readonly removed: readonly OwnerId[];
  /** Preferred leaders before and after (equal when only followers move). */
  readonly leaderBefore: OwnerId;
  readonly leaderAfter: OwnerId;
}

export interface PlacementDiff {
  /** Partitions whose replica set or preferred leader changes, in partition order. */
  readonly moves: readonly PartitionMove[];
  /** Replica slots that change hands: Σ added (copies of a partition to make). */
  readonly slotsAdded: number;
  readonly slotsRemoved: number;
  /** Partitions whose preferred leader changes (leadership transfers). */
  readonly leaderChanges: number;
}

/** The moves from `before` to `after`; both must place the same partitions (P is fixed). */
export function diff(before: Placement, after: Placement): PlacementDiff {
  if (before.partitions.length !== after.partitions.length) throw new RangeError(`placement: cannot diff ${before.partitions.length} partitions against ${after.partitions.length}`);
  const moves: PartitionMove[] = [];
  let slotsAdded = 0;
  let slotsRemoved = 0;
  let leaderChanges = 0;
  before.partitions.forEach((b, i) => {
    const a = after.partitions[i] as PartitionReplicas;
    const added = a.replicas.filter((o) => !b.replicas.includes(o)).sort(compareIds);
    const removed = b.replicas.filter((o) => !a.replicas.includes(o)).sort(compareIds);
    const leaderBefore = b.replicas[0] as OwnerId;
    const leaderAfter = a.replicas[0] as OwnerId;
    if (added.length === 0 && removed.length === 0 && leaderBefore === leaderAfter) return;
    moves.push({ partition: b.partition, added, removed, leaderBefore, leaderAfter });
    slotsAdded += added.length;
    slotsRemoved += removed.length;
    if (leaderBefore !== leaderAfter) leaderChanges++;
  });
  return { moves, slotsAdded, slotsRemoved, leaderChanges };
}

/** Replicas and preferred leaderships per owner (every owner listed, zero counts included). */
export function loadByOwner(p: Placement): Map<OwnerId, { replicas: number; leaders: number }> {
  const out = new Map<OwnerId, { replicas: number; leaders: number }>(p.owners.map((o) => [o, { replicas: 0, leaders: 0 }]));
  for (const { replicas } of p.partitions) {
    replicas.forEach((o, i) => {
      const l = out.get(o);
      if (l === undefined) throw new Error(`placement: replica '${o}' is not an owner`);
      l.replicas++;
      if (i === 0) l.leaders++;
    });
  }
  return out;
}
