// The management API routes (/api/...): RabbitMQ's paths, verbs, status codes and JSON shapes for
// the subset Warren serves. Each route names the access it needs (access.ts: 'management', 'vhost'
// or 'admin', as the matching RabbitMQ 3.10 resource does) and, if it changes anything, the action
// the server logs. Handlers validate bodies (validate.ts, definitions.ts) and call AdminSource.
import { inVisibleVhosts, isMonitor, type Access, type Caller } from './access.js';
import { validateDefinitions } from './definitions.js';
import {
  AdminError, type AdminSource, type ChannelJson, type ConnectionInfo, type ConsumerJson, type MaybePromise, type NodeJson, type Overview, type PutOutcome,
} from './source.js';
import { asObject, permissionSpec, userUpdate, vhostOptions } from './validate.js';

export type Method = 'GET' | 'PUT' | 'DELETE' | 'POST';
export type Params = Readonly<Record<string, string>>;

/** Extra fields for the admin change log line (never secrets: no passwords, no hashes). */
export type AuditDetail = Readonly<Record<string, unknown>>;

export type Reply =
  | { readonly status: 200; readonly body: unknown; readonly audit?: AuditDetail }
  | { readonly status: 201 | 204; readonly audit?: AuditDetail };

export interface Route {
  readonly method: Method;
  /** Literal segments, or ':name' capturing one decoded segment. */
  readonly path: readonly string[];
  readonly access: Access;
  /** Set on routes that change the broker: the action name in the admin change log. */
  readonly change?: string;
  readonly handle: (source: AdminSource, params: Params, body: unknown, caller: Caller, request: RequestInfo) => Promise<Reply>;
}

/** What a route may need of the HTTP request itself. */
export interface RequestInfo {
  /** The caller's Authorization header, passed on when a cluster frontend asks the others. */
  readonly authorization?: string;
  /**
   * `x-warren-scope: node`: this node's own objects only — what a cluster frontend asks the other
   * frontends for when it lists connections for the whole cluster.
   */
  readonly nodeOnly: boolean;
}

/** The request header that asks for this node's own objects only (RequestInfo.nodeOnly). */
export const SCOPE_HEADER = 'x-warren-scope';

const ok = (body: unknown): Reply => ({ status: 200, body });
const put = (outcome: PutOutcome, audit?: AuditDetail): Reply =>
  ({ status: outcome === 'created' ? 201 : 204, ...(audit !== undefined ? { audit } : {}) });
const noContent: Reply = { status: 204 };

function p(params: Params, name: string): string {
  const v = params[name];
  if (v === undefined) throw new Error(`route bug: no parameter ${name}`);
  return v;
}

function findOr404<T>(items: readonly T[], pred: (x: T) => boolean): T {
  const found = items.find(pred);
  if (found === undefined) throw AdminError.notFound();
  return found;
}

/** Listings under /api/{kind}/{vhost}: 404 for a vhost that does not exist (RabbitMQ's resource_exists). */
async function inVhost<T>(s: AdminSource, vhost: string, list: () => Promise<readonly T[]> | readonly T[]): Promise<readonly T[]> {
  if (!(await s.listVhosts()).some((v) => v.name === vhost)) throw AdminError.notFound();
  return list();
}

/**
 * Administrators and monitoring users get the broker-wide overview; other management users get
 * totals over their permitted vhosts and their own connections, without node, listeners and the
 * broker-wide message counters (which would tell them about other vhosts).
 */
async function overview(s: AdminSource, c: Caller, req: RequestInfo): Promise<Overview> {
  const own = await s.overview();
  // Only the broker-wide view has the other frontends' counters and listeners in it; the scoped one
  // counts the caller's connections from the cluster-wide list below.
  if (isMonitor(c.tags)) return withOtherFrontends(own, await others(s, req, '/api/overview'));
  const queues = await inVisibleVhosts(c, await s.listQueues());
  const exchanges = await inVisibleVhosts(c, await s.listExchanges());
  const conns = (await allConnections(s, req)).filter((x) => x.user === c.user);
  const { node: _node, listeners: _listeners, message_stats: _stats, ...rest } = own;
  return {
    ...rest,
    object_totals: {
      connections: conns.length, channels: sum(conns, (x) => x.channels), exchanges: exchanges.length,
      queues: queues.length, consumers: sum(queues, (q) => q.consumers),
    },
    queue_totals: {
      messages: sum(queues, (q) => q.messages), messages_ready: sum(queues, (q) => q.messages_ready),
      messages_unacknowledged: sum(queues, (q) => q.messages_unacknowledged),
    },
  };
}

async function importDefinitions(s: AdminSource, body: unknown): Promise<Reply> {
  const { plan, warnings } = validateDefinitions(body);
  const report = await s.importDefinitions(plan);
  const all = [...warnings, ...report.warnings];
  const audit = { entries: report.applied, ...(all.length > 0 ? { warnings: all } : {}) };
  // 204 as RabbitMQ when everything was imported; 200 with the list of what was not, otherwise.
  return all.length === 0 ? { status: 204, audit } : { status: 200, body: { warnings: all }, audit };
}

const sum = <T>(xs: readonly T[], f: (x: T) => number | undefined): number => xs.reduce((a, x) => a + (f(x) ?? 0), 0);

/**
 * What the other frontends of a cluster answer for `path` about their own objects (none when this
 * request is itself one frontend asking another, or not on a cluster frontend).
 */
async function others(s: AdminSource, req: RequestInfo, path: string): Promise<readonly unknown[]> {
  return req.nodeOnly || s.fromOtherFrontends === undefined ? [] : s.fromOtherFrontends(path, req.authorization);
}

/** This node's connections and, on a cluster frontend, every other frontend's, as RabbitMQ lists every node's. */
function allConnections(s: AdminSource, req: RequestInfo): Promise<readonly ConnectionInfo[]> {
  return allOf(s, req, '/api/connections', () => s.listConnections());
}

/** This node's objects of a kind (`own`) and, on a cluster frontend, every other frontend's (`path` there). */
async function allOf<T>(s: AdminSource, req: RequestInfo, path: string, own: () => MaybePromise<readonly T[]>): Promise<readonly T[]> {
  const theirs = (await others(s, req, path)).filter(Array.isArray).flat() as T[];
  return [...await own(), ...theirs];
}

/** Channels a caller sees: monitoring users and administrators all, other management users their own (RabbitMQ's rule). */
async function visibleChannels(s: AdminSource, req: RequestInfo, c: Caller): Promise<readonly ChannelJson[]> {
  const all = await allOf(s, req, '/api/channels', () => s.listChannels());
  return isMonitor(c.tags) ? all : all.filter((x) => x.user === c.user);
}

/** Consumers a caller sees: those on queues of the vhosts it sees. */
async function visibleConsumers(s: AdminSource, req: RequestInfo, c: Caller): Promise<readonly ConsumerJson[]> {
  const all = await allOf(s, req, '/api/consumers', () => s.listConsumers());
  const seen = new Set((await inVisibleVhosts(c, all.map((x) => ({ vhost: x.queue.vhost })))).map((x) => x.vhost));
  return all.filter((x) => seen.has(x.queue.vhost));
}

/**
 * This node and, on a cluster frontend, every other frontend (each answering for itself) and the
 * owners, sorted by name as RabbitMQ lists its cluster's nodes.
 */
async function nodes(s: AdminSource, req: RequestInfo): Promise<readonly NodeJson[]> {
  const frontends = await allOf(s, req, '/api/nodes', async () => [await s.node()]);
  const owners = req.nodeOnly ? [] : await s.clusterOwners?.() ?? [];
  return [...frontends, ...owners].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * A cluster frontend's overview with what the other frontends hold: their connections and channels,
 * their message counters and their listeners. Queues, exchanges and consumers are the cluster's
 * already (the metadata and the owners' figures).
 */
function withOtherFrontends(own: Overview, theirs: readonly unknown[]): Overview {
  const peers = theirs.filter((x): x is Overview => typeof x === 'object' && x !== null && 'object_totals' in x);
  if (peers.length === 0) return own;
  const stats: Record<string, number> = { ...own.message_stats };
  for (const p of peers) {
    for (const [k, v] of Object.entries(p.message_stats ?? {})) if (typeof v === 'number') stats[k] = (stats[k] ?? 0) + v;
  }
  return {
    ...own,
    object_totals: {
      ...own.object_totals,
      connections: own.object_totals.connections + sum(peers, (p) => p.object_totals.connections),
      channels: own.object_totals.channels + sum(peers, (p) => p.object_totals.channels),
    },
    ...(own.message_stats !== undefined ? { message_stats: stats } : {}),
    ...(own.listeners !== undefined ? { listeners: [...own.listeners, ...peers.flatMap((p) => p.listeners ?? [])] } : {}),
  };
}

const r = (method: Method, path: string, access: Access, handle: Route['handle'], change?: string): Route =>
  ({ method, path: path.split('/').filter((s) => s !== ''), access, handle, ...(change !== undefined ? { change } : {}) });

export const ROUTES: readonly Route[] = [
  r('GET', 'api/overview', 'management', async (s, _p, _b, c, req) => ok(await overview(s, c, req))),
  r('GET', 'api/whoami', 'management', async (_s, _p, _b, c) => ok({ name: c.user, tags: c.tags })),

  r('GET', 'api/vhosts', 'management', async (s, _p, _b, c) => {
    const all = await s.listVhosts();
    if (isMonitor(c.tags)) return ok(all);
    const permitted = await c.permittedVhosts();
    return ok(all.filter((v) => permitted.has(v.name)));
  }),
  r('GET', 'api/vhosts/:vhost', 'admin', async (s, ps) => ok(findOr404(await s.listVhosts(), (v) => v.name === p(ps, 'vhost')))),
  r('PUT', 'api/vhosts/:vhost', 'admin', async (s, ps, b) => put(await s.putVhost(p(ps, 'vhost'), vhostOptions(b))), 'vhost.put'),
  r('DELETE', 'api/vhosts/:vhost', 'admin', async (s, ps) => { await s.deleteVhost(p(ps, 'vhost')); return noContent; }, 'vhost.delete'),

  r('GET', 'api/users', 'admin', async (s) => ok(await s.listUsers())),
  r('GET', 'api/users/:user', 'admin', async (s, ps) => ok(findOr404(await s.listUsers(), (u) => u.name === p(ps, 'user')))),
  r('PUT', 'api/users/:user', 'admin', async (s, ps, b) => {
    const update = userUpdate(b);
    const how = update.password !== undefined ? 'password' : update.password_hash !== undefined ? 'password_hash' : 'none';
    return put(await s.putUser(p(ps, 'user'), update), { tags: update.tags, credentials: how });
  }, 'user.put'),
  r('DELETE', 'api/users/:user', 'admin', async (s, ps) => { await s.deleteUser(p(ps, 'user')); return noContent; }, 'user.delete'),

  r('GET', 'api/permissions', 'admin', async (s) => ok(await s.listPermissions())),
  r('GET', 'api/permissions/:vhost/:user', 'admin', async (s, ps) =>
    ok(findOr404(await s.listPermissions(), (x) => x.vhost === p(ps, 'vhost') && x.user === p(ps, 'user')))),
  r('PUT', 'api/permissions/:vhost/:user', 'admin', async (s, ps, b) => {
    const spec = permissionSpec(b);
    return put(await s.putPermissions(p(ps, 'vhost'), p(ps, 'user'), spec), { ...spec });
  }, 'permissions.put'),
  r('DELETE', 'api/permissions/:vhost/:user', 'admin', async (s, ps) => {
    await s.deletePermissions(p(ps, 'vhost'), p(ps, 'user'));
    return noContent;
  }, 'permissions.delete'),

  r('GET', 'api/queues', 'management', async (s, _p, _b, c) => ok(await inVisibleVhosts(c, await s.listQueues()))),
  r('GET', 'api/queues/:vhost', 'vhost', async (s, ps) => ok(await inVhost(s, p(ps, 'vhost'), () => s.listQueues(p(ps, 'vhost'))))),
  r('GET', 'api/queues/:vhost/:name', 'vhost', async (s, ps) =>
    ok(findOr404(await s.listQueues(p(ps, 'vhost')), (q) => q.name === p(ps, 'name')))),
  // Warren: durable-queue partitions (log length, indexes, bytes on disk); broker-wide, so administrators only.
  r('GET', 'api/partitions', 'admin', async (s) => ok((await s.listPartitions?.()) ?? [])),
  r('GET', 'api/partitions/:partition', 'admin', async (s, ps) =>
    ok(findOr404((await s.listPartitions?.()) ?? [], (x) => String(x.partition) === p(ps, 'partition')))),
  // Warren: the placement stored in the metadata group, as this node's replica or cache has it.
  r('GET', 'api/placement', 'admin', async (s) => {
    const placement = s.placement?.();
    if (placement === undefined) throw AdminError.notFound();
    return ok(placement);
  }),
  // Warren: this node's replica of the metadata group and the open session leases; 404 on a node without one.
  r('GET', 'api/metadata', 'admin', async (s) => {
    if (s.metadata === undefined) throw AdminError.notFound('this node holds no replica of the metadata group');
    return ok(await s.metadata());
  }),
  r('GET', 'api/exchanges', 'management', async (s, _p, _b, c) => ok(await inVisibleVhosts(c, await s.listExchanges()))),
  r('GET', 'api/exchanges/:vhost', 'vhost', async (s, ps) => ok(await inVhost(s, p(ps, 'vhost'), () => s.listExchanges(p(ps, 'vhost'))))),
  r('GET', 'api/exchanges/:vhost/:name', 'vhost', async (s, ps) =>
    ok(findOr404(await s.listExchanges(p(ps, 'vhost')), (x) => x.name === p(ps, 'name')))),
  r('GET', 'api/bindings', 'management', async (s, _p, _b, c) => ok(await inVisibleVhosts(c, await s.listBindings()))),
  r('GET', 'api/bindings/:vhost', 'vhost', async (s, ps) => ok(await inVhost(s, p(ps, 'vhost'), () => s.listBindings(p(ps, 'vhost'))))),
  r('GET', 'api/connections', 'management', async (s, _p, _b, c, req) => {
    const all = await allConnections(s, req);
    return ok(isMonitor(c.tags) ? all : all.filter((x) => x.user === c.user));
  }),

  r('GET', 'api/channels', 'management', async (s, _p, _b, c, req) => ok(await visibleChannels(s, req, c))),
  r('GET', 'api/channels/:name', 'management', async (s, ps, _b, c, req) =>
    ok(findOr404(await visibleChannels(s, req, c), (x) => x.name === p(ps, 'name')))),
  r('GET', 'api/vhosts/:vhost/channels', 'vhost', async (s, ps, _b, c, req) =>
    ok(await inVhost(s, p(ps, 'vhost'), async () => (await visibleChannels(s, req, c)).filter((x) => x.vhost === p(ps, 'vhost'))))),
  r('GET', 'api/consumers', 'management', async (s, _p, _b, c, req) => ok(await visibleConsumers(s, req, c))),
  r('GET', 'api/consumers/:vhost', 'vhost', async (s, ps, _b, c, req) =>
    ok(await inVhost(s, p(ps, 'vhost'), async () => (await visibleConsumers(s, req, c)).filter((x) => x.queue.vhost === p(ps, 'vhost'))))),

  r('GET', 'api/nodes', 'monitor', async (s, _p, _b, _c, req) => ok(await nodes(s, req))),
  r('GET', 'api/nodes/:name', 'monitor', async (s, ps, _b, _c, req) => ok(findOr404(await nodes(s, req), (x) => x.name === p(ps, 'name')))),

  r('GET', 'api/definitions', 'admin', async (s) => ok(await s.exportDefinitions())),
  r('POST', 'api/definitions', 'admin', async (s, _p, b) => importDefinitions(s, asObject(b)), 'definitions.import'),
];

export type RouteMatch =
  | { readonly kind: 'found'; readonly route: Route; readonly params: Params }
  | { readonly kind: 'wrong-method'; readonly allowed: readonly Method[] }
  | { readonly kind: 'none' };

function matchPath(pattern: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const pat = pattern[i] ?? '';
    const seg = segments[i] ?? '';
    if (pat.startsWith(':')) params[pat.slice(1)] = seg;
    else if (pat !== seg) return undefined;
  }
  return params;
}

export function matchRoute(method: string, segments: readonly string[]): RouteMatch {
  const allowed: Method[] = [];
  for (const route of ROUTES) {
    const params = matchPath(route.path, segments);
    if (!params) continue;
    if (route.method === method) return { kind: 'found', route, params };
    allowed.push(route.method);
  }
  return allowed.length > 0 ? { kind: 'wrong-method', allowed } : { kind: 'none' };
}
