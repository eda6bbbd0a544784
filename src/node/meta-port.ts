// The frontend's MetaPort over a metadata backend: reads answer from the applied state at once;
// changes go through the backend (the metadata Raft group in the broker, or the machine applied
// in-process in tests) and resolve once the applied state reflects them, so the method that
// follows on the same channel sees them.
import type { WarrenConfig } from '../config.js';
import type { FieldTable } from '../amqp/table.js';
import type { AuthUser, MetaPort } from '../frontend/ports.js';
import { MetaMachine } from '../meta/machine.js';
import type { MetaCommand, MetaResult, UserRecord } from '../meta/types.js';
import type { Message } from '../owner/api.js';
import { attempt } from '../util/settle.js';

/** The default user's salt is fixed so every replica derives the same initial state. */
const DEFAULT_USER_SALT = Uint8Array.of(0x57, 0x61, 0x72, 0x6e);

/** Where metadata changes are applied, and the state they are applied to. */
export interface MetaBackend {
  /** The applied state (it may be replaced when the backend recovers: always read it through here). */
  readonly machine: MetaMachine;
  /** Commits and applies `cmd`; rejects with the AmqpError the machine refused it with. */
  apply(cmd: MetaCommand): Promise<MetaResult>;
  /** A cache of a replicated machine (a cluster frontend): waits until it applied everything committed before the call. */
  sync?(): Promise<void>;
  /** With sync: whether the cache created this exchange a moment ago (MetaPort.recentlyCreated). */
  recentlyCreated?(vhost: string, exchange: string): boolean;
}

export interface LocalMeta {
  readonly backend: MetaBackend;
  readonly port: MetaPort;
  /** Salt source for new users' password hashes. */
  readonly salt: () => Uint8Array;
  /** Queues a dead-lettered message reaches; [] when the dead-letter exchange does not exist. */
  routeDeadLetter(vhost: string, exchange: string, routingKey: string, message: Message): readonly string[];
}

function authUser(u: UserRecord): AuthUser {
  return { name: u.name, tags: u.tags, loopbackOnly: u.loopbackOnly };
}

/** A new broker's metadata: the default vhost(s) and the configured default user. */
export function initialMeta(config: WarrenConfig): MetaMachine {
  const machine = new MetaMachine({
    defaultUser: {
      name: config.defaultUser, password: config.defaultPass, salt: DEFAULT_USER_SALT,
      loopbackOnly: config.defaultUser === 'guest',
    },
  });
  if (config.defaultVhost !== '/') machine.apply({ type: 'vhost.add', name: config.defaultVhost });
  return machine;
}

/** Whether a queue's record places it in a partition (durable and not exclusive); the rest live in one owner's memory. */
export function livesInPartition(machine: MetaMachine, q: { readonly vhost: string; readonly name: string }): boolean {
  const r = machine.getQueue(q.vhost, q.name);
  return r !== undefined && r.durable && r.exclusiveOwner === undefined;
}

/** The machine applied in-process, at once (unit tests; no durability). */
export function memoryBackend(machine: MetaMachine): MetaBackend {
  return { machine, apply: (cmd) => attempt(() => machine.apply(cmd)) };
}

export function createMeta(backend: MetaBackend, salt: () => Uint8Array): LocalMeta {
  const m = (): MetaMachine => backend.machine;
  const change = (cmd: MetaCommand): Promise<void> => backend.apply(cmd).then(() => undefined);
  const binding = (type: 'binding.add' | 'binding.remove', kind: 'queue' | 'exchange') =>
    (vhost: string, destination: string, source: string, routingKey: string, args: FieldTable, connection?: string): Promise<void> =>
      change({
        type, vhost, source, destinationKind: kind, destination, routingKey, arguments: args,
        ...(connection !== undefined ? { connection } : {}),
      });

  const port: MetaPort = {
    authenticate: (user, password) => {
      const u = m().authenticate(user, password);
      return u && authUser(u);
    },
    userExists: (user) => m().getUser(user) !== undefined,
    openVhost: (user, vhost) => m().checkVhostAccess(user.name, vhost),
    checkAccess: (user, vhost, access, kind, name) => m().checkPermission(user.name, vhost, access, kind, name),
    declareExchange: (d) => change({
      type: 'exchange.declare', vhost: d.vhost, name: d.name, exchangeType: d.type, passive: d.passive,
      durable: d.durable, autoDelete: d.autoDelete, internal: d.internal, arguments: d.arguments,
    }),
    deleteExchange: (vhost, name, ifUnused) => change({ type: 'exchange.delete', vhost, name, ifUnused }),
    bindExchange: binding('binding.add', 'exchange'),
    unbindExchange: binding('binding.remove', 'exchange'),
    declareQueue: async (d) => {
      const r = await backend.apply({
        type: 'queue.declare', vhost: d.vhost, name: d.name, ...(d.nameSuffix !== undefined ? { nameSuffix: d.nameSuffix } : {}),
        passive: d.passive, durable: d.durable,
        exclusive: d.exclusive, autoDelete: d.autoDelete, arguments: d.arguments, connection: d.connectionId,
      });
      return { queue: r.queue!, created: r.created ?? false };
    },
    useQueue: (vhost, name, connectionId) => m().useQueue(vhost, name, connectionId),
    bindQueue: binding('binding.add', 'queue'),
    unbindQueue: binding('binding.remove', 'queue'),
    deleteQueue: (vhost, name) => change({ type: 'queue.delete', vhost, name }),
    exclusiveQueues: (connectionId) => m().exclusiveQueues(connectionId),
    route: (vhost, exchange, routingKey, headers, out) => m().route(vhost, exchange, routingKey, headers, out),
    ...(backend.sync !== undefined ? { sync: backend.sync.bind(backend) } : {}),
    ...(backend.recentlyCreated !== undefined ? { recentlyCreated: backend.recentlyCreated.bind(backend) } : {}),
  };

  return {
    backend, port, salt,
    routeDeadLetter: (vhost, exchange, routingKey, message) => {
      const out: string[] = [];
      try {
        m().route(vhost, exchange, routingKey, message.properties.headers, out);
      } catch {
        return []; // the dead-letter exchange does not exist: RabbitMQ drops the message
      }
      return out;
    },
  };
}

/** The in-process metadata of a broker without durability (unit tests). */
export function createLocalMeta(config: WarrenConfig, salt: () => Uint8Array): LocalMeta {
  return createMeta(memoryBackend(initialMeta(config)), salt);
}
