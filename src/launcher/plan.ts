// The local cluster's layout, decided before anything starts: which nodes, their ids, ports, data
// directories, log files and `warren start` flags. Pure: no sockets, no file system, no clock.
//
// Port plan: the balancer takes --amqp-port and --http-port; every node takes two consecutive
// ports from --base-port on, in node order (owners 1..N, then frontends 101..): an owner's gRPC
// (--cluster-port) and HTTP ports, a frontend's AMQP and HTTP ports. With the defaults that is
// 25700-25709 for 3 owners and 2 frontends.
import { isIPv6 } from 'node:net';
import { join } from 'node:path';

export const ROLES = ['owner', 'frontend'] as const;
export type NodeRole = typeof ROLES[number];

/** Frontend ids start here so they can never collide with an owner's (1..N). */
export const FIRST_FRONTEND_ID = 101;
/** Ports a node takes from the base-port range. */
export const PORTS_PER_NODE = 2;

export interface LauncherOptions {
  readonly dataDir: string;
  readonly owners: number;
  readonly frontends: number;
  readonly host: string;
  readonly amqpPort: number;
  readonly httpPort: number;
  readonly basePort: number;
  readonly logLevel: string;
  readonly restartDelayMs: number;
  /** SIGTERM → SIGKILL grace when stopping a child. */
  readonly stopGraceMs: number;
  /** JSON file rewritten on every change once the cluster is ready (absent: none). */
  readonly stateFile?: string;
  /** argv prefix of a node process, before its flags (absent: `node dist/cli/main.js start`). */
  readonly nodeCommand?: readonly string[];
}

export const DEFAULT_LAUNCHER_OPTIONS = {
  dataDir: './cluster-data',
  owners: 3,
  frontends: 2,
  host: '127.0.0.1',
  amqpPort: 5672,
  httpPort: 15672,
  basePort: 25700,
  logLevel: 'info',
  restartDelayMs: 2000,
  stopGraceMs: 10_000,
} as const satisfies LauncherOptions;

/** Limits that keep a typo (`--owners 300`) from forking hundreds of processes. */
export const MAX_OWNERS = 9;
export const MAX_FRONTENDS = 9;

export interface NodePlan {
  readonly id: number;
  readonly role: NodeRole;
  /** `owner-1`, `frontend-101`: the node's data directory and log file are named after it. */
  readonly name: string;
  readonly httpPort: number;
  /** Owners only: the gRPC port other nodes reach it on. */
  readonly clusterPort?: number;
  /** Frontends only. */
  readonly amqpPort?: number;
  readonly dataDir: string;
  readonly logFile: string;
  /** The `warren start` flags (after the command prefix). */
  readonly args: readonly string[];
}

export interface PortUse { readonly port: number; readonly what: string }

export interface ClusterPlan {
  readonly host: string;
  readonly nodes: readonly NodePlan[];
  readonly lb: { readonly amqpPort: number; readonly httpPort: number };
  /** Every port the cluster listens on, with what it is for (the launcher checks they are free). */
  readonly ports: readonly PortUse[];
  readonly haproxyConfigFile: string;
  readonly haproxyLogFile: string;
}

function checkInt(v: number, what: string, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`invalid ${what}: ${v} (an integer from ${min} to ${max})`);
}

/** `host:port`, bracketing an IPv6 host as URLs need. */
export function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

export function planCluster(o: LauncherOptions): ClusterPlan {
  checkInt(o.owners, '--owners', 1, MAX_OWNERS);
  checkInt(o.frontends, '--frontends', 1, MAX_FRONTENDS);
  checkInt(o.amqpPort, '--amqp-port', 1, 65535);
  checkInt(o.httpPort, '--http-port', 1, 65535);
  checkInt(o.restartDelayMs, '--restart-delay-ms', 0, 3_600_000);
  const count = o.owners + o.frontends;
  checkInt(o.basePort, '--base-port', 1024, 65536 - count * PORTS_PER_NODE);
  if (o.host.trim() === '') throw new Error('invalid --host: empty');

  const slots: Array<{ role: NodeRole; id: number }> = [];
  for (let i = 1; i <= o.owners; i++) slots.push({ role: 'owner', id: i });
  for (let i = 0; i < o.frontends; i++) slots.push({ role: 'frontend', id: FIRST_FRONTEND_ID + i });
  const ownerList = slots.filter((s) => s.role === 'owner')
    .map((s, k) => `${s.id}=${hostPort(o.host, o.basePort + k * PORTS_PER_NODE)}`).join(',');

  const nodes = slots.map(({ role, id }, k): NodePlan => {
    const first = o.basePort + k * PORTS_PER_NODE;
    const name = `${role}-${id}`;
    const dataDir = join(o.dataDir, name);
    const httpPort = first + 1;
    const common = ['--role', role, '--node-id', String(id), '--owners', ownerList, '--http-port', String(httpPort),
      '--data-dir', dataDir, '--bind', o.host, '--log-level', o.logLevel];
    const own = role === 'owner' ? ['--cluster-port', String(first)] : ['--amqp-port', String(first)];
    return {
      id, role, name, httpPort, dataDir, logFile: join(o.dataDir, `${name}.log`), args: [...common, ...own],
      ...(role === 'owner' ? { clusterPort: first } : { amqpPort: first }),
    };
  });

  const ports: PortUse[] = [
    { port: o.amqpPort, what: 'balancer AMQP (--amqp-port)' },
    { port: o.httpPort, what: 'balancer HTTP (--http-port)' },
  ];
  for (const n of nodes) {
    if (n.clusterPort !== undefined) ports.push({ port: n.clusterPort, what: `${n.name} gRPC` });
    if (n.amqpPort !== undefined) ports.push({ port: n.amqpPort, what: `${n.name} AMQP` });
    ports.push({ port: n.httpPort, what: `${n.name} HTTP` });
  }
  for (let i = 0; i < ports.length; i++) {
    const clash = ports.slice(0, i).find((p) => p.port === ports[i]!.port);
    if (clash) throw new Error(`port ${clash.port} is planned twice: ${clash.what} and ${ports[i]!.what} (move --base-port)`);
  }
  return {
    host: o.host, nodes, lb: { amqpPort: o.amqpPort, httpPort: o.httpPort }, ports,
    haproxyConfigFile: join(o.dataDir, 'haproxy.cfg'), haproxyLogFile: join(o.dataDir, 'haproxy.log'),
  };
}
