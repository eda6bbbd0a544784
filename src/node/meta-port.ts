// The embedded broker's metadata: the metadata state machine applied in-process, seen by the
// frontend through MetaPort. With clustering, commands go through the metadata Raft group instead
// and this adapter is replaced by a cache that applies the committed log.
import type { WarrenConfig } from '../config.js';
import type { FieldTable } from '../amqp/table.js';
import type { AuthUser, MetaPort } from '../frontend/ports.js';
import { MetaMachine } from '../meta/machine.js';
import type { UserRecord } from '../meta/types.js';
import type { Message } from '../owner/api.js';
import { attempt } from '../util/settle.js';

/** The default user's salt is fixed so every replica derives the same initial state. */
const DEFAULT_USER_SALT = Uint8Array.of(0x57, 0x61, 0x72, 0x6e);

export interface LocalMeta {
  readonly machine: MetaMachine;
  readonly port: MetaPort;
  /** Salt source for new users' password hashes. */
  readonly salt: () => Uint8Array;
  /** Queues a dead-lettered message reaches; [] when the dead-letter exchange does not exist. */
  routeDeadLetter(vhost: string, exchange: string, routingKey: string, message: Message): readonly string[];
}

function authUser(u: UserRecord): AuthUser {
  return { name: u.name, tags: u.tags, loopbackOnly: u.loopbackOnly };
}

export function createLocalMeta(config: WarrenConfig, salt: () => Uint8Array): LocalMeta {
  const machine = new MetaMachine({
    defaultUser: {
      name: config.defaultUser, password: config.defaultPass, salt: DEFAULT_USER_SALT,
      loopbackOnly: config.defaultUser === 'guest',
    },
  });
  if (config.defaultVhost !== '/') machine.apply({ type: 'vhost.add', name: config.defaultVhost });

  const binding = (type: 'binding.add' | 'binding.remove', kind: 'queue' | 'exchange') =>
    (vhost: string, destination: string, source: string, routingKey: string, args: FieldTable, connection?: string): Promise<void> =>
      attempt(() => {
        machine.apply({
          type, vhost, source, destinationKind: kind, destination, routingKey, arguments: args,
          ...(connection !== undefined ? { connection } : {}),
        });
      });

  const port: MetaPort = {
    authenticate: (user, password) => {
      const u = machine.authenticate(user, password);
      return u && authUser(u);
    },
    userExists: (user) => machine.getUser(user) !== undefined,
    openVhost: (user, vhost) => machine.checkVhostAccess(user.name, vhost),
    checkAccess: (user, vhost, access, kind, name) => machine.checkPermission(user.name, vhost, access, kind, name),
    declareExchange: (d) => attempt(() => {
      machine.apply({
        type: 'exchange.declare', vhost: d.vhost, name: d.name, exchangeType: d.type, passive: d.passive,
        durable: d.durable, autoDelete: d.autoDelete, internal: d.internal, arguments: d.arguments,
      });
    }),
    deleteExchange: (vhost, name, ifUnused) => attempt(() => {
      machine.apply({ type: 'exchange.delete', vhost, name, ifUnused });
    }),
    bindExchange: binding('binding.add', 'exchange'),
    unbindExchange: binding('binding.remove', 'exchange'),
    declareQueue: (d) => attempt(() => {
      const r = machine.apply({
        type: 'queue.declare', vhost: d.vhost, name: d.name, ...(d.nameSuffix !== undefined ? { nameSuffix: d.nameSuffix } : {}),
        passive: d.passive, durable: d.durable,
        exclusive: d.exclusive, autoDelete: d.autoDelete, arguments: d.arguments, connection: d.connectionId,
      });
      return { queue: r.queue!, created: r.created ?? false };
    }),
    useQueue: (vhost, name, connectionId) => machine.useQueue(vhost, name, connectionId),
    bindQueue: binding('binding.add', 'queue'),
    unbindQueue: binding('binding.remove', 'queue'),
    deleteQueue: (vhost, name) => attempt(() => {
      machine.apply({ type: 'queue.delete', vhost, name });
    }),
    exclusiveQueues: (connectionId) => machine.exclusiveQueues(connectionId),
    route: (vhost, exchange, routingKey, headers, out) => machine.route(vhost, exchange, routingKey, headers, out),
  };

  return {
    machine, port, salt,
    routeDeadLetter: (vhost, exchange, routingKey, message) => {
      const out: string[] = [];
      try {
        machine.route(vhost, exchange, routingKey, message.properties.headers, out);
      } catch {
        return []; // the dead-letter exchange does not exist: RabbitMQ drops the message
      }
      return out;
    },
  };
}
