// The admin HTTP listener every Warren process runs (default port 15672):
//   GET /healthz  200 while the process serves HTTP (liveness; no auth)
//   GET /readyz   200 when AdminSource.isReady(), else 503 (readiness; no auth)
//   GET /metrics  Prometheus text format (no auth, like RabbitMQ's prometheus plugin)
//   /api/...      the management API subset in routes.ts, HTTP basic auth against broker users:
//                 reads need a management tag, writes need 'administrator', else 401.
// Node's http module only; no framework.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { AdminError, MANAGEMENT_TAGS, type AdminSource } from './source.js';
import { matchRoute, type Access, type Caller } from './routes.js';
import { basicCredentials, readJsonBody, sendError, sendJson, sendNoContent, sendText, splitPath } from './wire.js';
import { createAdminRegistry } from './metrics.js';

export interface AdminServerOptions {
  readonly port: number;
  readonly host: string;
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

export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const registry = createAdminRegistry(opts.source, opts.registry);
  const server = createServer((req, res) => {
    handle(opts, registry, req, res).catch((err: unknown) => replyFailure(opts.logger, req, res, err));
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => { server.off('error', reject); resolve(); });
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
  const caller = await authorize(opts.source, req, match.route.access);
  const body = method === 'PUT' || method === 'POST' ? await readJsonBody(req) : undefined;
  const reply = await match.route.handle(opts.source, match.params, body, caller);
  if (reply.status === 200) sendJson(res, 200, reply.body);
  else sendNoContent(res, reply.status);
  if (match.route.access === 'write') {
    opts.logger?.info({ user: caller.user, method, path: req.url }, 'admin change');
  }
}

/** RabbitMQ answers 401 both for bad credentials and for a user lacking the needed tag. */
async function authorize(source: AdminSource, req: IncomingMessage, access: Access): Promise<Caller> {
  const creds = basicCredentials(req.headers.authorization);
  if (!creds) throw new AdminError(401, 'not_authorised', 'Login failed');
  const tags = await source.authenticate(creds.user, creds.password);
  if (!tags) throw new AdminError(401, 'not_authorised', 'Login failed');
  if (access === 'write' && !tags.includes('administrator')) {
    throw new AdminError(401, 'not_authorised', 'Not administrator user');
  }
  if (access === 'read' && !tags.some((t) => (MANAGEMENT_TAGS as readonly string[]).includes(t))) {
    throw new AdminError(401, 'not_authorised', 'Not management user');
  }
  return { user: creds.user, tags };
}

function replyFailure(logger: Logger | undefined, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const adminErr = err instanceof AdminError ? err : undefined;
  if (!adminErr) logger?.error({ err, method: req.method, path: req.url }, 'admin request failed');
  if (res.headersSent) { res.destroy(); return; }
  sendError(res, adminErr ?? new AdminError(500, 'internal_error', 'internal error (see the broker log)'));
  // An unread request body would otherwise be parsed as the next request on a keep-alive socket.
  if (!req.complete) res.once('finish', () => req.destroy());
}
