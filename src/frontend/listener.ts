// AMQP listeners: plain TCP (5672) and, when a certificate is configured, TLS (5671). Each accepted
// socket becomes a Connection; the listener itself holds no protocol state.
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Connection } from './connection.js';
import type { FrontendContext } from './context.js';

export interface Listener {
  readonly port: number;
  close(): Promise<void>;
}

export async function listenAmqp(ctx: FrontendContext, port: number, hosts: readonly string[]): Promise<Listener> {
  return listen(ctx, port, hosts, () => createServer({ noDelay: true }, (s: Socket) => void new Connection(s, ctx, false)));
}

export async function listenAmqps(ctx: FrontendContext, port: number, hosts: readonly string[]): Promise<Listener> {
  const tls = ctx.config.tls;
  if (tls === undefined) throw new Error('listenAmqps: no TLS configuration');
  const options = {
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    ...(tls.caFile !== undefined ? { ca: readFileSync(tls.caFile) } : {}),
  };
  return listen(ctx, port, hosts, () =>
    createTlsServer(options, (s: TLSSocket) => void new Connection(s, ctx, true)));
}

/** Listens on every host with the same port; with port 0 the first bind picks it and the rest reuse it. */
async function listen(ctx: FrontendContext, port: number, hosts: readonly string[], make: () => Server): Promise<Listener> {
  const servers: Server[] = [];
  let actual = port;
  for (const host of hosts) {
    let server: Server;
    try {
      server = await bind(make, actual, host);
    } catch (err) {
      // "::" is dual-stack on Linux (one socket for IPv4 and IPv6, like RabbitMQ's default
      // listener); on a host without IPv6 fall back to all IPv4 interfaces.
      const code = (err as NodeJS.ErrnoException).code;
      if (host !== '::' || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw err;
      ctx.log.warn({ code }, 'IPv6 unavailable; listening on 0.0.0.0');
      server = await bind(make, actual, '0.0.0.0');
    }
    server.on('error', (err) => ctx.log.error({ err }, 'listener error'));
    actual = (server.address() as AddressInfo).port;
    servers.push(server);
  }
  return {
    port: actual,
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

function bind(make: () => Server, port: number, host: string): Promise<Server> {
  const server = make();
  return new Promise<Server>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => { server.off('error', reject); resolve(server); });
  });
}
