// AdminSource (what the HTTP management API and /metrics read and write) over the embedded broker:
// the metadata machine, the in-process owner and the frontend's connections and counters.
import { AmqpError } from '../amqp/errors.js';
import type { FieldTable } from '../amqp/table.js';
import {
  AdminError, type AdminSource, type AdminStats, type BindingInfo, type ConnectionInfo, type Definitions,
  type ExchangeInfo, type PutOutcome, type QueueInfo, type UserInfo,
} from '../admin/source.js';
import type { FrontendContext } from '../frontend/context.js';
import { PRODUCT, VERSION } from '../frontend/server-properties.js';
import { hashPassword } from '../meta/users.js';
import { queueTypeOf } from '../meta/queue-args.js';
import type { QueueRecord } from '../meta/types.js';
import type { LocalOwner } from '../owner/local.js';
import type { LocalMeta } from './meta-port.js';

/** AMQP errors from the metadata machine become HTTP errors with the same reason text. */
function adminCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof AmqpError) {
      throw err.replyCode === 404 ? AdminError.notFound(err.replyText) : AdminError.badRequest(err.replyText);
    }
    throw err;
  }
}

export function createAdminSource(ctx: FrontendContext, meta: LocalMeta, owner: LocalOwner): AdminSource {
  const m = meta.machine;

  const queueInfo = (q: QueueRecord): QueueInfo => {
    const s = owner.stats({ vhost: q.vhost, name: q.name });
    return {
      name: q.name, vhost: q.vhost, durable: q.durable, auto_delete: q.autoDelete, exclusive: q.exclusiveOwner !== undefined,
      arguments: q.arguments, type: queueTypeOf(q.arguments), state: 'running', node: 'warren@localhost',
      messages: (s?.messages ?? 0) + (s?.unacked ?? 0), messages_ready: s?.messages ?? 0,
      messages_unacknowledged: s?.unacked ?? 0, message_bytes: s?.bytes ?? 0, consumers: s?.consumers ?? 0,
    };
  };
  const exchanges = (vhost?: string): ExchangeInfo[] => m.listExchanges(vhost).map((x) => ({
    name: x.name, vhost: x.vhost, type: x.type, durable: x.durable, auto_delete: x.autoDelete, internal: x.internal,
    arguments: x.arguments,
  }));
  const bindings = (vhost?: string): BindingInfo[] => m.listBindings(vhost, true).map((b) => ({
    source: b.source, vhost: b.vhost, destination: b.destination, destination_type: b.destinationKind,
    routing_key: b.routingKey, arguments: b.arguments, properties_key: b.routingKey === '' ? '~' : b.routingKey,
  }));
  const connections = (): ConnectionInfo[] => [...ctx.connections].map((c) => {
    const i = c.info();
    const [host, port] = splitPeer(i.peer);
    return {
      name: i.id, vhost: i.vhost ?? '', user: i.user ?? '', node: 'warren@localhost', peer_host: host, peer_port: port,
      channels: i.channels, state: 'running', protocol: 'AMQP 0-9-1', ssl: i.tls, connected_at: i.connectedAtMs,
      client_properties: i.clientProperties,
    };
  });

  const stats = (): AdminStats => {
    let ready = 0, unacked = 0, consumers = 0, queues = 0;
    const perQueue = [];
    for (const { ref, stats } of owner.list()) {
      queues++; ready += stats.messages; unacked += stats.unacked; consumers += stats.consumers;
      perQueue.push({ vhost: ref.vhost, queue: ref.name, ready: stats.messages, unacked: stats.unacked, consumers: stats.consumers });
    }
    let channels = 0;
    for (const c of ctx.connections) channels += c.info().channels;
    const k = ctx.counters;
    return {
      connections: ctx.connections.size, channels, consumers, queues, exchanges: m.listExchanges().length,
      vhosts: m.listVhosts().length, messagesReady: ready, messagesUnacked: unacked,
      publishedTotal: k.published, deliveredTotal: k.delivered, acknowledgedTotal: k.acked, confirmedTotal: k.confirmed,
      redeliveredTotal: 0, unroutableTotal: k.returned, connectionsOpenedTotal: k.connectionsOpened,
      connectionsClosedTotal: k.connectionsClosed, ...(perQueue.length <= 1000 ? { perQueue } : {}),
    };
  };
  const users = (): UserInfo[] => m.listUsers().map((u) => ({
    name: u.name, tags: u.tags, password_hash: u.passwordHash, hashing_algorithm: 'rabbit_password_hashing_sha256',
  }));

  const source: AdminSource = {
    authenticate: (user, password) => m.authenticate(user, password)?.tags,
    isReady: () => true,
    stats,
    overview: () => {
      const s = stats();
      return {
        product_name: PRODUCT, product_version: VERSION, cluster_name: 'warren', node: 'warren@localhost',
        object_totals: { connections: s.connections, channels: s.channels, exchanges: s.exchanges, queues: s.queues, consumers: s.consumers },
        queue_totals: { messages: s.messagesReady + s.messagesUnacked, messages_ready: s.messagesReady, messages_unacknowledged: s.messagesUnacked },
        message_stats: { publish: s.publishedTotal, deliver_get: s.deliveredTotal, ack: s.acknowledgedTotal, confirm: s.confirmedTotal },
        listeners: [{ node: 'warren@localhost', protocol: 'amqp', ip_address: ctx.config.bind[0] ?? '::', port: ctx.config.amqpPort }],
      };
    },
    listVhosts: () => m.listVhosts().map((name) => ({ name })),
    putVhost: (name): PutOutcome => {
      const existed = m.hasVhost(name);
      m.apply({ type: 'vhost.add', name });
      return existed ? 'updated' : 'created';
    },
    deleteVhost: (name) => {
      if (!m.hasVhost(name)) throw AdminError.notFound();
      const r = m.apply({ type: 'vhost.delete', name });
      for (const q of r.deletedQueues ?? []) owner.deleteQueue({ vhost: q.vhost, name: q.name });
    },
    listUsers: users,
    putUser: (name, update): PutOutcome => {
      const existed = m.getUser(name) !== undefined;
      const hash = update.password_hash ?? (update.password !== undefined ? hashPassword(update.password, meta.salt()) : undefined);
      if (hash === undefined) throw AdminError.badRequest('password or password_hash required');
      m.apply({ type: 'user.put', name, passwordHash: hash, tags: update.tags });
      return existed ? 'updated' : 'created';
    },
    deleteUser: (name) => {
      if (m.getUser(name) === undefined) throw AdminError.notFound();
      m.apply({ type: 'user.delete', name });
    },
    listPermissions: () => m.listPermissions(),
    putPermissions: (vhost, user, p): PutOutcome => {
      adminCall(() => m.apply({ type: 'permissions.set', user, vhost, configure: p.configure, write: p.write, read: p.read }));
      return 'created';
    },
    listQueues: (vhost) => m.listQueues(vhost).map(queueInfo),
    listExchanges: exchanges,
    listBindings: bindings,
    listConnections: connections,
    exportDefinitions: (): Definitions => ({
      product_name: PRODUCT, product_version: VERSION,
      users: users(),
      vhosts: m.listVhosts().map((name) => ({ name })),
      permissions: m.listPermissions(),
      queues: m.listQueues().filter((q) => q.exclusiveOwner === undefined).map((q) => {
        const { exclusive: _exclusive, ...rest } = queueInfo(q);
        void _exclusive;
        return rest;
      }),
      exchanges: exchanges().filter((x) => x.name !== '' && !x.name.startsWith('amq.')),
      bindings: bindings().filter((b) => b.source !== ''),
    }),
    importDefinitions: (defs) => adminCall(() => importDefinitions(meta, owner, defs)),
  };
  return source;
}

function importDefinitions(meta: LocalMeta, owner: LocalOwner, defs: Definitions): void {
  const m = meta.machine;
  for (const v of defs.vhosts ?? []) m.apply({ type: 'vhost.add', name: v.name });
  for (const u of defs.users ?? []) {
    if (u.password_hash === undefined) continue;
    m.apply({ type: 'user.put', name: u.name, passwordHash: u.password_hash, tags: u.tags });
  }
  for (const p of defs.permissions ?? []) {
    m.apply({ type: 'permissions.set', user: p.user, vhost: p.vhost, configure: p.configure, write: p.write, read: p.read });
  }
  for (const x of defs.exchanges ?? []) {
    m.apply({
      type: 'exchange.declare', vhost: x.vhost, name: x.name, exchangeType: x.type, passive: false, durable: x.durable,
      autoDelete: x.auto_delete, internal: x.internal, arguments: x.arguments as FieldTable,
    });
  }
  for (const q of defs.queues ?? []) {
    const r = m.apply({
      type: 'queue.declare', vhost: q.vhost, name: q.name, passive: false, durable: q.durable, exclusive: false,
      autoDelete: q.auto_delete, arguments: q.arguments as FieldTable, connection: 'definitions-import',
    });
    void owner.declareQueue({ vhost: q.vhost, name: r.queue?.name ?? q.name }, { arguments: q.arguments, autoDelete: q.auto_delete });
  }
  for (const b of defs.bindings ?? []) {
    m.apply({
      type: 'binding.add', vhost: b.vhost, source: b.source, destinationKind: b.destination_type,
      destination: b.destination, routingKey: b.routing_key, arguments: b.arguments as FieldTable,
    });
  }
}

function splitPeer(peer: string): [string, number] {
  const i = peer.lastIndexOf(':');
  return i < 0 ? [peer, 0] : [peer.slice(0, i), Number(peer.slice(i + 1))];
}
