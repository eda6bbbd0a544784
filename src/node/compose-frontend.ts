// A frontend node of the cluster (`warren start --role frontend`, issue 8): AMQP and the management
// API, no durable state. Its metadata is a cache fed by an owner's Watch stream, its changes go to
// the metadata leader (src/cluster/meta-remote.ts); its queue calls go over gRPC to the owners
// (src/cluster/remote-owner.ts) under one session, so a frontend can die and another serve its
// clients: what its consumers held comes back once the owners see its session gone.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { WarrenConfig } from '../config.js';
import { FrontendLease } from '../cluster/frontend-lease.js';
import { awaitPlacement } from '../cluster/layout.js';
import { RemoteMetaBackend } from '../cluster/meta-remote.js';
import { QueueFigures } from '../cluster/queue-stats.js';
import { RemoteOwner } from '../cluster/remote-owner.js';
import { sessionConnectionPrefix } from '../cluster/session-streams.js';
import { newCounters, type FrontendContext } from '../frontend/context.js';
import { EnqueueGate } from '../frontend/enqueue-gate.js';
import type { Logger } from '../log.js';
import { managementNodeName } from '../meta/sessions.js';
import { createAdminSource } from './admin-source.js';
import type { Node } from './compose.js';
import { createMeta, livesInPartition } from './meta-port.js';
import { advertisedHttpUrl, fromOtherFrontends } from './other-frontends.js';

export async function composeFrontend(config: WarrenConfig, log: Logger): Promise<Node> {
  const metaBackend = new RemoteMetaBackend({
    owners: config.owners,
    // Frontends spread their watches over the owners.
    watchStart: Math.floor(Math.random() * config.owners.length),
    onWatchError: (err, owner) => log.error({ err, owner: owner.id }, 'metadata watch failed'),
    // Fault injection for tests only: this frontend's metadata cache trails the leader
    // (WARREN_TEST_META_DELAY=<node id>=<ms>; test/cluster/meta-fresh.test.ts).
    watcher: { applyDelayMs: injectedDelayMs(config.nodeId, process.env['WARREN_TEST_META_DELAY']) },
  });
  await metaBackend.ready();
  // The partitions' replicas are the placement stored in the metadata group, as this cache has it;
  // a frontend whose --owners or partition count contradict it must not serve (it would send
  // requests to owners the cluster does not have).
  let partitions: number;
  try {
    ({ partitions } = await awaitPlacement({ read: () => metaBackend.machine.placement, owners: config.owners, partitions: config.partitions, log }));
  } catch (err) {
    metaBackend.close();
    throw err;
  }
  const replicas = (p: number): readonly number[] => metaBackend.machine.placement?.replicas[p - 1] ?? [];
  const meta = createMeta(metaBackend, () => randomBytes(4));
  // Serving AMQP needs a session lease: what this frontend's consumers hold is the lease's, and
  // comes back to the queues when it ends (docs/cluster.md "Sessions").
  let ctx: FrontendContext | undefined;
  const lease = await FrontendLease.open(metaBackend, {
    nodeId: config.nodeId, log,
    httpUrl: advertisedHttpUrl(config.bind, config.httpPort, config.advertiseHost, hostname()),
    onLost: (reason) => {
      // Its consumers are being cancelled on the owners: its clients must reconnect (through the
      // balancer, to a frontend with a live session), as after a RabbitMQ node stopped.
      for (const c of [...ctx?.connections ?? []]) c.forceClose(320, "broker forced connection closure with reason 'session lease lost'");
      log.fatal({ reason }, 'frontend session lease lost: exiting');
      setTimeout(() => process.exit(75), 200).unref();
    },
  });
  const session = lease.session;
  const owner = new RemoteOwner({
    owners: config.owners, partitions, replicas, session, log,
    isDurable: (q) => livesInPartition(metaBackend.machine, q),
  });
  ctx = {
    config, meta: meta.port, owner, log, counters: newCounters(), connections: new Set(),
    randomId: () => randomBytes(16).toString('base64url').slice(0, 22), blocked: false, directReply: new Map(), enqueues: new EnqueueGate(),
    connectionIdPrefix: sessionConnectionPrefix(session),
  };
  // Queue figures for the management API and /metrics: the owners' QueueStats, cached (RemoteOwner's own stats() has none).
  const figures = new QueueFigures({ owners: config.owners, partitions, replicas, log }).start();
  log.info({ session, ttlMs: lease.ttlMs, owners: config.owners.length }, 'frontend joined the cluster');
  return {
    ctx,
    adminSource: {
      // Disk figures are the owners' (a frontend has no store): per queue from its partition's
      // leader with the queue figures, per partition asked of every owner on request.
      ...createAdminSource(ctx, meta, owner, { cluster: figures }, {
        queue: (q) => Promise.resolve(figures.disk(q)),
        partitions: () => figures.partitions(),
      }),
      storeless: true,
      clusterOwners: () => figures.nodes((id) => managementNodeName('owner', id)),
      fromOtherFrontends: (path, authorization) => fromOtherFrontends(metaBackend.machine.sessions.list(), lease.lease, path, authorization),
    },
    close: async () => {
      figures.close();
      owner.close();
      await lease.close();
      metaBackend.close();
    },
  };
}

function injectedDelayMs(nodeId: number, spec: string | undefined): number {
  const [id, ms] = (spec ?? '').split('=');
  return Number(id) === nodeId && nodeId !== 0 ? Number(ms) || 0 : 0;
}
