// Prometheus metrics for /metrics. Contract: nothing here runs on the message hot path. The
// broker keeps plain counters; every metric below pulls them from AdminSource.stats() inside a
// prom-client collect() callback, i.e. only when Prometheus scrapes. One scrape calls stats()
// once (the snapshot is shared by all metrics for STATS_REUSE_MS).
//
// Names follow RabbitMQ's prometheus plugin with a warren_ prefix (rabbitmq_connections →
// warren_connections, rabbitmq_global_messages_received_total → warren_messages_published_total)
// so existing dashboards port by renaming; the mapping is in docs/operations.md.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AdminSource, AdminStats } from './source.js';

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
  for (const [name, help, key] of COUNTERS) {
    new Counter({
      name, help, registers: [registry],
      // The broker's counter is the source of truth; mirror it (reset + inc, as Counter has no set()).
      async collect() { this.reset(); this.inc(Math.max(0, (await snapshot())[key])); },
    });
  }
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
  return registry;
}
