// Partition placement on the owner ring: pure and deterministic, no I/O (docs/placement.md).
export { fmix32, fnv1a32, partitionHash, placementHash, tokenHash } from './hash.js';
export { buildRing, compareIds, replicasOf, MAX_OWNERS, MAX_VNODES, type OwnerId, type Ring } from './ring.js';
export { spreadLeaders } from './leaders.js';
export { diff, loadByOwner, placement, MAX_PARTITIONS, type PartitionMove, type PartitionReplicas, type Placement, type PlacementDiff, type PlacementOptions } from './placement.js';
