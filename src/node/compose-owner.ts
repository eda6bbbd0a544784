// An owner node of the cluster (`warren start --role owner`, issue 8): a replica of the metadata
// group (all owners are its voters) and of the partitions the stored placement gives it, over one
// LevelDB and one gRPC server that carries the Raft streams, warren.v1.Owner and warren.v1.Meta.
// It accepts no AMQP. The partitions it leads answer the frontends (src/cluster/owner-service.ts);
// the transient queues homed on it live in its memory. It reaches the rest of the cluster as a
// frontend would (a RemoteOwner of its own session) to dead-letter into queues led elsewhere.
import { randomBytes } from 'node:crypto';
import type { NodeJson } from '../admin/source.js';
import type { WarrenConfig } from '../config.js';
import { awaitPlacement, layoutOf, placementFromConfig, transientHome, type ClusterLayout } from '../cluster/layout.js';
import { LeaderBalance } from '../cluster/leader-balance.js';
import { MetaLeaderClient } from '../cluster/meta-remote.js';
import { openMetaReplica } from '../cluster/meta-replica.js';
import { serveMeta } from '../cluster/meta-service.js';
import { serveOwner } from '../cluster/owner-service.js';
import { RemoteOwner } from '../cluster/remote-owner.js';
import { UnavailableReply } from '../cluster/wire.js';
import { SessionStreams, sessionOfConnection } from '../cluster/session-streams.js';
import { newCounters, type FrontendContext } from '../frontend/context.js';
import { EnqueueGate } from '../frontend/enqueue-gate.js';
import type { Logger } from '../log.js';
import type { QueueRef } from '../owner/api.js';
import { deadLetterPublisher } from '../owner/dead-letter.js';
import { DurableOwner } from '../owner/durable.js';
import { leaseOfSession } from '../meta/sessions.js';
import { ownerId, splitOwnerId } from '../partition/index.js';
import { LocalOwner } from '../owner/local.js';
import { RoutingOwner } from '../owner/router.js';
import { RaftHost } from '../raft/node/host.js';
import { RaftTransport } from '../raft/transport/transport.js';
import { RpcServer } from '../rpc/server.js';
import { createAdminSource } from './admin-source.js';
import type { Node } from './compose.js';
import { openDataDir } from './data-dir.js';
import { createDiskStats, type DiskStats } from './disk-stats.js';
import { metadataInfo } from './meta-info.js';
import { createMeta, initialMeta, livesInPartition, type MetaBackend } from './meta-port.js';
import { exitOnFatal, metaDefect, NODE_COMPACTION, openNodeStorage } from './replication.js';
import { vhostNameKey } from '../util/names.js';

/** Ticks of a clustered node: elections after 10–20 ticks (0.5–1 s), heartbeats every tick. */
const TICK_MS = 50;
const ELECTION_TICKS = 10;
/** How often the partitions led here are checked for sessions whose lease has ended. */
const SESSION_SWEEP_MS = 1_000;
/** How long a transient queue record found without its queue is left for a declare in flight to reach this owner. */
const LOST_TRANSIENT_GRACE_MS = 2_000;
/** How long an owner leads a partition before handing it to the placement's preferred replica. */
const LEADER_SETTLE_MS = 5_000;

export interface OwnerNode extends Node {
  /** The gRPC port it serves (Raft, Owner, Meta). */
  readonly clusterPort: number;
  /** Its replicas of the partitions (leadership per queue, for operators and tests). */
  readonly durable: DurableOwner;
}

export async function composeOwner(config: WarrenConfig, log: Logger): Promise<OwnerNode> {
  const dataDir = openDataDir(config.dataDir, config.partitions);
  const self = config.nodeId;
  const storage = await openNodeStorage(config.dataDir);
  const server = new RpcServer();
  let transport: RaftTransport | undefined;
  const host = new RaftHost({
    tickIntervalMs: TICK_MS,
    sender: { send: (group, messages) => transport?.send(group, messages) },
    storage, compaction: NODE_COMPACTION, onFatal: exitOnFatal(log),
  });
  const peers = new Map(config.owners.filter((o) => o.id !== self).map((o) => [o.id, o.address]));
  transport = RaftTransport.on(server, {
    nodeId: self, host: '', port: 0, peers, onMessage: (group, message) => host.step(group, message),
  });
  const groupOptions = (voters: readonly number[]) => ({ id: self, voters: [...voters], electionTicks: ELECTION_TICKS, heartbeatTicks: 1 });

  const { app: metaApp, group: metaGroup } = await openMetaReplica(host, {
    self, voters: config.owners.map((o) => o.id), initial: () => initialMeta(config), electionTicks: ELECTION_TICKS, heartbeatTicks: 1,
    onDefect: metaDefect(log),
  });
  const metaService = serveMeta(server, {
    app: metaApp, group: metaGroup, addresses: new Map(config.owners.map((o) => [o.id, o.address])),
    onLeaseExpired: (lease) => log.warn({ lease }, 'frontend session lease expired'),
    // A new cluster's placement: epoch 1 from this owner's configuration, if it leads first.
    bootstrapPlacement: () => placementFromConfig(config.owners, dataDir.partitions, config.replication),
    onPlacementProposed: (o) => log.info(o, 'placement epoch 1 proposed'),
    onCacheWaitBound: (index, lagging) => log.warn({ index, lagging }, 'metadata change answered before these frontends\' caches applied it'),
    onNewRun: (o) => {
      if ('failed' in o) log.warn(o, 'every owner started anew, but the non-durable records could not be purged');
      else log.info(o, 'every owner started anew (a new cluster, or all of them restarted): non-durable exchanges and queues purged');
    },
    // For tests only: 0 leaves cross-frontend visibility to the read point (test/cluster/meta-fresh.test.ts).
    ...testCacheWait(process.env['WARREN_TEST_META_CACHE_WAIT_MS']),
  });
  // This owner's own metadata changes (a queue it expired) go to the metadata leader like a frontend's,
  // answered once its own replica has applied them; its reads are its replica's (no cache, no Watch).
  const metaClient = new MetaLeaderClient({ owners: config.owners }, metaApp);
  const metaBackend: MetaBackend = {
    get machine() { return metaApp.machine; },
    apply: (cmd) => metaClient.apply(cmd),
  };
  const meta = createMeta(metaBackend, () => randomBytes(4));
  const onQueueDeleted = (q: QueueRef): void => {
    meta.port.deleteQueue(q.vhost, q.name).catch((err: unknown) => log.warn({ err, queue: q.name }, 'queue record removal failed'));
  };
  const session = `owner-${self}-${randomBytes(4).toString('hex')}`;
  const isDurable = (q: QueueRef): boolean => livesInPartition(metaApp.machine, q);
  // Dead-lettered copies go to their targets' owners, wherever those are led. The replicas are the
  // stored placement's (checked against this owner's configuration below, before any partition opens).
  const storedReplicas = (p: number): readonly number[] => metaApp.machine.placement?.replicas[p - 1] ?? [];
  const cluster = new RemoteOwner({
    owners: config.owners, partitions: dataDir.partitions, replicas: storedReplicas, session, isDurable, log,
  });
  const route = meta.routeDeadLetter;
  const deadLetter = deadLetterPublisher(route, (q, m, done) => cluster.enqueue(q, m, done));
  const transient = new LocalOwner({
    route, onQueueDeleted, enqueue: (q, m, done) => cluster.enqueue(q, m, done),
    onEffectError: (err, effect) => log.error({ err, effect }, 'queue effect failed'),
  });
  const sessions = new SessionStreams();

  // The metadata group comes up first (every owner a voter); the partitions wait for the placement
  // it stores: at once on a restart (this replica recovered it), after the bootstrap or a snapshot
  // from the group on a first start or after a wipe. The Owner service answers "no leader here"
  // for durable queues meanwhile.
  let opened: DurableOwner | undefined;
  let disk: DiskStats | undefined;
  const addressOf = (id: number): string => metaApp.machine.placement?.owners.find((o) => o.id === id)?.address ?? '';
  // The process's figures need the context made below; the Owner service answers Unavailable until then.
  let nodeFigures: (() => Promise<NodeJson>) | undefined;
  const node = (): Promise<NodeJson> => nodeFigures?.() ?? Promise.reject(new UnavailableReply('the owner is starting'));
  serveOwner(server, { durable: () => opened, disk: () => disk, transient, addressOf, sessions, log, node });
  const clusterPort = await server.listen(config.bind[0] === '::' ? '[::]' : config.bind[0] ?? '[::]', config.clusterPort);
  host.start();
  // Everything opened so far, closed in order; `partitions` closes the partitions (opened below) before the Raft host stops.
  const closeBase = async (partitions: () => void = () => {}): Promise<void> => {
    metaService.close();
    metaClient.close();
    cluster.close();
    sessions.stop();
    transient.close();
    partitions();
    host.stop();
    await transport?.close();
    await server.close();
    await storage.close();
  };
  let layout: ClusterLayout;
  try {
    layout = layoutOf(await awaitPlacement({ read: () => metaApp.machine.placement, owners: config.owners, partitions: dataDir.partitions, log }));
  } catch (err) {
    // This owner must not run with a configuration the stored placement contradicts.
    await closeBase();
    throw err;
  }
  const hosted = Array.from({ length: layout.partitions }, (_, i) => i + 1).filter((p) => layout.replicas(p).includes(self));
  const durable = await DurableOwner.open({
    partitions: layout.partitions, hosted, session, log, onQueueDeleted,
    openGroup: (id, app) => host.createGroup(id, groupOptions(layout.replicas(id)), app),
    deadLetter, remoteSink: (s, c) => sessions.sink(s, c), forgetOtherSessions: false,
  });
  opened = durable;
  disk = createDiskStats(durable, { host, storage });

  // A frontend whose session lease has ended (this replica of the metadata group says so: an ended
  // lease never comes back, and one not applied here yet is not taken for ended) loses its consumers
  // in every partition led here and on the transient queues homed here: what they held comes back.
  const ended = (s: string): boolean => {
    const lease = leaseOfSession(s);
    return lease !== undefined && metaApp.machine.sessions.state(lease) === 'ended';
  };
  let sweeping = false;
  const sweep = (): void => {
    if (sweeping) return;
    sweeping = true;
    const downs: Promise<void>[] = [];
    for (const s of sessions.ids()) if (ended(s)) sessions.forget(s);
    // Transient queues homed here: the gone session's consumers go at once (no replication involved).
    const transientSessions = new Set<string>();
    for (const id of transient.ownerIds()) if (id.includes('\0')) transientSessions.add(splitOwnerId(id)[0]);
    for (const s of transientSessions) {
      if (!ended(s)) continue;
      log.info({ session: s, consumers: transient.downByPrefix(ownerId(s, '')) }, 'frontend session ended: its transient consumers are cancelled');
    }
    for (const p of durable.partitionIds()) {
      if (!durable.leadsPartition(p)) continue;
      for (const s of durable.sessionsIn(p)) {
        if (!ended(s)) continue;
        log.info({ session: s, partition: p }, 'frontend session ended: its consumers are cancelled');
        downs.push(durable.sessionDown(p, s).catch((err: unknown) => log.warn({ err, partition: p }, 'session down failed')));
      }
    }
    // Exclusive queues of connections of an ended session: the metadata leader deletes them (one owner, not all).
    if (metaGroup.isLeader()) {
      for (const q of metaApp.machine.listQueues()) {
        const s = q.exclusiveOwner === undefined ? undefined : sessionOfConnection(q.exclusiveOwner);
        if (s === undefined || !ended(s)) continue;
        const ref = { vhost: q.vhost, name: q.name };
        log.info({ session: s, queue: q.name }, 'frontend session ended: its exclusive queue is deleted');
        downs.push(cluster.deleteQueue(ref).then(() => meta.port.deleteQueue(q.vhost, q.name))
          .catch((err: unknown) => log.warn({ err, queue: q.name }, 'deleting an ended session\'s exclusive queue failed')));
      }
    }
    void Promise.all(downs).finally(() => { sweeping = false; });
  };
  const sweepTimer = setInterval(sweep, SESSION_SWEEP_MS);
  sweepTimer.unref();
  const forgetting = forgetLostTransientQueues({
    readPoint: () => metaGroup.readIndex(),
    lost: () => metaApp.machine.listQueues().filter((q) => !isDurable(q)
      && transientHome(q, layout.partitions, layout.replicas, config.owners) === self && !transient.hosts(q)),
    remove: (q) => meta.port.deleteQueue(q.vhost, q.name),
    log,
  });
  const balance = new LeaderBalance({
    self, settleMs: LEADER_SETTLE_MS, connected: (id) => transport?.isConnected(id) ?? false,
    partitions: () => hosted.map((p) => ({ group: host.group(p), preferred: layout.replicas(p)[0] ?? 0 })),
  });
  const balanceTimer = setInterval(() => {
    for (const p of balance.run()) log.info({ partition: p, to: layout.replicas(p)[0] }, 'handing leadership to the preferred replica');
  }, LEADER_SETTLE_MS / 2);
  balanceTimer.unref();

  const nodeOwner = new RoutingOwner(transient, durable, isDurable);
  const ctx: FrontendContext = {
    config, meta: meta.port, owner: nodeOwner, log, counters: newCounters(), connections: new Set(),
    randomId: () => randomBytes(16).toString('base64url').slice(0, 22), blocked: false, directReply: new Map(), enqueues: new EnqueueGate(),
  };
  const ready = (): boolean => metaGroup.leader() !== 0 && durable.partitionIds().every((p) => host.group(p).leader() !== 0);
  log.info({ nodeId: self, clusterPort, partitions: hosted, placementEpoch: layout.epoch }, 'owner started');
  const adminSource = {
    ...createAdminSource(ctx, meta, nodeOwner, { local: nodeOwner }, disk, ready),
    metadata: () => metadataInfo({
      group: metaGroup, machine: () => metaApp.machine,
      keepsDeadlines: () => metaService.leases.isLeading, leaseExpiresInMs: (l) => metaService.leases.expiresInMs(l),
    }),
  };
  nodeFigures = async () => adminSource.node();
  return {
    ctx, clusterPort, durable, adminSource,
    close: async () => {
      forgetting.stop();
      clearInterval(sweepTimer);
      clearInterval(balanceTimer);
      await closeBase(() => durable.close());
    },
  };
}

/**
 * The transient queues homed on an owner died with its last run, as RabbitMQ's transient queues
 * go with their node; their records (and bindings) are removed once this replica of the metadata
 * group has caught up with a read point. A record still without its queue LOST_TRANSIENT_GRACE_MS
 * later goes: a queue declared meanwhile (record first, then this owner) is in memory by then.
 */
function forgetLostTransientQueues(opts: {
  readPoint: () => Promise<number>;
  lost: () => readonly QueueRef[];
  remove: (q: QueueRef) => Promise<unknown>;
  log: Logger;
}): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const later = (ms: number, f: () => void): void => {
    if (stopped) return;
    timer = setTimeout(f, ms);
    timer.unref();
  };
  const key = (q: QueueRef): string => vhostNameKey(q.vhost, q.name);
  const remove = async (candidates: ReadonlySet<string>): Promise<void> => {
    for (const q of opts.lost()) {
      if (stopped || !candidates.has(key(q))) continue;
      opts.log.info({ vhost: q.vhost, queue: q.name }, 'transient queue lost with this owner\'s last run: its record is removed');
      await opts.remove(q).catch((err: unknown) => opts.log.warn({ err, queue: q.name }, 'removing a lost transient queue failed'));
    }
  };
  const start = (): void => {
    opts.readPoint().then(() => {
      const candidates = new Set(opts.lost().map(key));
      if (candidates.size > 0) later(LOST_TRANSIENT_GRACE_MS, () => void remove(candidates));
    }, () => later(1_000, start)); // no metadata leader yet
  };
  start();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function testCacheWait(spec: string | undefined): { cacheWaitMs?: number } {
  return spec === undefined || spec === '' || !Number.isFinite(Number(spec)) ? {} : { cacheWaitMs: Number(spec) };
}
