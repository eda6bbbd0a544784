// An in-memory AdminSource for the admin server tests: enough broker state to exercise every
// route, plus call logs so tests can check what the server passed down.
import {
  AdminError, type AdminSource, type AdminStats, type AuthResult, type BindingInfo, type Definitions, type ExchangeInfo,
  type ImportPlan, type ImportReport, type NodeJson, type Overview, type PermissionInfo, type PermissionSpec, type PutOutcome, type QueueInfo,
  type UserInfo, type UserUpdate, type VhostInfo,
} from '../../../src/admin/source.js';

interface FakeUser { password: string; tags: string[]; loopbackOnly?: boolean }

export class FakeSource implements AdminSource {
  ready = true;
  statsCalls = 0;
  failNextOverview = false;
  readonly calls: Array<{ method: string; args: unknown[] }> = [];
  readonly users = new Map<string, FakeUser>([
    ['admin', { password: 'secret', tags: ['administrator'] }],
    ['watcher', { password: 'look', tags: ['monitoring'] }],
    ['app', { password: 'app', tags: [] }],
    ['viewer', { password: 'view', tags: ['management'] }],
    ['local', { password: 'local', tags: ['administrator'], loopbackOnly: true }],
  ]);
  readonly vhosts = new Map<string, VhostInfo>([['/', { name: '/' }], ['staging', { name: 'staging' }]]);
  readonly permissions: PermissionInfo[] = [
    { user: 'admin', vhost: '/', configure: '.*', write: '.*', read: '.*' },
    { user: 'viewer', vhost: 'staging', configure: '', write: '', read: '.*' },
    { user: 'watcher', vhost: 'staging', configure: '', write: '', read: '.*' },
  ];
  /** The peer address the server passed to the last authenticate(). */
  lastPeer: string | undefined;
  readonly queues: QueueInfo[] = [
    { name: 'orders', vhost: '/', durable: true, auto_delete: false, exclusive: false, arguments: {}, messages_ready: 3 },
    { name: 'jobs', vhost: 'staging', durable: false, auto_delete: true, exclusive: false, arguments: { 'x-max-length': 10 } },
  ];
  readonly exchanges: ExchangeInfo[] = [
    { name: 'amq.direct', vhost: '/', type: 'direct', durable: true, auto_delete: false, internal: false, arguments: {} },
  ];
  readonly bindings: BindingInfo[] = [
    { source: 'amq.direct', vhost: '/', destination: 'orders', destination_type: 'queue', routing_key: 'o', arguments: {} },
  ];
  stats_: AdminStats = {
    connections: 2, channels: 5, consumers: 1, queues: 2, exchanges: 8, vhosts: 2, messagesReady: 3, messagesUnacked: 1,
    publishedTotal: 1234, deliveredTotal: 1200, acknowledgedTotal: 1100, confirmedTotal: 1000, redeliveredTotal: 7,
    unroutableTotal: 4, connectionsOpenedTotal: 9, connectionsClosedTotal: 7,
    perQueue: [{ vhost: '/', queue: 'orders', ready: 3, unacked: 1, consumers: 1 }],
  };

  private log(method: string, ...args: unknown[]): void { this.calls.push({ method, args }); }

  authenticate(user: string, password: string, peer: string | undefined): AuthResult {
    this.lastPeer = peer;
    const u = this.users.get(user);
    if (u === undefined) return { ok: false, reason: 'unknown user' };
    if (u.password !== password) return { ok: false, reason: 'bad password' };
    // The fake treats every peer as remote, so the loopback rule shows through HTTP on 127.0.0.1.
    if (u.loopbackOnly === true) return { ok: false, reason: 'loopback only' };
    return { ok: true, tags: u.tags };
  }
  permittedVhosts(user: string): Promise<string[]> {
    return Promise.resolve(this.permissions.filter((p) => p.user === user).map((p) => p.vhost));
  }
  isReady(): Promise<boolean> { return Promise.resolve(this.ready); }
  stats(): AdminStats { this.statsCalls += 1; return this.stats_; }

  overview(): Overview {
    if (this.failNextOverview) { this.failNextOverview = false; throw new Error('boom'); }
    return {
      product_name: 'Warren', product_version: '0.1.0', cluster_name: 'test', node: 'warren@test',
      object_totals: { connections: 2, channels: 5, exchanges: 8, queues: this.queues.length, consumers: 1 },
      queue_totals: { messages: 4, messages_ready: 3, messages_unacknowledged: 1 },
    };
  }
  listVhosts(): VhostInfo[] { return [...this.vhosts.values()]; }
  putVhost(name: string, opts: { description?: string }): PutOutcome {
    this.log('putVhost', name, opts);
    const existed = this.vhosts.has(name);
    this.vhosts.set(name, { name, ...(opts.description !== undefined ? { description: opts.description } : {}) });
    return existed ? 'updated' : 'created';
  }
  deleteVhost(name: string): void {
    this.log('deleteVhost', name);
    if (!this.vhosts.delete(name)) throw AdminError.notFound('vhost not found');
  }
  listUsers(): UserInfo[] {
    return [...this.users].map(([name, u]) => ({ name, tags: u.tags, password_hash: `hash-of-${u.password}`, hashing_algorithm: 'rabbit_password_hashing_sha256' }));
  }
  putUser(name: string, update: UserUpdate): PutOutcome {
    this.log('putUser', name, update);
    const existed = this.users.has(name);
    this.users.set(name, { password: update.password ?? '', tags: [...update.tags] });
    return existed ? 'updated' : 'created';
  }
  deleteUser(name: string): void {
    this.log('deleteUser', name);
    if (!this.users.delete(name)) throw AdminError.notFound('user not found');
  }
  listPermissions(): PermissionInfo[] { return this.permissions; }
  putPermissions(vhost: string, user: string, perms: PermissionSpec): PutOutcome {
    this.log('putPermissions', vhost, user, perms);
    if (!this.vhosts.has(vhost)) throw AdminError.notFound('vhost not found');
    const i = this.permissions.findIndex((p) => p.vhost === vhost && p.user === user);
    const rec = { user, vhost, ...perms };
    if (i >= 0) { this.permissions[i] = rec; return 'updated'; }
    this.permissions.push(rec);
    return 'created';
  }
  deletePermissions(vhost: string, user: string): void {
    this.log('deletePermissions', vhost, user);
    const i = this.permissions.findIndex((p) => p.vhost === vhost && p.user === user);
    if (i < 0) throw AdminError.notFound();
    this.permissions.splice(i, 1);
  }
  listQueues(vhost?: string): QueueInfo[] {
    this.log('listQueues', vhost);
    return this.queues.filter((q) => vhost === undefined || q.vhost === vhost);
  }
  listExchanges(vhost?: string): ExchangeInfo[] { return this.exchanges.filter((x) => vhost === undefined || x.vhost === vhost); }
  listBindings(vhost?: string): BindingInfo[] { return this.bindings.filter((b) => vhost === undefined || b.vhost === vhost); }
  listConnections(): [] { return []; }
  listChannels(): [] { return []; }
  node(): NodeJson { return { name: 'warren@test', type: 'disc', running: true }; }
  listConsumers(): [] { return []; }
  exportDefinitions(): Definitions {
    return {
      product_name: 'Warren', product_version: '0.1.0', vhosts: this.listVhosts(),
      users: this.listUsers().map((u) => ({ name: u.name, tags: u.tags, password_hash: u.password_hash ?? '', hashing_algorithm: 'rabbit_password_hashing_sha256', limits: {} })),
      permissions: this.permissions, topic_permissions: [], parameters: [], global_parameters: [], policies: [],
      queues: this.queues.map((q) => ({ name: q.name, vhost: q.vhost, durable: q.durable, auto_delete: q.auto_delete, arguments: q.arguments })),
      exchanges: this.exchanges, bindings: this.bindings,
    };
  }
  importDefinitions(plan: ImportPlan): ImportReport {
    this.log('importDefinitions', plan);
    for (const v of plan.vhosts) this.vhosts.set(v.name, { name: v.name });
    return { applied: plan.vhosts.length, warnings: [] };
  }
}
