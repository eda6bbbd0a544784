// A stand-in for `warren start --role owner|frontend` while the real roles are being built: it takes
// exactly the cluster flags the launcher passes (an unknown or missing one fails it, as it would fail
// the real CLI's checks), and serves what the launcher and its tests look at:
//   HTTP  GET /readyz → 200, GET /whoami → {"id","role","pid","args"}
//   AMQP  (frontends) a one-line banner `fake-node <id>\n` to each connection
//   gRPC  (owners) the same banner on --cluster-port, so the port is really taken
// FAKE_NODE_READY_DELAY_MS delays readiness (503 until then); FAKE_NODE_IGNORE_SIGTERM=1 makes it
// ignore SIGTERM (to test the launcher's SIGKILL after the grace).
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { parseArgs } from 'node:util';

const { values: f } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'start'),
  options: {
    role: { type: 'string' }, 'node-id': { type: 'string' }, owners: { type: 'string' },
    'cluster-port': { type: 'string' }, 'amqp-port': { type: 'string' }, 'http-port': { type: 'string' },
    'data-dir': { type: 'string' }, bind: { type: 'string' }, 'log-level': { type: 'string' },
  },
  strict: true,
});

function need(name: keyof typeof f): string {
  const v = f[name];
  if (v === undefined) { process.stderr.write(`fake-node: --${name} is required\n`); process.exit(2); }
  return v;
}

const role = need('role');
const id = Number(need('node-id'));
const host = need('bind');
need('owners'); need('data-dir'); need('log-level');
const httpPort = Number(need('http-port'));
const startedAt = Date.now();
const readyDelayMs = Number(process.env['FAKE_NODE_READY_DELAY_MS'] ?? 0);

const http = createHttpServer((req, res) => {
  if (req.url === '/readyz') {
    const ready = Date.now() - startedAt >= readyDelayMs;
    res.writeHead(ready ? 200 : 503).end(ready ? 'ready\n' : 'not ready\n');
  } else if (req.url === '/whoami') {
    res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ id, role, pid: process.pid, args: process.argv.slice(2) }));
  } else {
    res.writeHead(404).end();
  }
});

const banner = (): Server => createServer((s) => { s.on('error', () => {}); s.end(`fake-node ${id}\n`); });
const servers: Server[] = [http];
const listen = (srv: Server, port: number): Promise<void> => new Promise((resolve, reject) => {
  srv.once('error', reject);
  srv.listen(port, host, () => resolve());
});

await listen(http, httpPort);
if (role === 'frontend') {
  servers.push(banner());
  await listen(servers[1]!, Number(need('amqp-port')));
} else if (role === 'owner') {
  servers.push(banner());
  await listen(servers[1]!, Number(need('cluster-port')));
} else {
  process.stderr.write(`fake-node: bad --role ${role}\n`);
  process.exit(2);
}
process.stdout.write(`fake-node ${id} (${role}) pid ${process.pid} listening\n`);

process.on('SIGTERM', () => {
  if (process.env['FAKE_NODE_IGNORE_SIGTERM'] === '1') { process.stdout.write('fake-node: ignoring SIGTERM\n'); return; }
  for (const s of servers) s.close();
  process.stdout.write('fake-node: SIGTERM, exiting\n');
  process.exit(0);
});
