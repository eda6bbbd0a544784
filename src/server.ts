// One Warren process: the node composed for its role (src/node/compose.ts, the embedded single node:
// metadata + owners in-process), the AMQP frontend's listeners on top, the admin HTTP server beside,
// and the order of a clean shutdown. The cluster roles compose differently (src/node/compose-owner.ts:
// replicas and gRPC, no AMQP; compose-frontend.ts: the same AMQP frontend over gRPC owner and
// metadata clients) and start the same listeners.
import type { AddressInfo } from 'node:net';
import { bindAdminHttp, startAdminServer } from './admin/index.js';
import { DEFAULT_CONFIG, type WarrenConfig } from './config.js';
import type { FrontendContext } from './frontend/context.js';
import { listenAmqp, listenAmqps, type Listener } from './frontend/listener.js';
import { configureLogging, type Logger } from './log.js';
import { composeNode, type Node } from './node/compose.js';
import { composeFrontend } from './node/compose-frontend.js';
import { composeOwner } from './node/compose-owner.js';
import { MemoryAlarm } from './node/memory-alarm.js';

export interface Warren {
  readonly amqpPort: number;
  readonly amqpsPort: number | undefined;
  readonly httpPort: number;
  readonly log: Logger;
  readonly ctx: FrontendContext;
  close(): Promise<void>;
}

export async function startWarren(overrides: Partial<WarrenConfig> = {}): Promise<Warren> {
  const configured: WarrenConfig = { ...DEFAULT_CONFIG, ...overrides };
  const log = configureLogging(configured.logLevel);
  // HTTP is bound first: a cluster frontend advertises its URL when it joins, so with --http-port 0
  // the port must be known before the node is composed.
  const http = await bindAdminHttp(configured.httpPort, configured.bind[0] ?? '::');
  const config: WarrenConfig = { ...configured, httpPort: (http.address() as AddressInfo).port };
  let node: Node;
  try {
    node = config.role === 'owner' ? await composeOwner(config, log)
      : config.role === 'frontend' ? await composeFrontend(config, log)
        : await composeNode(config, log);
  } catch (err) {
    await new Promise((r) => http.close(r));
    throw err;
  }
  const { ctx } = node;

  // An owner speaks gRPC only (its server is part of the node); the others serve AMQP.
  const listeners: Listener[] = config.role === 'owner' ? [] : [await listenAmqp(ctx, config.amqpPort, config.bind)];
  let amqpsPort: number | undefined;
  if (config.tls !== undefined && config.role !== 'owner') {
    const l = await listenAmqps(ctx, config.amqpsPort, config.bind);
    listeners.push(l);
    amqpsPort = l.port;
  }
  const alarm = new MemoryAlarm(ctx);
  const admin = await startAdminServer({
    port: config.httpPort, host: config.bind[0] ?? '::', bound: http, source: node.adminSource, logger: log,
  });
  const amqpPort = listeners[0]?.port ?? 0;
  log.info({ role: config.role, amqpPort, amqpsPort, httpPort: admin.port, dataDir: config.dataDir }, 'warren started');

  return {
    amqpPort, amqpsPort, httpPort: admin.port, log, ctx,
    close: async () => {
      alarm.stop();
      // Stop accepting first; a listener's close completes only once its connections have ended,
      // so clients are asked to close (320, as RabbitMQ on shutdown) and stragglers dropped.
      const closed = Promise.all(listeners.map((l) => l.close()));
      for (const c of [...ctx.connections]) c.forceClose(320, "broker forced connection closure with reason 'shutdown'");
      await waitUntil(() => ctx.connections.size === 0, SHUTDOWN_GRACE_MS);
      for (const c of [...ctx.connections]) c.destroy();
      await closed;
      await admin.close();
      await node.close();
    },
  };
}

/** How long shutdown waits for clients to answer connection.close before dropping them. */
const SHUTDOWN_GRACE_MS = 2000;

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
