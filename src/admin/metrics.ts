// Prometheus metrics for /metrics. Contract: nothing here runs on the message hot path. The
// broker keeps plain counters; every metric below pulls them from AdminSource.stats() inside a
// prom-client collect() callback, i.e. only when Prometheus scrapes. One scrape calls stats()
// once (the snapshot is shared by all metrics for STATS_REUSE_MS).
//
// Names follow RabbitMQ's prometheus plugin with a warren_ prefix (rabbitmq_connections →
// warren_connections, rabbitmq_global_messages_received_total → warren_messages_published_total)
// so existing dashboards port by renaming; the mapping is in docs/operations.md.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AdminSource, AdminStats, PartitionInfo, StorageWrites } from './source.js';

/** A scrape evaluates every collect() in turn; they share one stats() call within this window. */
const STATS_REUSE_MS = 1000;

type NumericStat = { [K in keyof AdminStats]-?: AdminStats[K] extends number ? K : never }[keyof AdminStats];

const GAUGES: ReadonlyArray<readonly [string, string, NumericStat]> = [
  ['warren_connections', 'Open AMQP connections', 'connections'],
  ['warren_channels', 'Open AMQP channels', 'channels'],
  ['warren_consumers', 'Consumers across all queues', 'consumers'],
  ['warren_queues', 'Queues across all vhosts', 'queues'],
  ['warren_exchanges', 'Exchanges across all vhosts', 'exchanges'],
  ['warren_vhosts', 'Virtual hosts', 'vhosts'],
  ['warren_queue_messages_ready', 'Messages ready for delivery, all queues', 'messagesReady'],
  ['warren_queue_messages_unacked', 'Messages delivered and not yet acknowledged, all queues', 'messagesUnacked'],
];

const COUNTERS: ReadonlyArray<readonly [string, string, NumericStat]> = [
  ['warren_messages_published_total', 'Messages published by clients', 'publishedTotal'],
  ['warren_messages_delivered_total', 'Messages delivered to consumers or basic.get', 'deliveredTotal'],
  ['warren_messages_acknowledged_total', 'Messages acknowledged by consumers', 'acknowledgedTotal'],
  ['warren_messages_confirmed_total', 'Publisher confirms sent', 'confirmedTotal'],
  ['warren_messages_redelivered_total', 'Messages delivered with redelivered=true', 'redeliveredTotal'],
  ['warren_messages_unroutable_total', 'Messages published that matched no queue', 'unroutableTotal'],
  ['warren_connections_opened_total', 'AMQP connections opened', 'connectionsOpenedTotal'],
  ['warren_connections_closed_total', 'AMQP connections closed', 'connectionsClosedTotal'],
];

export function createAdminRegistry(source: AdminSource, registry: Registry = new Registry()): Registry {
  // A registry shared with other components may already carry the default process metrics.
  if (!registry.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics({ register: registry });
  let cached: { atMs: number; stats: Promise<AdminStats> } | undefined;
  const snapshot = (): Promise<AdminStats> => {
    const nowMs = performance.now();
    if (!cached || nowMs - cached.atMs > STATS_REUSE_MS) {
      const stats = Promise.resolve().then(() => source.stats());
      cached = { atMs: nowMs, stats };
      stats.catch(() => { cached = undefined; });
    }
    return cached.stats;
  };

  for (const [name, help, key] of GAUGES) {
    new Gauge({
      name, help, registers: [registry],
      async collect() { this.set((await snapshot())[key]); },
    });
  }
  const counter = (name: string, help: string, read: (s: AdminStats) => number | undefined): void => {
    new Counter({
      name, help, registers: [registry],
      // The broker's counter is the source of truth; mirror it (reset + inc, as Counter has no set()).
      async collect() {
        const v = read(await snapshot());
        this.reset();
        if (v !== undefined) this.inc(Math.max(0, v));
      },
    });
  };
  for (const [name, help, key] of COUNTERS) counter(name, help, (st) => st[key]);
  const perQueue = (name: string, help: string, pick: (q: NonNullable<AdminStats['perQueue']>[number]) => number): void => {
    new Gauge({
      name, help, labelNames: ['vhost', 'queue'] as const, registers: [registry],
      async collect() {
        this.reset();
        for (const q of (await snapshot()).perQueue ?? []) this.set({ vhost: q.vhost, queue: q.queue }, pick(q));
      },
    });
  };
  perQueue('warren_detailed_queue_messages_ready', 'Messages ready, per queue', (q) => q.ready);
  perQueue('warren_detailed_queue_messages_unacked', 'Messages unacknowledged, per queue', (q) => q.unacked);
  perQueue('warren_detailed_queue_consumers', 'Consumers, per queue', (q) => q.consumers);
  perQueue('warren_detailed_queue_messages_bytes', 'Body bytes of ready and unacknowledged messages, per queue', (q) => q.bytes ?? 0);
  new Gauge({
    name: 'warren_queue_disk_bytes', help: 'Approximate bytes of a durable queue\'s message records on disk (LevelDB table files)',
    labelNames: ['vhost', 'queue'] as const, registers: [registry],
    async collect() {
      this.reset();
      for (const q of (await snapshot()).perQueue ?? []) if (q.diskBytes !== undefined) this.set({ vhost: q.vhost, queue: q.queue }, q.diskBytes);
    },
  });
  partitionGauges(registry, snapshot);
  if (source.storeless !== true) storageMetrics(registry, snapshot, counter);
  return registry;
}

/** The node's own LevelDB: its size, range compactions and write counters. */
function storageMetrics(
  registry: Registry, snapshot: () => Promise<AdminStats>,
  counter: (name: string, help: string, read: (st: AdminStats) => number | undefined) => void,
): void {
  new Gauge({
    name: 'warren_storage_disk_bytes', help: 'Approximate bytes of the node\'s LevelDB table files', registers: [registry],
    async collect() {
      const v = (await snapshot()).storageDiskBytes;
      if (v !== undefined) this.set(v);
    },
  });
  counter('warren_storage_range_compactions_total', 'Compactions of deleted key ranges (settled messages, compacted log entries)',
    (st) => st.storageRangeCompactions);
  for (const [name, help, key] of STORAGE_WRITE_COUNTERS) counter(name, help, (st) => st.storageWrites?.[key]);
}

const STORAGE_WRITE_COUNTERS: ReadonlyArray<readonly [string, string, keyof StorageWrites]> = [
  ['warren_storage_write_batches_total', 'LevelDB write batches (one per turn of the group-commit loop, shared by every Raft group)', 'batches'],
  ['warren_storage_fsyncs_total', 'LevelDB write batches written with sync (one fsync each)', 'fsyncs'],
  ['warren_storage_write_ops_total', 'Puts and deletes written to LevelDB', 'ops'],
  ['warren_storage_write_bytes_total', 'Bytes of keys and values written to LevelDB', 'bytes'],
  ['warren_raft_entries_written_total', 'Raft log entries written (an entry carries many commands)', 'entries'],
];

type PartitionStat = Exclude<{ [K in keyof PartitionInfo]-?: PartitionInfo[K] extends number ? K : never }[keyof PartitionInfo], 'partition'>;

const PARTITION_GAUGES: ReadonlyArray<readonly [string, string, PartitionStat]> = [
  ['warren_partition_log_entries', 'Entries in the partition\'s Raft log (not yet compacted into its snapshot)', 'log_entries'],
  ['warren_partition_log_bytes', 'Bytes of applied entries still in the partition\'s Raft log (held in memory)', 'log_bytes'],
  ['warren_partition_commit_index', 'The partition\'s Raft commit index', 'commit_index'],
  ['warren_partition_applied_index', 'The partition\'s Raft applied index', 'applied_index'],
  ['warren_partition_disk_bytes', 'Approximate bytes on disk of the partition (log and messages, LevelDB table files)', 'disk_bytes'],
  ['warren_partition_log_disk_bytes', 'Approximate bytes on disk of the partition\'s Raft log', 'log_disk_bytes'],
  ['warren_partition_queues', 'Durable queues in the partition', 'queues'],
  ['warren_partition_messages', 'Ready and unacknowledged messages in the partition', 'messages'],
  ['warren_partition_message_bytes', 'Body bytes of the partition\'s messages', 'message_bytes'],
];

/** One gauge per partition figure, labelled by partition number. */
function partitionGauges(registry: Registry, snapshot: () => Promise<AdminStats>): void {
  for (const [name, help, key] of PARTITION_GAUGES) {
    new Gauge({
      name, help, labelNames: ['partition'] as const, registers: [registry],
      async collect() {
        this.reset();
        for (const p of (await snapshot()).perPartition ?? []) this.set({ partition: String(p.partition) }, p[key]);
      },
    });
  }
}
