// Composition of one Warren process in the embedded single-node role: metadata + owner in-process,
// the AMQP frontend on top, the admin HTTP server beside. The cluster roles will compose the same
// frontend with gRPC owner clients instead of LocalOwner.
import { randomBytes } from 'node:crypto';
import { startAdminServer } from './admin/index.js';
import { DEFAULT_CONFIG, type WarrenConfig } from './config.js';
import { newCounters, type FrontendContext } from './frontend/context.js';
import { listenAmqp, listenAmqps, type Listener } from './frontend/listener.js';
import { configureLogging, type Logger } from './log.js';
import { createMeta, initialMeta } from './node/meta-port.js';
import { startReplication } from './node/replication.js';
import { createAdminSource } from './node/admin-source.js';
import { createDiskStats } from './node/disk-stats.js';
import { LocalOwner } from './owner/local.js';
import { DurableOwner } from './owner/durable.js';
import { RoutingOwner } from './owner/router.js';
import type { EnqueueOutcome, Message, QueueRef } from './owner/api.js';
import { isDeathCycle } from './queue/deadletter.js';
import { openDataDir } from './node/data-dir.js';
import { MemoryAlarm } from './node/memory-alarm.js';

export interface Warren {
  readonly amqpPort: number;
  readonly amqpsPort: number | undefined;
  readonly httpPort: number;
  readonly log: Logger;
  readonly ctx: FrontendContext;
  close(): Promise<void>;
}

export async function startWarren(overrides: Partial<WarrenConfig> = {}): Promise<Warren> {
  const config: WarrenConfig = { ...DEFAULT_CONFIG, ...overrides };
  const log = configureLogging(config.logLevel);
  const dataDir = openDataDir(config.dataDir, config.partitions);

  const replication = await startReplication(config.dataDir, () => initialMeta(config), log);
  const meta = createMeta(replication.meta, () => randomBytes(4));
  const onQueueDeleted = (q: QueueRef): void => {
    meta.port.deleteQueue(q.vhost, q.name).catch((err: unknown) => log.error({ err, queue: q.name }, 'queue record removal failed'));
  };
  // Dead-lettered copies go wherever their targets live (either owner), through the node's owner.
  let owner: RoutingOwner | undefined;
  const enqueue = (q: QueueRef, message: Message, done: (o: EnqueueOutcome, b: boolean) => void): void => {
    if (owner !== undefined) owner.enqueue(q, message, done);
    else setImmediate(() => enqueue(q, message, done)); // effects resumed while the partitions open
  };
  /** At-least-once dead-lettering: `done` once every target queue accepted the copy (none: at once). */
  const deadLetterTo = (vhost: string, exchange: string, keys: readonly string[], message: Message, done: () => void): void => {
    const targets = new Set<string>();
    for (const key of keys) for (const name of meta.routeDeadLetter(vhost, exchange, key, message)) targets.add(name);
    for (const name of targets) if (isDeathCycle(message, name)) targets.delete(name);
    let left = targets.size;
    if (left === 0) { done(); return; }
    const republished: Message = { ...message, exchange, routingKey: keys[0] ?? '' };
    for (const name of targets) enqueue({ vhost, name }, republished, () => { if (--left === 0) done(); });
  };
  const transient = new LocalOwner({
    route: (vhost, exchange, routingKey, message) => meta.routeDeadLetter(vhost, exchange, routingKey, message),
    onQueueDeleted, enqueue,
    onEffectError: (err, effect) => log.error({ err, effect }, 'queue effect failed'),
  });
  const durable = await DurableOwner.open({
    partitions: dataDir.partitions, session: `node-${randomBytes(6).toString('hex')}`, log,
    openGroup: (id, app) => replication.openGroup(id, app), onQueueDeleted,
    deadLetter: (vhost, exchange, keys, message, done) => deadLetterTo(vhost, exchange, keys, message, done),
  });
  const isDurable = (q: QueueRef): boolean => {
    const r = replication.meta.machine.getQueue(q.vhost, q.name);
    return r === undefined ? durable.has(q) : r.durable && r.exclusiveOwner === undefined;
  };
  const nodeOwner = new RoutingOwner(transient, durable, isDurable);
  owner = nodeOwner;
  // After a restart the transient metadata (non-durable and exclusive queues, non-durable
  // exchanges) is gone, as in RabbitMQ; durable queues are hosted again by their partitions.
  await replication.meta.apply({ type: 'transient.purge' });
  for (const q of replication.meta.machine.listQueues()) {
    await nodeOwner.declareQueue({ vhost: q.vhost, name: q.name }, { arguments: q.arguments, autoDelete: q.autoDelete });
  }
  const ctx: FrontendContext = {
    config, meta: meta.port, owner: nodeOwner, log, counters: newCounters(), connections: new Set(),
    randomId: () => randomBytes(16).toString('base64url').slice(0, 22), blocked: false, directReply: new Map(),
  };

  const listeners: Listener[] = [await listenAmqp(ctx, config.amqpPort, config.bind)];
  let amqpsPort: number | undefined;
  if (config.tls !== undefined) {
    const l = await listenAmqps(ctx, config.amqpsPort, config.bind);
    listeners.push(l);
    amqpsPort = l.port;
  }
  const alarm = new MemoryAlarm(ctx);
  const admin = await startAdminServer({
    port: config.httpPort, host: config.bind[0] ?? '::', source: createAdminSource(ctx, meta, nodeOwner, createDiskStats(durable, replication)), logger: log,
  });
  const amqpPort = (listeners[0] as Listener).port;
  log.info({ amqpPort, amqpsPort, httpPort: admin.port, dataDir: config.dataDir }, 'warren started');

  return {
    amqpPort, amqpsPort, httpPort: admin.port, log, ctx,
    close: async () => {
      alarm.stop();
      // Stop accepting first; a listener's close completes only once its connections have ended,
      // so clients are asked to close (320, as RabbitMQ on shutdown) and stragglers dropped.
      const closed = Promise.all(listeners.map((l) => l.close()));
      for (const c of [...ctx.connections]) c.forceClose(320, "broker forced connection closure with reason 'shutdown'");
      await waitUntil(() => ctx.connections.size === 0, SHUTDOWN_GRACE_MS);
      for (const c of [...ctx.connections]) c.destroy();
      await closed;
      await admin.close();
      transient.close();
      durable.close();
      await replication.close();
    },
  };
}

/** How long shutdown waits for clients to answer connection.close before dropping them. */
const SHUTDOWN_GRACE_MS = 2000;

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
