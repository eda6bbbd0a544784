// The parts of one embedded node, wired together: the Raft groups over the data directory (the
// metadata group and P partitions), the metadata port, the durable owner (partitions) and the
// transient owner (in memory) behind one routing owner, one dead-letter path between them, and
// what the listeners serve — the frontend context (AMQP) and the admin source (HTTP). Listeners
// are not started here (src/server.ts does that): a composed node serves nobody yet.
import { randomBytes } from 'node:crypto';
import type { AdminSource } from '../admin/source.js';
import type { WarrenConfig } from '../config.js';
import { newCounters, type FrontendContext } from '../frontend/context.js';
import { EnqueueGate } from '../frontend/enqueue-gate.js';
import type { Logger } from '../log.js';
import type { EnqueueOutcome, Message, QueueRef } from '../owner/api.js';
import { deadLetterPublisher } from '../owner/dead-letter.js';
import { DurableOwner } from '../owner/durable.js';
import { LocalOwner } from '../owner/local.js';
import { RoutingOwner } from '../owner/router.js';
import { createAdminSource } from './admin-source.js';
import { openDataDir } from './data-dir.js';
import { createDiskStats } from './disk-stats.js';
import { metadataInfo } from './meta-info.js';
import { createMeta, initialMeta } from './meta-port.js';
import { META_GROUP, startReplication } from './replication.js';

export interface Node {
  /** What the AMQP listeners serve: metadata and owner ports, counters, live connections. */
  readonly ctx: FrontendContext;
  /** What the HTTP listener serves: the management API's view of this node. */
  readonly adminSource: AdminSource;
  /** Stops the owners, then the Raft groups and their storage. Close the listeners first. */
  close(): Promise<void>;
}

export async function composeNode(config: WarrenConfig, log: Logger): Promise<Node> {
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
  const route = meta.routeDeadLetter;
  const transient = new LocalOwner({
    route, onQueueDeleted, enqueue,
    onEffectError: (err, effect) => log.error({ err, effect }, 'queue effect failed'),
  });
  const durable = await DurableOwner.open({
    partitions: dataDir.partitions, session: `node-${randomBytes(6).toString('hex')}`, log,
    openGroup: (id, app) => replication.openGroup(id, app), onQueueDeleted,
    deadLetter: deadLetterPublisher(route, enqueue),
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
    randomId: () => randomBytes(16).toString('base64url').slice(0, 22), blocked: false, directReply: new Map(), enqueues: new EnqueueGate(),
  };
  return {
    ctx,
    adminSource: {
      ...createAdminSource(ctx, meta, nodeOwner, { local: nodeOwner }, createDiskStats(durable, replication)),
      // The single-voter metadata group; an embedded node opens no session leases.
      metadata: () => metadataInfo({ group: replication.host.group(META_GROUP), machine: () => replication.meta.machine }),
    },
    close: async () => {
      transient.close();
      durable.close();
      await replication.close();
    },
  };
}
