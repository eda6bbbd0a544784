// The management API routes (/api/...): RabbitMQ's paths, verbs, status codes and JSON shapes
// for the subset Warren serves. Each route names the access it needs: 'read' (any management
// user) or 'write' (tag 'administrator'). Handlers validate bodies and call AdminSource.
import { AdminError, type AdminSource, type Definitions, type PermissionSpec, type PutOutcome, type UserUpdate } from './source.js';

export type Method = 'GET' | 'PUT' | 'DELETE' | 'POST';
export type Access = 'read' | 'write';
export type Params = Readonly<Record<string, string>>;

export interface Caller {
  readonly user: string;
  readonly tags: readonly string[];
}

export type Reply = { readonly status: 200; readonly body: unknown } | { readonly status: 201 | 204 };

export interface Route {
  readonly method: Method;
  /** Literal segments, or ':name' capturing one decoded segment. */
  readonly path: readonly string[];
  readonly access: Access;
  readonly handle: (source: AdminSource, params: Params, body: unknown, caller: Caller) => Promise<Reply>;
}

const ok = (body: unknown): Reply => ({ status: 200, body });
const put = (outcome: PutOutcome): Reply => ({ status: outcome === 'created' ? 201 : 204 });
const noContent: Reply = { status: 204 };

function p(params: Params, name: string): string {
  const v = params[name];
  if (v === undefined) throw new Error(`route bug: no parameter ${name}`);
  return v;
}

function findOr404<T>(items: readonly T[], pred: (x: T) => boolean, what: string): T {
  const found = items.find(pred);
  if (found === undefined) throw AdminError.notFound(`${what} not found`);
  return found;
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw AdminError.badRequest('body must be a JSON object');
  return body as Record<string, unknown>;
}

/** RabbitMQ accepts tags as "a,b" or ["a","b"]. */
export function parseTags(v: unknown): string[] {
  if (v === undefined || v === null || v === '') return [];
  if (typeof v === 'string') return v.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (Array.isArray(v) && v.every((t) => typeof t === 'string')) return (v as string[]).map((t) => t.trim()).filter((t) => t !== '');
  throw AdminError.badRequest('tags must be a comma-separated string or an array of strings');
}

function optString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw AdminError.badRequest(`${key} must be a string`);
  return v;
}

function userUpdate(body: unknown): UserUpdate {
  const o = asObject(body);
  if (!('tags' in o)) throw AdminError.badRequest('tags is mandatory');
  const password = optString(o, 'password');
  const passwordHash = optString(o, 'password_hash');
  if (password === undefined && passwordHash === undefined) throw AdminError.badRequest('password or password_hash is mandatory');
  return {
    tags: parseTags(o['tags']),
    ...(password !== undefined ? { password } : {}),
    ...(passwordHash !== undefined ? { password_hash: passwordHash } : {}),
  };
}

function permissionSpec(body: unknown): PermissionSpec {
  const o = asObject(body);
  const get = (k: string): string => {
    const v = optString(o, k);
    if (v === undefined) throw AdminError.badRequest(`${k} is mandatory`);
    try { new RegExp(v); } catch { throw AdminError.badRequest(`${k} is not a valid regular expression`); }
    return v;
  };
  return { configure: get('configure'), write: get('write'), read: get('read') };
}

function vhostOptions(body: unknown): { description?: string; tags?: readonly string[] } {
  const o = asObject(body);
  const description = optString(o, 'description');
  return { ...(description !== undefined ? { description } : {}), ...('tags' in o ? { tags: parseTags(o['tags']) } : {}) };
}

const r = (method: Method, path: string, access: Access, handle: Route['handle']): Route =>
  ({ method, path: path.split('/').filter((s) => s !== ''), access, handle });

export const ROUTES: readonly Route[] = [
  r('GET', 'api/overview', 'read', async (s) => ok(await s.overview())),
  r('GET', 'api/whoami', 'read', async (_s, _p, _b, c) => ok({ name: c.user, tags: c.tags })),

  r('GET', 'api/vhosts', 'read', async (s) => ok(await s.listVhosts())),
  r('GET', 'api/vhosts/:vhost', 'read', async (s, ps) =>
    ok(findOr404(await s.listVhosts(), (v) => v.name === p(ps, 'vhost'), 'vhost'))),
  r('PUT', 'api/vhosts/:vhost', 'write', async (s, ps, b) => put(await s.putVhost(p(ps, 'vhost'), vhostOptions(b)))),
  r('DELETE', 'api/vhosts/:vhost', 'write', async (s, ps) => { await s.deleteVhost(p(ps, 'vhost')); return noContent; }),

  r('GET', 'api/users', 'read', async (s) => ok(await s.listUsers())),
  r('GET', 'api/users/:user', 'read', async (s, ps) =>
    ok(findOr404(await s.listUsers(), (u) => u.name === p(ps, 'user'), 'user'))),
  r('PUT', 'api/users/:user', 'write', async (s, ps, b) => put(await s.putUser(p(ps, 'user'), userUpdate(b)))),
  r('DELETE', 'api/users/:user', 'write', async (s, ps) => { await s.deleteUser(p(ps, 'user')); return noContent; }),

  r('GET', 'api/permissions', 'read', async (s) => ok(await s.listPermissions())),
  r('GET', 'api/permissions/:vhost/:user', 'read', async (s, ps) =>
    ok(findOr404(await s.listPermissions(), (x) => x.vhost === p(ps, 'vhost') && x.user === p(ps, 'user'), 'permission'))),
  r('PUT', 'api/permissions/:vhost/:user', 'write', async (s, ps, b) =>
    put(await s.putPermissions(p(ps, 'vhost'), p(ps, 'user'), permissionSpec(b)))),

  r('GET', 'api/queues', 'read', async (s) => ok(await s.listQueues())),
  r('GET', 'api/queues/:vhost', 'read', async (s, ps) => ok(await s.listQueues(p(ps, 'vhost')))),
  r('GET', 'api/queues/:vhost/:name', 'read', async (s, ps) =>
    ok(findOr404(await s.listQueues(p(ps, 'vhost')), (q) => q.name === p(ps, 'name'), 'queue'))),
  r('GET', 'api/exchanges', 'read', async (s) => ok(await s.listExchanges())),
  r('GET', 'api/exchanges/:vhost', 'read', async (s, ps) => ok(await s.listExchanges(p(ps, 'vhost')))),
  r('GET', 'api/exchanges/:vhost/:name', 'read', async (s, ps) =>
    ok(findOr404(await s.listExchanges(p(ps, 'vhost')), (x) => x.name === p(ps, 'name'), 'exchange'))),
  r('GET', 'api/bindings', 'read', async (s) => ok(await s.listBindings())),
  r('GET', 'api/bindings/:vhost', 'read', async (s, ps) => ok(await s.listBindings(p(ps, 'vhost')))),
  r('GET', 'api/connections', 'read', async (s) => ok(await s.listConnections())),

  r('GET', 'api/definitions', 'read', async (s) => ok(await s.exportDefinitions())),
  r('POST', 'api/definitions', 'write', async (s, _p, b) => {
    await s.importDefinitions(asObject(b) as Definitions);
    return noContent;
  }),
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
