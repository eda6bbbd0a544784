// Records and commands of the metadata state machine.
//
// Commands are plain serialisable objects (no functions, no class instances, no Dates): they are what
// the metadata Raft group will replicate. Applying the same commands in the same order to the same
// initial state gives the same state on every replica — nothing here reads a clock or a random source;
// values that need one (salts, server-named queue suffixes, partitions) arrive in the command.

import type { FieldTable } from '../amqp/table.js';
import type { ExchangeType } from '../routing/types.js';
import type { PlacementRecord } from './placement.js';

export interface ExchangeRecord {
  readonly vhost: string;
  readonly name: string;
  readonly type: ExchangeType;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: FieldTable;
}

export interface QueueRecord {
  readonly vhost: string;
  readonly name: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  /** Connection id owning an exclusive queue, else undefined. */
  readonly exclusiveOwner: string | undefined;
  readonly arguments: FieldTable;
  /** Partition chosen by the proposer at declare time (DESIGN §2); undefined in the embedded broker. */
  readonly partition: number | undefined;
}

export interface BindingRecord {
  readonly vhost: string;
  readonly source: string;
  readonly destinationKind: 'queue' | 'exchange';
  readonly destination: string;
  readonly routingKey: string;
  readonly arguments: FieldTable;
}

export interface UserRecord {
  readonly name: string;
  /** RabbitMQ's rabbit_password_hashing_sha256 format: base64(salt(4) ++ sha256(salt ++ password)). */
  readonly passwordHash: string;
  readonly tags: readonly string[];
  /** RabbitMQ's loopback_users: this user may connect only from a loopback address. */
  readonly loopbackOnly: boolean;
}

/** Per user per vhost: regular expressions matched against resource names (RabbitMQ semantics, see users.ts). */
export interface PermissionRecord {
  readonly user: string;
  readonly vhost: string;
  readonly configure: string;
  readonly write: string;
  readonly read: string;
}

export type Access = 'configure' | 'write' | 'read';

export type MetaCommand =
  | { readonly type: 'vhost.add'; readonly name: string }
  | { readonly type: 'vhost.delete'; readonly name: string }
  | { readonly type: 'user.put'; readonly name: string; readonly passwordHash: string; readonly tags: readonly string[]; readonly loopbackOnly?: boolean }
  | { readonly type: 'user.delete'; readonly name: string }
  | { readonly type: 'permissions.set'; readonly user: string; readonly vhost: string; readonly configure: string; readonly write: string; readonly read: string }
  | { readonly type: 'permissions.clear'; readonly user: string; readonly vhost: string }
  | ExchangeDeclareCommand
  | { readonly type: 'exchange.delete'; readonly vhost: string; readonly name: string; readonly ifUnused: boolean }
  | QueueDeclareCommand
  | QueueDeleteCommand
  | BindingCommand
  | { readonly type: 'connection.closed'; readonly connection: string }
  /**
   * The broker restarted: non-durable queues (and exclusive ones, whose connections are gone),
   * non-durable exchanges and the bindings they had go, as they do in RabbitMQ.
   */
  | { readonly type: 'transient.purge' }
  /** A cluster frontend's session lease (src/meta/sessions.ts); ttlMs 0 = the default. */
  | { readonly type: 'session.open'; readonly frontend: string; readonly ttlMs: number; readonly http?: string }
  /** The lease expired (proposed by the metadata leader) or its frontend closed it. */
  | { readonly type: 'session.end'; readonly lease: number }
  /**
   * The placement of partitions on owners (src/meta/placement.ts): accepted when there is none and
   * its epoch is 1, or when its epoch is the current one + 1.
   */
  | { readonly type: 'placement.set'; readonly placement: PlacementRecord }
  /** Several commands applied whole or not at all (definitions import). */
  | { readonly type: 'batch'; readonly commands: readonly MetaCommand[] };

export interface ExchangeDeclareCommand {
  readonly type: 'exchange.declare';
  readonly vhost: string;
  readonly name: string;
  /** As sent by the client; validated here (503 for an unknown type). */
  readonly exchangeType: string;
  readonly passive: boolean;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: FieldTable;
}

export interface QueueDeclareCommand {
  readonly type: 'queue.declare';
  readonly vhost: string;
  /** '' asks for a server-named queue: 'amq.gen-' + nameSuffix. */
  readonly name: string;
  /** Random suffix for a server-named queue, drawn by the proposer (the machine has no randomness). */
  readonly nameSuffix?: string;
  readonly passive: boolean;
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  readonly arguments: FieldTable;
  /** The declaring connection: owner of an exclusive queue, and checked against existing ones. */
  readonly connection: string;
  readonly partition?: number;
}

export interface QueueDeleteCommand {
  readonly type: 'queue.delete';
  readonly vhost: string;
  readonly name: string;
  /** When given, the queue must not be exclusive to another connection (405). */
  readonly connection?: string;
  readonly ifUnused?: boolean;
  readonly ifEmpty?: boolean;
  /** Observed by the proposer on the queue's partition, for if-unused / if-empty. */
  readonly consumerCount?: number;
  readonly messageCount?: number;
}

/** The binding to add or remove, plus the command's type. */
export interface BindingCommand extends BindingRecord {
  readonly type: 'binding.add' | 'binding.remove';
  /** For queue destinations: the connection, checked against an exclusive queue's owner (405). */
  readonly connection?: string;
}

export interface MetaResult {
  /** exchange.declare / queue.declare: whether the entity was created by this command. */
  readonly created?: boolean;
  /** queue.declare (also passive): the queue record. */
  readonly queue?: QueueRecord;
  /** Queues removed by this command (queue.delete, vhost.delete, connection.closed): owners drop their messages. */
  readonly deletedQueues?: readonly QueueRecord[];
  /** Exchanges removed by this command, auto-deleted ones included. */
  readonly deletedExchanges?: readonly { readonly vhost: string; readonly name: string }[];
  /** session.open: the lease opened. */
  readonly lease?: number;
  /** batch: the result of each command, in order. */
  readonly batch?: readonly MetaResult[];
}
