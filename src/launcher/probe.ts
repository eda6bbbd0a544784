// Readiness probes and the free-port check, over real loopback sockets.
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PortUse } from './plan.js';

const PROBE_INTERVAL_MS = 200;
const ATTEMPT_TIMEOUT_MS = 1000;

/** One GET; resolves with the status code, or 0 when nothing answered in time. */
export function httpStatus(url: string, timeoutMs = ATTEMPT_TIMEOUT_MS): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

function tcpConnects(host: string, port: number, timeoutMs = ATTEMPT_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: timeoutMs });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('timeout', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(false));
  });
}

async function until(check: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    if (await check()) return;
    await sleep(PROBE_INTERVAL_MS, undefined, { signal });
  }
}

/** Resolves when GET {base}/readyz answers 200 (a node's readiness, as Kubernetes probes it). */
export function readyzProbe(httpBase: string): (signal: AbortSignal) => Promise<void> {
  return (signal) => until(async () => (await httpStatus(`${httpBase}/readyz`)) === 200, signal);
}

/** Resolves when every port accepts a TCP connection (the balancer is listening). */
export function listeningProbe(host: string, ports: readonly number[]): (signal: AbortSignal) => Promise<void> {
  return (signal) => until(async () => (await Promise.all(ports.map((p) => tcpConnects(host, p)))).every(Boolean), signal);
}

function canListen(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(undefined)));
  });
}

/** Throws one error naming every planned port that cannot be listened on (in use, or not permitted). */
export async function assertPortsFree(host: string, ports: readonly PortUse[]): Promise<void> {
  const results = await Promise.all(ports.map(async (p) => ({ ...p, err: await canListen(host, p.port) })));
  const busy = results.filter((r) => r.err !== undefined);
  if (busy.length === 0) return;
  const list = busy.map((b) => `  ${b.port} (${b.what}): ${b.err === 'EADDRINUSE' ? 'in use' : b.err}`).join('\n');
  throw new Error(`cannot listen on ${host}:\n${list}\n` +
    'stop whatever holds them, or choose other ports (--amqp-port, --http-port, --base-port)');
}
