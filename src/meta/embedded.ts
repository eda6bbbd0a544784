// The embedded (single-node, in-process) metadata service: the frontend's MetaPort
// (src/frontend/ports.ts) over one MetaMachine. It turns port calls into commands and applies them
// directly; with clustering the same commands go through the metadata Raft group instead.
//
// This shell, not the machine, draws randomness: server-named queue suffixes come from
// `randomSuffix` (crypto by default, injectable for tests). It implements MetaPort structurally so
// that src/meta does not import the frontend layer; test/unit/meta/embedded.test.ts checks the fit.

import { randomBytes } from 'node:crypto';
import type { FieldTable } from '../amqp/table.js';
import type { ResourceKind } from './errors.js';
import { MetaMachine, type MetaOptions } from './machine.js';
import type { Access, QueueRecord } from './types.js';

export interface EmbeddedUser {
  readonly name: string;
  readonly tags: readonly string[];
  readonly loopbackOnly: boolean;
}

export interface EmbeddedMetaOptions extends MetaOptions {
  /** Suffix for 'amq.gen-' queue names; 22 url-safe base64 characters by default, like RabbitMQ's. */
  readonly randomSuffix?: () => string;
}

function defaultSuffix(): string {
  return randomBytes(16).toString('base64url').slice(0, 22);
}

export class EmbeddedMeta {
  readonly machine: MetaMachine;
  private readonly randomSuffix: () => string;

  constructor(options: EmbeddedMetaOptions = {}) {
    this.machine = new MetaMachine(options);
    this.randomSuffix = options.randomSuffix ?? defaultSuffix;
  }

  authenticate(user: string, password: string): EmbeddedUser | undefined {
    const u = this.machine.authenticate(user, password);
    return u === undefined ? undefined : { name: u.name, tags: u.tags, loopbackOnly: u.loopbackOnly };
  }

  openVhost(user: EmbeddedUser, vhost: string): void {
    this.machine.checkVhostAccess(user.name, vhost);
  }

  checkAccess(user: EmbeddedUser, vhost: string, access: Access, kind: ResourceKind, name: string): void {
    this.machine.checkPermission(user.name, vhost, access, kind, name);
  }

  declareExchange(d: {
    vhost: string; name: string; type: string; passive: boolean; durable: boolean; autoDelete: boolean;
    internal: boolean; arguments: FieldTable;
  }): void {
    this.machine.apply({
      type: 'exchange.declare', vhost: d.vhost, name: d.name, exchangeType: d.type, passive: d.passive,
      durable: d.durable, autoDelete: d.autoDelete, internal: d.internal, arguments: d.arguments,
    });
  }

  deleteExchange(vhost: string, name: string, ifUnused: boolean): void {
    this.machine.apply({ type: 'exchange.delete', vhost, name, ifUnused });
  }

  bindExchange(vhost: string, destination: string, source: string, routingKey: string, args: FieldTable): void {
    this.machine.apply({ type: 'binding.add', vhost, source, destinationKind: 'exchange', destination, routingKey, arguments: args });
  }

  unbindExchange(vhost: string, destination: string, source: string, routingKey: string, args: FieldTable): void {
    this.machine.apply({ type: 'binding.remove', vhost, source, destinationKind: 'exchange', destination, routingKey, arguments: args });
  }

  declareQueue(d: {
    vhost: string; name: string; passive: boolean; durable: boolean; exclusive: boolean; autoDelete: boolean;
    arguments: FieldTable; connectionId: string; nameSuffix?: string;
  }): { readonly queue: QueueRecord; readonly created: boolean } {
    const r = this.machine.apply({
      type: 'queue.declare', vhost: d.vhost, name: d.name, passive: d.passive, durable: d.durable,
      exclusive: d.exclusive, autoDelete: d.autoDelete, arguments: d.arguments, connection: d.connectionId,
      ...(d.name === '' && !d.passive ? { nameSuffix: d.nameSuffix ?? this.randomSuffix() } : {}),
    });
    return { queue: r.queue!, created: r.created ?? false };
  }

  useQueue(vhost: string, name: string, connectionId: string): QueueRecord {
    return this.machine.useQueue(vhost, name, connectionId);
  }

  bindQueue(vhost: string, queue: string, exchange: string, routingKey: string, args: FieldTable): void {
    this.machine.apply({ type: 'binding.add', vhost, source: exchange, destinationKind: 'queue', destination: queue, routingKey, arguments: args });
  }

  unbindQueue(vhost: string, queue: string, exchange: string, routingKey: string, args: FieldTable): void {
    this.machine.apply({ type: 'binding.remove', vhost, source: exchange, destinationKind: 'queue', destination: queue, routingKey, arguments: args });
  }

  deleteQueue(vhost: string, name: string): void {
    this.machine.apply({ type: 'queue.delete', vhost, name });
  }

  exclusiveQueues(connectionId: string): readonly QueueRecord[] {
    return this.machine.exclusiveQueues(connectionId);
  }

  route(vhost: string, exchange: string, routingKey: string, headers: FieldTable | undefined, out: string[]): void {
    this.machine.route(vhost, exchange, routingKey, headers, out);
  }
}
