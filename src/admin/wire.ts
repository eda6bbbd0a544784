// Small HTTP helpers for the admin server (server.ts): path splitting with per-segment decoding (so the
// vhost '/' travels as %2F), bounded JSON bodies, RabbitMQ-shaped error replies, basic auth.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AccessRefused } from './access.js';
import { AdminError } from './source.js';

/** Largest request body accepted (a definitions import of a big broker fits comfortably). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * '/api/vhosts/%2F' → ['api', 'vhosts', '/']. Segments are split before decoding, so an encoded
 * slash stays inside its segment. Undefined when a segment is not valid percent-encoding.
 */
export function splitPath(rawUrl: string): string[] | undefined {
  const q = rawUrl.indexOf('?');
  const path = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  const parts = path.split('/').filter((s, i, all) => !(s === '' && (i === 0 || i === all.length - 1)));
  try {
    return parts.map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new AdminError(413, 'payload_too_large', `body over ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new AdminError(413, 'payload_too_large', `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw AdminError.badRequest(`body is not valid JSON: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': payload.length, 'cache-control': 'no-cache' });
  res.end(payload);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  const payload = Buffer.from(text);
  res.writeHead(status, { 'content-type': contentType, 'content-length': payload.length, 'cache-control': 'no-cache' });
  res.end(payload);
}

export function sendNoContent(res: ServerResponse, status: 201 | 204): void {
  res.writeHead(status, { 'content-length': 0 });
  res.end();
}

/**
 * RabbitMQ's error body: {"error": "...", "reason": "..."}. A refused login also carries the
 * WWW-Authenticate challenge, and a request without credentials gets an empty 401, as RabbitMQ's.
 */
export function sendError(res: ServerResponse, err: AdminError): void {
  if (err instanceof AccessRefused && err.challenge) res.setHeader('www-authenticate', 'Basic realm="Warren Management"');
  if (err instanceof AccessRefused && err.emptyBody) {
    res.writeHead(err.status, { 'content-length': 0 });
    res.end();
    return;
  }
  sendJson(res, err.status, { error: err.error, reason: err.message });
}

/** Credentials from an `Authorization: Basic ...` header, or undefined. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m || m[1] === undefined) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
