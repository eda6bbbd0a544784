// The metadata state machine of one broker (Ra style): `apply(command)` returns a result or throws
// AmqpError, and read-only queries answer from the applied state.
//
// Contract for apply(): a command that throws has changed nothing (every handler validates before it
// mutates), so a replica that applies a log entry whose command fails stays identical to the others.
// Deterministic: no clock, no randomness, no I/O; Map iteration is insertion order, so listings are
// the same on every replica.

import { AmqpError, ReplyCode } from '../amqp/errors.js';
import type { Headers } from '../routing/values.js';
import { addBinding, removeBinding } from './bindings.js';
import { notFound, resourceAccessRefused, vhostAccessRefused, type ResourceKind } from './errors.js';
import { declareExchange, deleteExchange } from './exchanges.js';
import { checkExclusiveAccess, declareQueue, deleteQueue, dropConnection } from './queues.js';
import { Router } from './route.js';
import type {
  Access, BindingRecord, ExchangeRecord, MetaCommand, MetaResult, PermissionRecord, QueueRecord, UserRecord,
} from './types.js';
import { compilePermission, hashPassword, permits, verifyPassword, type CompiledPermission } from './users.js';
import { Sessions, type SessionsSnapshot } from './sessions.js';
import { acceptPlacement, type PlacementRecord } from './placement.js';
import { VhostState, type Removed } from './vhost.js';

export interface DefaultUser {
  readonly name: string;
  readonly password: string;
  /** 4 bytes; fixed by configuration so every replica derives the same initial state. */
  readonly salt: Uint8Array;
  readonly loopbackOnly: boolean;
}

export interface MetaOptions {
  /** The user created with the default vhost; RabbitMQ's guest/guest, loopback-only. null: none. */
  readonly defaultUser?: DefaultUser | null;
}

export const GUEST: DefaultUser = {
  name: 'guest', password: 'guest', salt: Uint8Array.of(0x57, 0x61, 0x72, 0x6e), loopbackOnly: true,
};

export const DEFAULT_VHOST = '/';

export interface MetaSnapshot {
  readonly vhosts: readonly string[];
  readonly users: readonly UserRecord[];
  readonly permissions: readonly PermissionRecord[];
  readonly exchanges: readonly ExchangeRecord[];
  readonly queues: readonly QueueRecord[];
  readonly bindings: readonly BindingRecord[];
  /** Frontend session leases (absent in states written before leases existed). */
  readonly sessions?: SessionsSnapshot;
  /** The placement of partitions on owners (a cluster's; none on an embedded broker or before bootstrap). */
  readonly placement?: PlacementRecord;
}

export class MetaMachine {
  private readonly vhosts = new Map<string, VhostState>();
  private readonly users = new Map<string, UserRecord>();
  /** By user, then vhost. */
  private readonly permissions = new Map<string, Map<string, CompiledPermission>>();
  private readonly router = new Router();
  /** Cluster frontends' session leases (none on an embedded broker). */
  readonly sessions = new Sessions();
  private placementRecord: PlacementRecord | undefined;

  constructor(options: MetaOptions = {}) {
    this.vhosts.set(DEFAULT_VHOST, new VhostState(DEFAULT_VHOST));
    const u = options.defaultUser === undefined ? GUEST : options.defaultUser;
    if (u !== null) {
      this.apply({ type: 'user.put', name: u.name, passwordHash: hashPassword(u.password, u.salt), tags: ['administrator'], loopbackOnly: u.loopbackOnly });
      this.apply({ type: 'permissions.set', user: u.name, vhost: DEFAULT_VHOST, configure: '.*', write: '.*', read: '.*' });
    }
  }

  apply(cmd: MetaCommand): MetaResult {
    switch (cmd.type) {
      case 'vhost.add':
        if (!this.vhosts.has(cmd.name)) this.vhosts.set(cmd.name, new VhostState(cmd.name));
        return {};
      case 'vhost.delete': return this.deleteVhost(cmd.name);
      case 'user.put':
        this.users.set(cmd.name, { name: cmd.name, passwordHash: cmd.passwordHash, tags: [...cmd.tags], loopbackOnly: cmd.loopbackOnly ?? false });
        return {};
      case 'user.delete':
        this.users.delete(cmd.name);
        this.permissions.delete(cmd.name);
        return {};
      case 'permissions.set': return this.setPermissions(cmd);
      case 'permissions.clear':
        this.permissions.get(cmd.user)?.delete(cmd.vhost);
        return {};
      case 'exchange.declare': return declareExchange(this.vhost(cmd.vhost), cmd);
      case 'exchange.delete': return deleteExchange(this.vhost(cmd.vhost), cmd.name, cmd.ifUnused);
      case 'queue.declare': return declareQueue(this.vhost(cmd.vhost), cmd);
      case 'queue.delete': return deleteQueue(this.vhost(cmd.vhost), cmd);
      case 'binding.add': return addBinding(this.vhost(cmd.vhost), cmd);
      case 'binding.remove': return removeBinding(this.vhost(cmd.vhost), cmd);
      case 'connection.closed': {
        const removed: Removed = { queues: [], exchanges: [] };
        for (const v of this.vhosts.values()) dropConnection(v, cmd.connection, removed);
        return { deletedQueues: removed.queues, deletedExchanges: removed.exchanges };
      }
      case 'session.open': return { lease: this.sessions.openLease(cmd.frontend, cmd.ttlMs, cmd.http) };
      case 'session.end':
        this.sessions.endLease(cmd.lease);
        return {};
      case 'placement.set':
        this.placementRecord = acceptPlacement(this.placementRecord, cmd.placement);
        return {};
      case 'batch': {
        // All or nothing: the commands are tried on a copy first, so a failing one changes nothing here.
        const trial = MetaMachine.restore(this.snapshot());
        for (const c of cmd.commands) trial.apply(c);
        return { batch: cmd.commands.map((c) => this.apply(c)) };
      }
      case 'transient.purge': {
        const removed: Removed = { queues: [], exchanges: [] };
        for (const v of this.vhosts.values()) v.purgeTransient(removed);
        return { deletedQueues: removed.queues, deletedExchanges: removed.exchanges };
      }
    }
  }

  private vhost(name: string): VhostState {
    const v = this.vhosts.get(name);
    // Unreachable through AMQP (connection.open checks the vhost); a 530 like RabbitMQ's for a vhost gone since.
    if (v === undefined) throw new AmqpError(ReplyCode.NotAllowed, `vhost ${name} not found`);
    return v;
  }

  private deleteVhost(name: string): MetaResult {
    const v = this.vhosts.get(name);
    if (v === undefined) return {};
    const removed: Removed = { queues: [...v.queues.values()], exchanges: [] };
    for (const x of v.exchanges.keys()) removed.exchanges.push({ vhost: name, name: x });
    this.vhosts.delete(name);
    for (const perUser of this.permissions.values()) perUser.delete(name);
    return { deletedQueues: removed.queues, deletedExchanges: removed.exchanges };
  }

  private setPermissions(cmd: Extract<MetaCommand, { type: 'permissions.set' }>): MetaResult {
    if (!this.users.has(cmd.user)) throw new AmqpError(ReplyCode.NotFound, `no user '${cmd.user}'`);
    if (!this.vhosts.has(cmd.vhost)) throw new AmqpError(ReplyCode.NotFound, `no vhost '${cmd.vhost}'`);
    const record: PermissionRecord = { user: cmd.user, vhost: cmd.vhost, configure: cmd.configure, write: cmd.write, read: cmd.read };
    const compiled = compilePermission(record); // throws before any change on a bad regex
    let perUser = this.permissions.get(cmd.user);
    if (perUser === undefined) this.permissions.set(cmd.user, (perUser = new Map()));
    perUser.set(cmd.vhost, compiled);
    return {};
  }

  // ------------------------------------------------------------------------------------------------
  // Queries (read-only)

  /** The user if the password matches its stored hash. */
  authenticate(user: string, password: string): UserRecord | undefined {
    const u = this.users.get(user);
    return u !== undefined && verifyPassword(u.passwordHash, password) ? u : undefined;
  }

  getUser(name: string): UserRecord | undefined {
    return this.users.get(name);
  }

  /** connection.open: 530 NOT_ALLOWED unless the vhost exists and the user has permissions on it. */
  checkVhostAccess(user: string, vhost: string): void {
    // RabbitMQ's texts (checked against 3.10): "vhost v not found" (no quotes) for a missing vhost.
    if (!this.vhosts.has(vhost)) throw new AmqpError(ReplyCode.NotAllowed, `vhost ${vhost} not found`);
    if (this.permissions.get(user)?.get(vhost) === undefined) throw vhostAccessRefused(vhost, user);
  }

  /** The placement in force; undefined until the metadata leader stored the first (a cluster's bootstrap). */
  get placement(): PlacementRecord | undefined {
    return this.placementRecord;
  }

  hasVhost(name: string): boolean {
    return this.vhosts.has(name);
  }

  /**
   * 403 ACCESS_REFUSED unless `user` may `access` the resource (rabbit_access_control). The default
   * exchange is checked, and reported, under the name 'amq.default' as RabbitMQ does.
   */
  checkPermission(user: string, vhost: string, access: Access, kind: ResourceKind, name: string): void {
    const resourceName = kind === 'exchange' && name === '' ? 'amq.default' : name;
    const p = this.permissions.get(user)?.get(vhost);
    if (p === undefined || !permits(p, access, resourceName)) throw resourceAccessRefused(kind, resourceName, vhost, user);
  }

  /** Appends the names of the queues a publish reaches to `out` (see route.ts). */
  route(vhost: string, exchange: string, routingKey: string, headers: Headers | undefined, out: string[]): void {
    const v = this.vhosts.get(vhost);
    if (v === undefined) throw notFound('exchange', exchange, vhost);
    this.router.route(v, exchange, routingKey, headers, out);
  }

  /** A queue for use by `connection`: 404 when missing, 405 when exclusive to another connection. */
  useQueue(vhost: string, name: string, connection: string): QueueRecord {
    const q = this.vhosts.get(vhost)?.queues.get(name);
    if (q === undefined) throw notFound('queue', name, vhost);
    checkExclusiveAccess(q, connection, 'lax');
    return q;
  }

  getQueue(vhost: string, name: string): QueueRecord | undefined {
    return this.vhosts.get(vhost)?.queues.get(name);
  }

  getPermission(user: string, vhost: string): PermissionRecord | undefined {
    return this.permissions.get(user)?.get(vhost)?.record;
  }

  /** The stored binding equal to `b` (same ends, key and arguments), if any. */
  findBinding(b: BindingRecord): BindingRecord | undefined {
    return this.vhosts.get(b.vhost)?.findBinding(b);
  }

  getExchange(vhost: string, name: string): ExchangeRecord | undefined {
    return this.vhosts.get(vhost)?.exchanges.get(name)?.record;
  }

  listVhosts(): string[] {
    return [...this.vhosts.keys()];
  }

  listUsers(): UserRecord[] {
    return [...this.users.values()];
  }

  listPermissions(): PermissionRecord[] {
    const out: PermissionRecord[] = [];
    for (const perUser of this.permissions.values()) for (const p of perUser.values()) out.push(p.record);
    return out;
  }

  /** Every vhost's when `vhost` is undefined. */
  listExchanges(vhost?: string): ExchangeRecord[] {
    return this.select(vhost).flatMap((v) => [...v.exchanges.values()].map((x) => x.record));
  }

  listQueues(vhost?: string): QueueRecord[] {
    return this.select(vhost).flatMap((v) => [...v.queues.values()]);
  }

  exclusiveQueues(connection: string): QueueRecord[] {
    return this.listQueues().filter((q) => q.exclusiveOwner === connection);
  }

  /**
   * Bindings as the management API lists them: with `implicit`, each queue's binding from the default
   * exchange (source '', key = queue name) comes first, as RabbitMQ shows it.
   */
  listBindings(vhost?: string, implicit = false): BindingRecord[] {
    const out: BindingRecord[] = [];
    for (const v of this.select(vhost)) {
      if (implicit) {
        for (const q of v.queues.values()) {
          out.push({ vhost: v.name, source: '', destinationKind: 'queue', destination: q.name, routingKey: q.name, arguments: {} });
        }
      }
      out.push(...v.allBindings());
    }
    return out;
  }

  /**
   * The whole state as plain records (structured-clone-able; arguments may hold bigints and byte
   * arrays, so the snapshot writer picks a codec that keeps them). restore() rebuilds the indexes.
   */
  snapshot(): MetaSnapshot {
    return {
      vhosts: this.listVhosts(), users: this.listUsers(), permissions: this.listPermissions(),
      exchanges: this.listExchanges(), queues: this.listQueues(), bindings: this.listBindings(),
      sessions: this.sessions.snapshot(),
      ...(this.placementRecord !== undefined ? { placement: this.placementRecord } : {}),
    };
  }

  static restore(s: MetaSnapshot): MetaMachine {
    const m = new MetaMachine({ defaultUser: null });
    m.vhosts.clear();
    for (const name of s.vhosts) m.vhosts.set(name, new VhostState(name));
    for (const u of s.users) m.apply({ type: 'user.put', name: u.name, passwordHash: u.passwordHash, tags: u.tags, loopbackOnly: u.loopbackOnly });
    for (const p of s.permissions) m.apply({ type: 'permissions.set', ...p });
    for (const x of s.exchanges) m.vhosts.get(x.vhost)!.putExchange(x);
    for (const q of s.queues) m.vhosts.get(q.vhost)!.queues.set(q.name, q);
    for (const b of s.bindings) m.vhosts.get(b.vhost)!.addBinding(b);
    m.sessions.restore(s.sessions);
    m.placementRecord = s.placement;
    return m;
  }

  private select(vhost: string | undefined): VhostState[] {
    if (vhost === undefined) return [...this.vhosts.values()];
    const v = this.vhosts.get(vhost);
    return v === undefined ? [] : [v];
  }
}
