// The cluster as every node derives it from the same configuration (static membership, issue 8):
// the owners' Raft ids and gRPC addresses, and the placement of partitions 1..P on them — the same
// pure function on every node, so they agree without asking. (Storing the placement and its epoch
// in the metadata group, so membership can change, comes with dynamic membership.)
import type { OwnerAddress } from '../config.js';
import type { QueueRef } from '../owner/api.js';
import { partitionOf } from '../owner/durable.js';
import { placement, type Placement } from '../placement/index.js';

/** Virtual nodes per owner on the ring (docs/placement.md: 64 spreads replicas within ±15%). */
export const VNODES = 64;

export interface ClusterLayout {
  readonly owners: readonly OwnerAddress[];
  readonly partitions: number;
  readonly placement: Placement;
  /** Owner ids holding partition p, preferred leader first. */
  replicas(partition: number): readonly number[];
  addressOf(id: number): string;
}

/**
 * The owner holding a transient queue (partition 0) in memory: the preferred replica of the
 * partition its name hashes to, so load spreads like the partitions' leaders.
 */
export function transientHome(q: QueueRef, partitions: number, replicas: (p: number) => readonly number[], owners: readonly OwnerAddress[]): number {
  return replicas(partitionOf(q, partitions))[0] ?? owners[0]?.id ?? 0;
}

export function clusterLayout(owners: readonly OwnerAddress[], partitions: number, replication: number): ClusterLayout {
  const place = placement(owners.map((o) => String(o.id)), partitions, Math.min(replication, owners.length), VNODES);
  const replicas = place.partitions.map((p) => p.replicas.map(Number));
  const addresses = new Map(owners.map((o) => [o.id, o.address]));
  return {
    owners, partitions, placement: place,
    replicas: (p) => replicas[p - 1] ?? [],
    addressOf: (id) => addresses.get(id) ?? '',
  };
}
