// The admin HTTP listener every Warren process runs (default port 15672):
//   GET /healthz  200 while the process serves HTTP (liveness; no auth)
//   GET /readyz   200 when AdminSource.isReady(), else 503 (readiness; no auth)
//   GET /metrics  Prometheus text format (no auth, like RabbitMQ's prometheus plugin)
//   /api/...      the management API subset in routes.ts, HTTP basic auth against broker users,
//                 authorised as RabbitMQ's management plugin does (access.ts).
// Logging: every change made through /api (and every failed one) is logged with the HTTP user, the
// action, its target and the result; every failed login or refused request with the reason.
// Node's http module only; no framework.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { AccessRefused, authorize } from './access.js';
import { AdminError, type AdminSource } from './source.js';
import { matchRoute, SCOPE_HEADER, type Route } from './routes.js';
import { basicCredentials, readJsonBody, sendError, sendJson, sendNoContent, sendText, splitPath } from './wire.js';
import { createAdminRegistry } from './metrics.js';
import { readFresh, syncOnce } from '../util/read-point.js';

export interface AdminServerOptions {
  readonly port: number;
  readonly host: string;
  /**
   * A listener bound earlier with bindAdminHttp (its port known before the node was composed):
   * it serves from now on, and `port` and `host` are not used.
   */
  readonly bound?: Server;
  readonly source: AdminSource;
  readonly logger?: Logger;
  /** Registry to add Warren's metrics to (default: a fresh one with default process metrics). */
  readonly registry?: Registry;
}

export interface AdminServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Stops accepting, ends idle keep-alive connections, resolves when the listener is closed. */
  close(): Promise<void>;
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const opts: AdminServerOptions = {
    ...options, ...(options.logger !== undefined ? { logger: options.logger.child({ component: 'admin' }) } : {}),
  };
  const registry = createAdminRegistry(opts.source, opts.registry);
  const server = opts.bound ?? await bindAdminHttp(opts.port, opts.host);
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(opts, registry, req, res).catch((err: unknown) => replyFailure(opts.logger, req, res, err));
  });
  const port = (server.address() as AddressInfo).port;
  opts.logger?.info({ host: opts.host, port }, 'admin HTTP listening');
  return {
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    }),
  };
}

/**
 * The admin HTTP listener, bound before the node it will serve is up (so a cluster frontend can
 * advertise its real port with --http-port 0). Until startAdminServer takes it over it answers
 * /healthz (the process is alive) and 503 to everything else.
 */
export async function bindAdminHttp(port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    const segments = splitPath(req.url ?? '/');
    if (segments?.length === 1 && segments[0] === 'healthz') sendText(res, 200, 'ok\n');
    else sendText(res, 503, 'starting\n');
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  return server;
}

async function handle(opts: AdminServerOptions, registry: Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const segments = splitPath(req.url ?? '/');
  if (!segments) throw AdminError.badRequest('malformed percent-encoding in path');
  const top = segments.length === 1 ? segments[0] : undefined;
  if (top === 'healthz' || top === 'readyz' || top === 'metrics') {
    if (method !== 'GET' && method !== 'HEAD') throw new AdminError(405, 'method_not_allowed', 'use GET');
    if (top === 'healthz') return sendText(res, 200, 'ok\n');
    if (top === 'readyz') return (await opts.source.isReady()) ? sendText(res, 200, 'ready\n') : sendText(res, 503, 'not ready\n');
    return sendText(res, 200, await registry.metrics(), registry.contentType);
  }
  const match = matchRoute(method, segments);
  if (match.kind === 'none') throw AdminError.notFound();
  if (match.kind === 'wrong-method') {
    res.setHeader('allow', match.allowed.join(', '));
    throw new AdminError(405, 'method_not_allowed', `allowed: ${match.allowed.join(', ')}`);
  }
  const { route, params } = match;
  const peer = req.socket.remoteAddress;
  const log = opts.logger;
  // The read point (src/util/read-point.ts) on a source whose view may trail changes made through
  // another frontend, waited for at most once per request: a refused login, or a change refused by
  // a lookup, waits for it and is tried again; a GET waits for it (at most GET_READ_POINT_MS) before
  // answering, since a listing cannot tell that it lacks what was made elsewhere a moment ago.
  const source = opts.source;
  const sync = syncOnce(source.sync?.bind(source));
  const caller = await readFresh(sync, isStaleRefusal,
    () => authorize(source, basicCredentials(req.headers.authorization), peer, route.access, params['vhost']))
    .catch((err: unknown) => {
      if (err instanceof AccessRefused) logRefusal(log, err, req, peer);
      throw err;
    });
  try {
    const body = method === 'PUT' || method === 'POST' ? await readJsonBody(req) : undefined;
    if (method === 'GET' && sync !== undefined) await settledWithin(sync(), GET_READ_POINT_MS);
    const reply = await readFresh(method === 'GET' ? undefined : sync, (err) => isStaleChangeRefusal(err, route),
      () => route.handle(source, params, body, caller, {
        ...(req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {}),
        nodeOnly: req.headers[SCOPE_HEADER] === 'node',
      }));
    if (reply.status === 200) sendJson(res, 200, reply.body);
    else sendNoContent(res, reply.status);
    if (route.change !== undefined) {
      log?.info({ user: caller.user, peer, action: route.change, target: params, result: resultOf(method, reply.status), ...reply.audit },
        'admin change');
    }
  } catch (err) {
    if (route.change !== undefined) {
      const status = err instanceof AdminError ? err.status : 500;
      const reason = err instanceof AdminError ? err.message : 'internal error';
      log?.warn({ user: caller.user, peer, action: route.change, target: params, result: 'failed', status, reason }, 'admin change failed');
    }
    throw err;
  }
}

/**
 * How long a GET waits for the read point before answering from the view as it is: without a
 * metadata leader there is no read point to wait for, and an operator looking at a cluster in
 * trouble needs an answer more than a fresh one.
 */
const GET_READ_POINT_MS = 2_000;

/** Waits for `p` to settle (either way), at most `ms`. */
function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); });
  return Promise.race([p.then(() => {}, () => {}), limit]).finally(() => clearTimeout(timer));
}

const isStaleRefusal = (err: unknown): boolean => err instanceof AccessRefused && err.mayBeStale;

/** Changes whose 400 can come from a lookup (a vhost or user named by the request or the definitions file). */
const LOOKUP_400 = new Set(['permissions.put', 'definitions.import']);

/**
 * What a view that trails answers a change naming something created a moment ago through another
 * frontend: 404 (DELETE of it), 400 for a missing vhost or user. Nothing was changed yet.
 */
function isStaleChangeRefusal(err: unknown, route: Route): boolean {
  if (!(err instanceof AdminError)) return false;
  return err.status === 404 || (err.status === 400 && route.change !== undefined && LOOKUP_400.has(route.change));
}

function resultOf(method: string, status: number): string {
  if (method === 'DELETE') return 'deleted';
  if (method === 'POST') return status === 200 ? 'imported with warnings' : 'imported';
  return status === 201 ? 'created' : 'updated';
}

/** Failed logins and refused authorisations: warn, except a request without credentials (browsers send one first). */
function logRefusal(log: Logger | undefined, err: AccessRefused, req: IncomingMessage, peer: string | undefined): void {
  const fields = { user: err.user, peer, method: req.method, path: req.url, reason: err.logReason };
  if (err.logReason === 'no credentials') log?.debug(fields, 'admin HTTP request without credentials');
  else log?.warn(fields, err.loginFailed ? 'admin HTTP login failed' : 'admin HTTP access refused');
}

function replyFailure(logger: Logger | undefined, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const adminErr = err instanceof AdminError ? err : undefined;
  if (!adminErr) logger?.error({ err, method: req.method, path: req.url }, 'admin request failed');
  if (res.headersSent) { res.destroy(); return; }
  sendError(res, adminErr ?? new AdminError(500, 'internal_error', 'internal error (see the broker log)'));
  // An unread request body would otherwise be parsed as the next request on a keep-alive socket.
  if (!req.complete) res.once('finish', () => req.destroy());
}
