// The placement record in the metadata state (issue 8, docs/cluster.md "Placement"): which owners
// hold each partition, preferred leader first, with the epoch the metadata group assigned. The
// metadata group is its source of truth; nodes compare their configuration with it and act on it
// (src/cluster/layout.ts). The record is computed outside the machine (src/placement, by whoever
// proposes it) and arrives whole in the command: the machine only checks it and its epoch.
//
// Epochs: the first record is epoch 1, each later one exactly the current epoch + 1. Anything else
// is refused (406, nothing changed), so two proposers racing to bootstrap (a leader change
// between) cannot both win, and a proposer working from an old record is told so.
import { AmqpError, ReplyCode } from '../amqp/errors.js';

export interface PlacementOwner {
  /** The owner's Raft id. */
  readonly id: number;
  /** "host:port" of its gRPC server (Raft, Owner and Meta services). */
  readonly address: string;
}

export interface PlacementRecord {
  readonly epoch: number;
  /** Sorted by id, distinct. */
  readonly owners: readonly PlacementOwner[];
  readonly partitions: number;
  /** As requested; a partition has min(replicationFactor, owners) replicas. */
  readonly replicationFactor: number;
  readonly vnodes: number;
  /** replicas[p - 1]: the owner ids holding partition p, preferred leader first. */
  readonly replicas: readonly (readonly number[])[];
}

/** A record as the machine accepts it in place of `current`; throws AmqpError (406) otherwise. */
export function acceptPlacement(current: PlacementRecord | undefined, next: PlacementRecord): PlacementRecord {
  const expected = (current?.epoch ?? 0) + 1;
  if (next.epoch !== expected) {
    throw new AmqpError(ReplyCode.PreconditionFailed, current === undefined
      ? `placement epoch ${next.epoch} refused: there is no placement yet, the first is epoch 1`
      : `stale placement epoch ${next.epoch}: the current epoch is ${current.epoch}, the next must be ${expected}`);
  }
  const invalid = invalidPlacement(next);
  if (invalid !== undefined) throw new AmqpError(ReplyCode.PreconditionFailed, `invalid placement: ${invalid}`);
  return next;
}

function invalidPlacement(r: PlacementRecord): string | undefined {
  if (r.owners.length === 0) return 'no owners';
  const ids = new Set(r.owners.map((o) => o.id));
  if (ids.size !== r.owners.length) return 'an owner is listed twice';
  if (!Number.isInteger(r.partitions) || r.partitions < 1 || r.replicas.length !== r.partitions) {
    return `${r.replicas.length} replica sets for ${r.partitions} partitions`;
  }
  const bad = r.replicas.findIndex((set) => set.length === 0 || new Set(set).size !== set.length || set.some((id) => !ids.has(id)));
  return bad === -1 ? undefined : `partition ${bad + 1}'s replicas are not distinct owners`;
}
