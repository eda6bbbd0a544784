// What the frontend needs from the metadata layer (vhosts, users, permissions, exchanges, bindings,
// queue records, routing). In the embedded broker it is the in-process metadata state machine
// (src/meta); with clustering it becomes a cache of the metadata Raft group. Every method throws
// AmqpError with RabbitMQ's reply code and text when a rule is broken.
import type { FieldTable } from '../amqp/table.js';

export interface AuthUser {
  readonly name: string;
  readonly tags: readonly string[];
  /** RabbitMQ's loopback_users: may connect only from a loopback address. */
  readonly loopbackOnly: boolean;
}

export type Access = 'configure' | 'write' | 'read';
export type ResourceKind = 'queue' | 'exchange';

export interface ExchangeDeclaration {
  readonly vhost: string;
  readonly name: string;
  readonly type: string;
  readonly passive: boolean;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: FieldTable;
}

export interface QueueDeclaration {
  readonly vhost: string;
  /** '' for a server-named queue: 'amq.gen-' + nameSuffix. */
  readonly name: string;
  readonly nameSuffix?: string;
  readonly passive: boolean;
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  readonly arguments: FieldTable;
  /** The declaring connection, owner of an exclusive queue. */
  readonly connectionId: string;
}

export interface QueueInfo {
  readonly vhost: string;
  readonly name: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  /** Connection id owning an exclusive queue, else undefined. */
  readonly exclusiveOwner: string | undefined;
  readonly arguments: FieldTable;
}

/**
 * Reads (authenticate, access checks, useQueue, route) answer from this frontend's applied view
 * at once; changes are asynchronous.
 */
export interface MetaPort {
  authenticate(user: string, password: string): AuthUser | undefined;
  /** Whether a user of that name exists (to log why a login was refused; never told to the client). */
  userExists(user: string): boolean;
  /** connection.open: the vhost exists and the user may use it (530 NOT_ALLOWED otherwise). */
  openVhost(user: AuthUser, vhost: string): void;
  /** Throws 403 ACCESS_REFUSED when `user` lacks `access` on the resource. */
  checkAccess(user: AuthUser, vhost: string, access: Access, kind: ResourceKind, name: string): void;

  // Changes resolve once this frontend's view applied them (with replication: once the change is
  // committed and the local cache has applied it), so a method that follows on the same channel
  // sees it; they reject with AmqpError.
  declareExchange(d: ExchangeDeclaration): Promise<void>;
  deleteExchange(vhost: string, name: string, ifUnused: boolean): Promise<void>;
  bindExchange(vhost: string, destination: string, source: string, routingKey: string, args: FieldTable): Promise<void>;
  unbindExchange(vhost: string, destination: string, source: string, routingKey: string, args: FieldTable): Promise<void>;

  /** Creates or checks (passive / equivalence) a queue record; resolves with the record and whether it was created. */
  declareQueue(d: QueueDeclaration): Promise<{ readonly queue: QueueInfo; readonly created: boolean }>;
  /** Looks a queue up for use by `connectionId`: 404 when missing, 405 when exclusive to another connection. */
  useQueue(vhost: string, name: string, connectionId: string): QueueInfo;
  /** 405 when the queue is exclusive to a connection other than `connectionId`. */
  bindQueue(vhost: string, queue: string, exchange: string, routingKey: string, args: FieldTable, connectionId: string): Promise<void>;
  unbindQueue(vhost: string, queue: string, exchange: string, routingKey: string, args: FieldTable, connectionId: string): Promise<void>;
  /** Removes the record and its bindings (auto-deleting exchanges as RabbitMQ does). */
  deleteQueue(vhost: string, name: string): Promise<void>;
  /** Exclusive queues owned by a connection, deleted when it closes. */
  exclusiveQueues(connectionId: string): readonly QueueInfo[];

  /**
   * The publish hot path: appends the names of the queues a message routes to (following
   * exchange-to-exchange bindings and alternate exchanges; each queue once) to `out`.
   * 404 for a missing exchange, 403 for an internal one.
   */
  route(vhost: string, exchange: string, routingKey: string, headers: FieldTable | undefined, out: string[]): void;

  /**
   * Present when reads answer from a cache that may trail changes made elsewhere (a cluster
   * frontend's view of the metadata group): resolves once the view applied every change committed
   * before the call, so a lookup that failed may be tried once more and its answer trusted.
   */
  sync?(): Promise<void>;

  /**
   * With sync: whether the view created this exchange a moment ago, so that a publish it routes
   * nowhere may only mean bindings made elsewhere just after are not in the view yet.
   */
  recentlyCreated?(vhost: string, exchange: string): boolean;
}
