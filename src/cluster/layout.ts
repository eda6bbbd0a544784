// The cluster's placement as nodes use it (issue 8). The metadata group stores it with an epoch
// (src/meta/placement.ts); its leader proposes the first, epoch 1, computed here from its own
// configuration (`placementFromConfig`: the ring of src/placement, 64 vnodes, R = min(replication,
// owners)). Every node then checks its configuration against the stored record
// (`placementMismatch`, the one place for that rule) and takes the replicas from the record
// (`layoutOf`), not from its flags. Membership changes are not built: the record stays epoch 1.
import type { OwnerAddress } from '../config.js';
import type { Logger } from '../log.js';
import type { PlacementRecord } from '../meta/placement.js';
import type { QueueRef } from '../owner/api.js';
import { partitionOf } from '../owner/durable.js';
import { placement } from '../placement/index.js';

/** Virtual nodes per owner on the ring (docs/placement.md: 64 spreads replicas within ±15%). */
export const VNODES = 64;

export interface ClusterLayout {
  readonly owners: readonly OwnerAddress[];
  readonly partitions: number;
  readonly epoch: number;
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

/** The placement a configuration gives, as the metadata leader proposes it when none is stored. */
export function placementFromConfig(owners: readonly OwnerAddress[], partitions: number, replication: number, epoch = 1): PlacementRecord {
  const place = placement(owners.map((o) => String(o.id)), partitions, Math.min(replication, owners.length), VNODES);
  return {
    epoch,
    owners: [...owners].sort((a, b) => a.id - b.id).map((o) => ({ id: o.id, address: o.address })),
    partitions, replicationFactor: place.replicationFactor, vnodes: place.vnodes,
    replicas: place.partitions.map((p) => p.replicas.map(Number)),
  };
}

/**
 * Why a node configured with `owners` and `partitions` cannot run on the stored placement, or
 * undefined when it can: the same owner ids with the same addresses, and the same partition count.
 */
export function placementMismatch(record: PlacementRecord, owners: readonly OwnerAddress[], partitions: number): string | undefined {
  const show = (list: readonly OwnerAddress[]): string => [...list].sort((a, b) => a.id - b.id).map((o) => `${o.id}=${o.address}`).join(',');
  const stored = show(record.owners);
  const configured = show(owners);
  const problems: string[] = [];
  if (stored !== configured) problems.push(`owners ${configured} (stored: ${stored})`);
  if (record.partitions !== partitions) problems.push(`${partitions} partitions (stored: ${record.partitions})`);
  if (problems.length === 0) return undefined;
  return `this node's configuration differs from the placement stored in the metadata group (epoch ${record.epoch}): ` +
    `${problems.join('; ')}. Membership changes are not supported yet: start every node with the stored owners and partition count`;
}

/** A node's view of a stored placement. */
export function layoutOf(record: PlacementRecord): ClusterLayout {
  const addresses = new Map(record.owners.map((o) => [o.id, o.address]));
  return {
    owners: record.owners, partitions: record.partitions, epoch: record.epoch,
    replicas: (p) => record.replicas[p - 1] ?? [],
    addressOf: (id) => addresses.get(id) ?? '',
  };
}

/** The layout a configuration alone gives (the bootstrap's; tests that run without a metadata group). */
export function clusterLayout(owners: readonly OwnerAddress[], partitions: number, replication: number): ClusterLayout {
  return layoutOf(placementFromConfig(owners, partitions, replication));
}

/**
 * Waits until `read()` gives the stored placement (a first start: until this node's replica or
 * cache applied it), then checks this node's configuration against it: a node whose owners or
 * partition count differ must not run (it would open groups the others do not have, or send
 * requests to the wrong owners), so this logs a fatal error and throws.
 */
export async function awaitPlacement(opts: {
  read: () => PlacementRecord | undefined;
  owners: readonly OwnerAddress[];
  partitions: number;
  log: Logger;
  pollMs?: number;
}): Promise<PlacementRecord> {
  let record = opts.read();
  if (record === undefined) {
    opts.log.info({}, 'waiting for the placement stored in the metadata group');
    while ((record = opts.read()) === undefined) await new Promise((r) => setTimeout(r, opts.pollMs ?? 50));
  }
  const mismatch = placementMismatch(record, opts.owners, opts.partitions);
  if (mismatch !== undefined) {
    opts.log.fatal({ epoch: record.epoch }, mismatch);
    throw new PlacementMismatchError(mismatch);
  }
  return record;
}

export class PlacementMismatchError extends Error {
  readonly code = 'WARREN_PLACEMENT_MISMATCH';
  override readonly name = 'PlacementMismatchError';
}
