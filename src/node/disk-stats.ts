// What the durable queues hold on this node's disk, for the management API and /metrics: per
// partition its Raft log (length, indexes, bytes) and its bytes on disk, per durable queue the
// approximate bytes of its message records. Reads of in-memory state and LevelDB's size estimates
// (no scans): cheap enough for every scrape.
import type { PartitionInfo, StorageWrites } from '../admin/source.js';
import type { QueueRef } from '../owner/api.js';
import type { DurableOwner } from '../owner/durable.js';
import { recordKey } from '../partition/keys.js';
import type { NodeReplication } from './replication.js';

export interface QueueDisk {
  readonly partition: number;
  /** Approximate bytes of the queue's message records (and their state keys) in LevelDB's table files. */
  readonly diskBytes: number;
}

export interface DiskStats {
  /** undefined for a queue no partition hosts (a transient queue). */
  queue(q: QueueRef): Promise<QueueDisk | undefined>;
  /** Every partition hosted here, or those `only` accepts (the others' sizes are not read). */
  partitions(only?: (partition: number) => boolean): Promise<PartitionInfo[]>;
  /**
   * Approximate bytes of all LevelDB table files of the node, and range compactions run so far;
   * absent on a cluster frontend (it has no store: its queue and partition figures are the owners').
   */
  storage?(): Promise<{ diskBytes: number; rangeCompactions: number; writes: StorageWrites }>;
}

export function createDiskStats(durable: DurableOwner, replication: Pick<NodeReplication, 'host' | 'storage'>): DiskStats {
  return {
    queue: async (q) => {
      const at = durable.placement(q);
      if (at === undefined) return undefined;
      // A queue's keys: q/<id>/<msgId> and q/<id>/<msgId>/s, all below q/<id + 1>/.
      const range = { gte: recordKey(at.queueId, 0), lt: recordKey(at.queueId + 1, 0) };
      return { partition: at.partition, diskBytes: await replication.storage.appDiskBytes(at.partition, range) };
    },
    partitions: (only) => Promise.all(durable.partitionContents(only).map(async (c): Promise<PartitionInfo> => {
      const log = replication.host.group(c.partition).logStats();
      const disk = await replication.storage.groupDiskBytes(c.partition);
      return {
        partition: c.partition, queues: c.queues, messages: c.messages, message_bytes: c.bytes,
        disk_bytes: disk.log + disk.app, log_disk_bytes: disk.log,
        log_entries: Math.max(0, log.lastIndex - log.firstIndex + 1), first_index: log.firstIndex, last_index: log.lastIndex,
        commit_index: log.commitIndex, applied_index: log.appliedIndex, log_bytes: log.appliedLogBytes,
        term: log.term, leader: log.leader, sessions: [...durable.sessionsIn(c.partition)].sort(),
      };
    })),
    storage: async () => ({
      diskBytes: await replication.storage.totalDiskBytes(),
      rangeCompactions: replication.storage.compactor.stats.spans,
      writes: { ...replication.storage.writer.stats },
    }),
  };
}
