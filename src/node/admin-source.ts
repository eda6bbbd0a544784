// AdminSource (what the HTTP management API and /metrics read and write) over the embedded broker:
// the metadata machine, the in-process owner and the frontend's connections and counters.
import { readdir, statfs } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { AmqpError } from '../amqp/errors.js';
import { MAX_REPORTED_ERRORS } from '../admin/definitions.js';
import {
  AdminError, SHA256_HASHING, type AdminSource, type AdminStats, type AuthResult, type BindingInfo, type ChannelJson, type ConnectionInfo,
  type ConsumerJson, type NodeJson,
  type Definitions, type ExchangeInfo, type ImportPlan, type ImportReport, type PartitionInfo, type PlannedQueue, type PutOutcome,
  type QueueInfo, type UserInfo,
} from '../admin/source.js';
import { amqpDetail } from '../admin/validate.js';
import type { ChannelInfo, FrontendContext } from '../frontend/context.js';
import { isLoopback } from '../frontend/connection.js';
import { PRODUCT, VERSION } from '../frontend/server-properties.js';
import { rs } from '../meta/errors.js';
import { GUEST, MetaMachine } from '../meta/machine.js';
import { SERVER_NAMED_PREFIX } from '../meta/queues.js';
import type { MetaCommand, MetaResult, QueueRecord } from '../meta/types.js';
import { hashPassword } from '../meta/users.js';
import { managementNodeName } from '../meta/sessions.js';
import { queueTypeOf } from '../meta/queue-args.js';
import type { OwnerClient, QueueRef } from '../owner/api.js';
import type { OwnerStats } from '../owner/router.js';
import type { DiskStats } from './disk-stats.js';
import { memoryLimitBytes } from './memory-alarm.js';
import { livesInPartition, type LocalMeta } from './meta-port.js';

/** An open channel and what names it in the management API. */
interface OpenChannel {
  readonly connection: string;
  readonly vhost: string;
  readonly user: string;
  readonly host: string;
  readonly port: number;
  /** `<connection name> (<channel number>)`, as RabbitMQ names channels. */
  readonly name: string;
  readonly ch: ChannelInfo;
}

/** AMQP errors from the metadata machine become HTTP errors with the same reason text. */
async function adminCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AmqpError) {
      throw err.replyCode === 404 ? AdminError.notFound(err.replyText) : AdminError.badRequest(err.replyText);
    }
    throw err;
  }
}

/**
 * Queue figures gathered from elsewhere (a cluster frontend: src/cluster/queue-stats.ts): they
 * replace the owner's own, are refreshed before an answer that shows them, and add a durable
 * queue's Raft members.
 */
export interface ClusterFigures extends OwnerStats {
  /** Fresh figures, waited for a short bounded time (then the cached ones are shown). */
  refresh(): Promise<void>;
  replication(q: QueueRef): { readonly partition: number; readonly leader: number; readonly members: readonly number[]; readonly online: readonly number[] };
}

/** Where queue figures come from: the queues this node holds, or a cluster frontend's gathered ones. */
export type QueueFigureSource = { readonly local: OwnerStats } | { readonly cluster: ClusterFigures };

/**
 * `disk`: what durable queues hold on disk (partitions, per-queue bytes); without it the queues
 * report no disk figures and /api/partitions is empty.
 */
export function createAdminSource(
  ctx: FrontendContext, meta: LocalMeta, owner: OwnerClient, figureSource: QueueFigureSource, disk?: DiskStats,
  /** Readiness beyond serving HTTP (a cluster node: its groups have leaders); default ready. */
  ready: () => boolean = () => true,
): AdminSource {
  const m = (): MetaMachine => meta.backend.machine;
  const nodeName = managementNodeName(ctx.config.role, ctx.config.nodeId);
  const cluster = 'cluster' in figureSource ? figureSource.cluster : undefined;
  const figures: OwnerStats = 'cluster' in figureSource ? figureSource.cluster : figureSource.local;
  const change = (cmd: MetaCommand): Promise<MetaResult> => meta.backend.apply(cmd);
  const partitions = async (): Promise<PartitionInfo[]> => (disk === undefined ? [] : disk.partitions());

  /** `parts`: the partitions as listed for this answer (one listing serves every queue in it). */
  const queueInfo = async (q: QueueRecord, parts: readonly PartitionInfo[]): Promise<QueueInfo> => {
    const ref = { vhost: q.vhost, name: q.name };
    const s = figures.stats(ref);
    const raft = cluster !== undefined && livesInPartition(m(), ref) ? cluster.replication(ref) : undefined;
    const messages = (s?.messages ?? 0) + (s?.unacked ?? 0);
    const bytes = s?.bytes ?? 0;
    const d = await disk?.queue(ref);
    const part = d === undefined ? undefined : parts.find((x) => x.partition === d.partition);
    return {
      name: q.name, vhost: q.vhost, durable: q.durable, auto_delete: q.autoDelete, exclusive: q.exclusiveOwner !== undefined,
      arguments: q.arguments, type: queueTypeOf(q.arguments), state: 'running', node: nodeName,
      messages, messages_ready: s?.messages ?? 0,
      messages_unacknowledged: s?.unacked ?? 0, message_bytes: bytes, consumers: s?.consumers ?? 0,
      // Stored in a partition: every message is on disk; a transient queue keeps none there.
      messages_persistent: d === undefined ? 0 : messages, message_bytes_persistent: d === undefined ? 0 : bytes,
      ...(raft === undefined ? {} : { partition: raft.partition }),
      ...(d === undefined ? {} : { partition: d.partition, disk_bytes: d.diskBytes }),
      ...(part === undefined ? {} : { partition_stats: part }),
      ...(raft === undefined ? {} : { leader: raft.leader, members: raft.members, online: raft.online }),
    };
  };
  const queueList = async (vhost?: string): Promise<QueueInfo[]> => {
    await cluster?.refresh();
    const parts = await partitions();
    return Promise.all(m().listQueues(vhost).map((q) => queueInfo(q, parts)));
  };
  const exchanges = (vhost?: string): ExchangeInfo[] => m().listExchanges(vhost).map((x) => ({
    name: x.name, vhost: x.vhost, type: x.type, durable: x.durable, auto_delete: x.autoDelete, internal: x.internal,
    arguments: x.arguments,
  }));
  const bindings = (vhost?: string): BindingInfo[] => m().listBindings(vhost, true).map((b) => ({
    source: b.source, vhost: b.vhost, destination: b.destination, destination_type: b.destinationKind,
    routing_key: b.routingKey, arguments: b.arguments, properties_key: b.routingKey === '' ? '~' : b.routingKey,
  }));
  /** Every open channel of a connection past its login, with what names it. */
  const openChannels = function* (): Generator<OpenChannel> {
    for (const c of ctx.connections) {
      const { id, vhost, user, peer } = c.info();
      if (vhost === undefined || user === undefined) continue;
      const [host, port] = splitPeer(peer);
      for (const ch of c.channelInfos()) yield { connection: id, vhost, user, host, port, ch, name: `${id} (${ch.number})` };
    }
  };
  const channels = (): ChannelJson[] => [...openChannels()].map(({ connection, vhost, user, host, port, ch, name }) => ({
    name, number: ch.number, connection_details: { name: connection, peer_host: host, peer_port: port },
    vhost, user, node: nodeName,
    consumer_count: ch.consumers.consumers.length, messages_unacknowledged: ch.consumers.unacked, messages_unconfirmed: ch.unconfirmed,
    prefetch_count: ch.consumers.prefetch, global_prefetch_count: ch.consumers.globalPrefetch,
    confirm: ch.confirm, transactional: ch.transactional, state: 'running',
  }));
  const consumers = (): ConsumerJson[] => [...openChannels()].flatMap(({ connection, user, host, port, ch, name }) => ch.consumers.consumers.map((k) => ({
    consumer_tag: k.tag, queue: { name: k.queue.name, vhost: k.queue.vhost },
    channel_details: { name, number: ch.number, connection_name: connection, peer_host: host, peer_port: port, user, node: nodeName },
    ack_required: k.ackRequired, exclusive: k.exclusive, prefetch_count: k.prefetch, active: true, activity_status: 'up',
    arguments: k.arguments,
  })));
  const connections = (): ConnectionInfo[] => [...ctx.connections].map((c) => {
    const i = c.info();
    const [host, port] = splitPeer(i.peer);
    return {
      name: i.id, vhost: i.vhost ?? '', user: i.user ?? '', node: nodeName, peer_host: host, peer_port: port,
      channels: i.channels, state: 'running', protocol: 'AMQP 0-9-1', ssl: i.tls, connected_at: i.connectedAtMs,
      client_properties: i.clientProperties,
    };
  });

  const stats = async (): Promise<AdminStats> => {
    let ready = 0, unacked = 0, consumers = 0;
    const perQueue = [];
    await cluster?.refresh();
    for (const { ref, stats } of figures.list()) {
      ready += stats.messages; unacked += stats.unacked; consumers += stats.consumers;
      perQueue.push({
        vhost: ref.vhost, queue: ref.name, ready: stats.messages, unacked: stats.unacked, consumers: stats.consumers, bytes: stats.bytes,
      });
    }
    const detailed = perQueue.length <= 1000
      ? await Promise.all(perQueue.map(async (q) => {
        const d = await disk?.queue({ vhost: q.vhost, name: q.queue });
        return d === undefined ? q : { ...q, diskBytes: d.diskBytes };
      }))
      : undefined;
    const storage = await disk?.storage?.();
    let channels = 0;
    for (const c of ctx.connections) channels += c.info().channels;
    const k = ctx.counters;
    return {
      // How many queues is metadata's answer, which every node has; owner.list() has figures only where
      // the queues live (a cluster's frontend lists none).
      connections: ctx.connections.size, channels, consumers, queues: m().listQueues().length, exchanges: m().listExchanges().length,
      vhosts: m().listVhosts().length, messagesReady: ready, messagesUnacked: unacked,
      publishedTotal: k.published, deliveredTotal: k.delivered, acknowledgedTotal: k.acked, confirmedTotal: k.confirmed,
      redeliveredTotal: 0, unroutableTotal: k.returned, connectionsOpenedTotal: k.connectionsOpened,
      connectionsClosedTotal: k.connectionsClosed, ...(detailed !== undefined ? { perQueue: detailed } : {}),
      ...(disk !== undefined ? { perPartition: await partitions() } : {}),
      ...(storage !== undefined ? { storageDiskBytes: storage.diskBytes, storageRangeCompactions: storage.rangeCompactions, storageWrites: storage.writes } : {}),
    };
  };
  const users = (): UserInfo[] => m().listUsers().map((u) => ({
    name: u.name, tags: u.tags, password_hash: u.passwordHash, hashing_algorithm: SHA256_HASHING,
  }));

  const source: AdminSource = {
    authenticate: (user, password, peer): AuthResult => {
      const u = m().getUser(user);
      if (u === undefined) return { ok: false, reason: 'unknown user' };
      if (m().authenticate(user, password) === undefined) return { ok: false, reason: 'bad password' };
      // The same loopback rule as AMQP's connection.start-ok (src/frontend/connection.ts).
      if (u.loopbackOnly && !isLoopback(peer)) return { ok: false, reason: 'loopback only' };
      return { ok: true, tags: u.tags };
    },
    permittedVhosts: (user) => {
      const permitted = new Set(m().listPermissions().filter((x) => x.user === user).map((x) => x.vhost));
      return m().listVhosts().filter((v) => permitted.has(v));
    },
    isReady: ready,
    stats,
    overview: async () => {
      const s = await stats();
      return {
        product_name: PRODUCT, product_version: VERSION, cluster_name: 'warren', node: nodeName,
        object_totals: { connections: s.connections, channels: s.channels, exchanges: s.exchanges, queues: s.queues, consumers: s.consumers },
        queue_totals: { messages: s.messagesReady + s.messagesUnacked, messages_ready: s.messagesReady, messages_unacknowledged: s.messagesUnacked },
        message_stats: { publish: s.publishedTotal, deliver_get: s.deliveredTotal, ack: s.acknowledgedTotal, confirm: s.confirmedTotal },
        listeners: [{ node: nodeName, protocol: 'amqp', ip_address: ctx.config.bind[0] ?? '::', port: ctx.config.amqpPort }],
      };
    },
    listVhosts: () => m().listVhosts().map((name) => ({ name })),
    putVhost: async (name): Promise<PutOutcome> => {
      const existed = m().hasVhost(name);
      await change({ type: 'vhost.add', name });
      return existed ? 'updated' : 'created';
    },
    deleteVhost: async (name) => {
      if (!m().hasVhost(name)) throw AdminError.notFound();
      const r = await change({ type: 'vhost.delete', name });
      for (const q of r.deletedQueues ?? []) void owner.deleteQueue({ vhost: q.vhost, name: q.name });
    },
    listUsers: users,
    putUser: async (name, update): Promise<PutOutcome> => {
      const existed = m().getUser(name) !== undefined;
      // Neither password nor hash: RabbitMQ's passwordless user ('' never verifies).
      const hash = update.password_hash ?? (update.password !== undefined ? hashPassword(update.password, meta.salt()) : '');
      await change({ type: 'user.put', name, passwordHash: hash, tags: update.tags, loopbackOnly: loopbackOnly(m(), name) });
      return existed ? 'updated' : 'created';
    },
    deleteUser: async (name) => {
      if (m().getUser(name) === undefined) throw AdminError.notFound();
      await change({ type: 'user.delete', name });
    },
    listPermissions: () => m().listPermissions(),
    putPermissions: async (vhost, user, p): Promise<PutOutcome> => {
      if (m().getUser(user) === undefined || !m().hasVhost(vhost)) throw AdminError.badRequest('vhost_or_user_not_found');
      const existed = m().listPermissions().some((x) => x.user === user && x.vhost === vhost);
      await adminCall(() => change({ type: 'permissions.set', user, vhost, configure: p.configure, write: p.write, read: p.read }));
      return existed ? 'updated' : 'created';
    },
    deletePermissions: async (vhost, user) => {
      if (!m().listPermissions().some((x) => x.user === user && x.vhost === vhost)) throw AdminError.notFound();
      await change({ type: 'permissions.clear', user, vhost });
    },
    listQueues: queueList,
    listPartitions: partitions,
    placement: () => {
      const r = m().placement;
      return r === undefined ? undefined : {
        epoch: r.epoch, partitions: r.partitions, replication_factor: r.replicationFactor, vnodes: r.vnodes,
        owners: r.owners.map((o) => ({ id: o.id, address: o.address })), replicas: r.replicas,
      };
    },
    listExchanges: exchanges,
    listBindings: bindings,
    listConnections: connections,
    listChannels: channels,
    node: () => nodeInfo(nodeName, ctx),
    listConsumers: consumers,
    exportDefinitions: () => exportDefinitions(m(), users(), exchanges(), bindings()),
    importDefinitions: (plan) => importDefinitions(meta, owner, plan),
    ...(meta.port.sync !== undefined ? { sync: meta.port.sync } : {}),
  };
  return source;
}

/**
 * RabbitMQ's loopback_users (default [guest]) is a list of names; Warren keeps it as a flag on the
 * user, so a user.put must carry it over, or re-putting guest (PUT, definitions import) would open
 * guest to remote logins.
 */
function loopbackOnly(m: MetaMachine, name: string): boolean {
  return (m.getUser(name)?.loopbackOnly ?? false) || name === GUEST.name;
}

/**
 * RabbitMQ 3.10's export: exclusive queues are not definitions, nor are the default and 'amq.*'
 * exchanges, default-exchange bindings or bindings to exclusive queues; queues carry no stats.
 */
function exportDefinitions(m: MetaMachine, users: readonly UserInfo[], xs: readonly ExchangeInfo[], bs: readonly BindingInfo[]): Definitions {
  const queues = m.listQueues().filter((q) => q.exclusiveOwner === undefined);
  const exported = new Set(queues.map((q) => `${q.vhost}\u0000${q.name}`));
  return {
    product_name: PRODUCT, product_version: VERSION,
    users: users.map((u) => ({
      name: u.name, password_hash: u.password_hash ?? '', hashing_algorithm: SHA256_HASHING, tags: u.tags, limits: {},
    })),
    vhosts: m.listVhosts().map((name) => ({ name })),
    permissions: m.listPermissions(),
    topic_permissions: [], parameters: [], global_parameters: [], policies: [],
    queues: queues.map((q) => ({ name: q.name, vhost: q.vhost, durable: q.durable, auto_delete: q.autoDelete, arguments: q.arguments })),
    exchanges: xs.filter((x) => x.name !== '' && !x.name.startsWith('amq.')),
    bindings: bs
      .filter((b) => b.source !== '' && (b.destination_type === 'exchange' || exported.has(`${b.vhost}\u0000${b.destination}`)))
      .map(({ properties_key: _key, ...b }) => b),
  };
}

/** One planned change: the command, where it came from, and whether it creates a queue the owner must host. */
interface Step { readonly at: string; readonly cmd: MetaCommand }

/**
 * Definitions import, all-or-nothing. Every entry is first applied to a copy of the metadata (the
 * state machine's own checks are the authority: missing vhosts, users, sources and destinations,
 * queue type rules); only when all pass are the same commands applied to the broker. Queues and
 * exchanges that exist are kept as they are, as RabbitMQ does, with a warning when the file
 * describes them differently. With clustering this becomes one batch proposed to the metadata group.
 */
async function importDefinitions(meta: LocalMeta, owner: OwnerClient, plan: ImportPlan): Promise<ImportReport> {
  const m = meta.backend.machine;
  const trial = MetaMachine.restore(m.snapshot());
  const steps: Step[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  const attempt = (at: string, cmd: MetaCommand): void => {
    try {
      trial.apply(cmd);
      steps.push({ at, cmd });
    } catch (err) {
      if (!(err instanceof AmqpError)) throw err;
      errors.push(`${at}: ${amqpDetail(err)}`);
    }
  };
  /** An existing queue or exchange: nothing to do when equivalent, a warning when not. */
  const keepExisting = (at: string, what: string, cmd: MetaCommand): void => {
    try {
      trial.apply(cmd);
    } catch (err) {
      if (!(err instanceof AmqpError)) throw err;
      warnings.push(`${at}: ${what} exists with different properties (${amqpDetail(err)}); kept as it is`);
    }
  };

  for (const v of plan.vhosts) attempt(v.at, { type: 'vhost.add', name: v.name });
  for (const u of plan.users) {
    const passwordHash = u.passwordHash ?? hashPassword(u.password ?? '', meta.salt());
    attempt(u.at, { type: 'user.put', name: u.name, passwordHash, tags: u.tags, loopbackOnly: loopbackOnly(trial, u.name) });
  }
  for (const p of plan.permissions) {
    attempt(p.at, { type: 'permissions.set', user: p.user, vhost: p.vhost, configure: p.configure, write: p.write, read: p.read });
  }
  for (const x of plan.exchanges) {
    const cmd: MetaCommand = {
      type: 'exchange.declare', vhost: x.vhost, name: x.name, exchangeType: x.type, passive: false, durable: x.durable,
      autoDelete: x.autoDelete, internal: x.internal, arguments: x.arguments,
    };
    if (trial.getExchange(x.vhost, x.name) !== undefined) keepExisting(x.at, rs('exchange', x.name, x.vhost), cmd);
    else attempt(x.at, cmd);
  }
  for (const q of plan.queues) {
    const cmd = queueDeclare(q);
    if (trial.getQueue(q.vhost, q.name) !== undefined) keepExisting(q.at, rs('queue', q.name, q.vhost), cmd);
    else attempt(q.at, cmd);
  }
  for (const b of plan.bindings) {
    attempt(b.at, {
      type: 'binding.add', vhost: b.vhost, source: b.source, destinationKind: b.destinationType,
      destination: b.destination, routingKey: b.routingKey, arguments: b.arguments,
    });
  }
  if (errors.length > 0) {
    const more = errors.length > MAX_REPORTED_ERRORS ? `; and ${errors.length - MAX_REPORTED_ERRORS} more` : '';
    throw AdminError.badRequest(errors.slice(0, MAX_REPORTED_ERRORS).join('; ') + more);
  }
  // One batch command, applied whole or not at all by the machine (a change committed between the
  // trial and the batch can still make it fail; then nothing of it is applied and the answer says why).
  const r = await adminCall(() => meta.backend.apply({ type: 'batch', commands: steps.map((s) => s.cmd) }));
  for (const one of r.batch ?? []) {
    const q = one.queue;
    if (one.created === true && q !== undefined) {
      await owner.declareQueue({ vhost: q.vhost, name: q.name }, { arguments: q.arguments, autoDelete: q.autoDelete });
    }
  }
  return { applied: steps.length, warnings };
}

/**
 * A queue.declare for an imported queue. A server-named queue ('amq.gen-...') is declared the way
 * the broker names one (empty name + suffix): the 'amq.' prefix is reserved to clients, not to imports.
 */
function queueDeclare(q: PlannedQueue): MetaCommand {
  const serverNamed = q.name.startsWith(SERVER_NAMED_PREFIX);
  return {
    type: 'queue.declare', vhost: q.vhost, passive: false, durable: q.durable, exclusive: false, autoDelete: q.autoDelete,
    arguments: q.arguments, connection: IMPORT_CONNECTION,
    ...(serverNamed ? { name: '', nameSuffix: q.name.slice(SERVER_NAMED_PREFIX.length) } : { name: q.name }),
  };
}

/** The pseudo-connection declaring imported queues (none is exclusive, so it owns nothing). */
const IMPORT_CONNECTION = 'definitions-import';

/** This process as RabbitMQ's /api/nodes describes a node: what Warren has a value for. */
async function nodeInfo(name: string, ctx: FrontendContext): Promise<NodeJson> {
  const disk = await statfs(ctx.config.dataDir).catch(() => undefined);
  const fds = await readdir('/proc/self/fd').catch(() => undefined);
  return {
    name, type: 'disc', running: true, os_pid: String(process.pid), uptime: Math.round(process.uptime() * 1000),
    mem_used: process.memoryUsage.rss(), mem_limit: memoryLimitBytes(ctx.config), mem_alarm: ctx.blocked,
    ...(disk !== undefined ? { disk_free: disk.bavail * disk.bsize } : {}), disk_free_alarm: false,
    ...(fds !== undefined ? { fd_used: fds.length } : {}), sockets_used: ctx.connections.size, processors: availableParallelism(),
  };
}

function splitPeer(peer: string): [string, number] {
  const i = peer.lastIndexOf(':');
  return i < 0 ? [peer, 0] : [peer.slice(0, i), Number(peer.slice(i + 1))];
}
