// Builds a WarrenConfig from, in increasing precedence: defaults, a JSON config file
// (--config or WARREN_CONFIG), WARREN_* environment variables, command-line flags.
import { readFileSync } from 'node:fs';
import { DEFAULT_CONFIG, type OwnerAddress, type Role, type TlsConfig, type WarrenConfig } from '../config.js';

export interface StartFlags {
  config?: string;
  dataDir?: string;
  amqpPort?: string;
  amqpsPort?: string;
  httpPort?: string;
  bind?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  logLevel?: string;
  defaultUser?: string;
  defaultPass?: string;
  role?: string;
  nodeId?: string;
  owners?: string;
  clusterPort?: string;
  partitions?: string;
  replication?: string;
  advertiseHost?: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const ENV: ReadonlyArray<[keyof StartFlags, string]> = [
  ['dataDir', 'WARREN_DATA_DIR'], ['amqpPort', 'WARREN_AMQP_PORT'], ['amqpsPort', 'WARREN_AMQPS_PORT'],
  ['httpPort', 'WARREN_HTTP_PORT'], ['bind', 'WARREN_BIND'], ['tlsCert', 'WARREN_TLS_CERT'],
  ['tlsKey', 'WARREN_TLS_KEY'], ['tlsCa', 'WARREN_TLS_CA'], ['logLevel', 'WARREN_LOG_LEVEL'],
  ['defaultUser', 'WARREN_DEFAULT_USER'], ['defaultPass', 'WARREN_DEFAULT_PASS'],
  ['role', 'WARREN_ROLE'], ['nodeId', 'WARREN_NODE_ID'], ['owners', 'WARREN_OWNERS'], ['clusterPort', 'WARREN_CLUSTER_PORT'],
  ['partitions', 'WARREN_PARTITIONS'], ['replication', 'WARREN_REPLICATION'], ['advertiseHost', 'WARREN_ADVERTISE_HOST'],
];

const ROLES: readonly Role[] = ['all', 'owner', 'frontend'];

/** `1=host:port,2=host:port,…`: each owner's node id and gRPC address. */
export function parseOwners(v: string): OwnerAddress[] {
  const owners: OwnerAddress[] = [];
  for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const id = Number(part.slice(0, eq));
    const address = part.slice(eq + 1);
    if (eq < 1 || !Number.isInteger(id) || id < 1 || !/^.+:\d+$/.test(address)) {
      throw new Error(`invalid --owners entry '${part}': expected <node id>=<host>:<port>`);
    }
    if (owners.some((o) => o.id === id)) throw new Error(`--owners names node ${id} twice`);
    owners.push({ id, address });
  }
  return owners;
}

/** The cluster settings make sense together: a clustered role knows the owners, an owner is one of them. */
function checkCluster(cfg: WarrenConfig): void {
  if (cfg.role === 'all') {
    if (cfg.owners.length > 0) throw new Error('--owners needs --role owner or frontend (role all is the embedded single node)');
    return;
  }
  if (cfg.owners.length === 0) throw new Error(`--role ${cfg.role} needs --owners`);
  if (cfg.role === 'owner' && cfg.nodeId === 0) throw new Error('--role owner needs --node-id');
  const listed = cfg.owners.some((o) => o.id === cfg.nodeId);
  if (cfg.role === 'owner' && !listed) throw new Error(`--node-id ${cfg.nodeId} is not one of --owners`);
  if (cfg.role === 'frontend' && listed) throw new Error(`--node-id ${cfg.nodeId} is an owner's id; a frontend needs its own`);
}

/** Partition groups of a new data dir (data-dir.ts checks the same bound). */
const MAX_PARTITIONS = 1024;
/** Replicas of a partition: Raft groups beyond 7 voters gain nothing but latency. */
const MAX_REPLICATION = 7;

function intIn(v: string, what: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isInteger(n) || n < min || n > max) throw new Error(`invalid ${what}: ${v} (an integer from ${min} to ${max})`);
  return n;
}

function port(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid ${what}: ${v}`);
  return n;
}

export function loadConfig(flags: StartFlags, env: NodeJS.ProcessEnv = process.env): WarrenConfig {
  const cfg: Mutable<WarrenConfig> = { ...DEFAULT_CONFIG };
  const file = flags.config ?? env['WARREN_CONFIG'];
  if (file !== undefined) Object.assign(cfg, JSON.parse(readFileSync(file, 'utf8')) as Partial<WarrenConfig>);
  const merged: StartFlags = {};
  for (const [key, name] of ENV) {
    const v = flags[key] ?? env[name];
    if (v !== undefined) merged[key] = v;
  }
  if (merged.dataDir !== undefined) cfg.dataDir = merged.dataDir;
  if (merged.amqpPort !== undefined) cfg.amqpPort = port(merged.amqpPort, '--amqp-port');
  if (merged.amqpsPort !== undefined) cfg.amqpsPort = port(merged.amqpsPort, '--amqps-port');
  if (merged.httpPort !== undefined) cfg.httpPort = port(merged.httpPort, '--http-port');
  if (merged.bind !== undefined) cfg.bind = merged.bind.split(',').map((s) => s.trim()).filter(Boolean);
  if (merged.logLevel !== undefined) cfg.logLevel = merged.logLevel;
  if (merged.defaultUser !== undefined) cfg.defaultUser = merged.defaultUser;
  if (merged.defaultPass !== undefined) cfg.defaultPass = merged.defaultPass;
  if (merged.role !== undefined) {
    if (!ROLES.includes(merged.role as Role)) throw new Error(`invalid --role: ${merged.role} (all, owner or frontend)`);
    cfg.role = merged.role as Role;
  }
  // A StatefulSet pod's ordinal (0, 1, …), e.g. the apps.kubernetes.io/pod-index label through the
  // downward API (the Helm chart's owners): a stable id per pod with no shell in the image. Ids
  // start at 1, so id = ordinal + 1; an explicit --node-id / WARREN_NODE_ID wins.
  const ordinal = env['WARREN_NODE_ID_FROM_ORDINAL'];
  if (merged.nodeId === undefined && ordinal !== undefined) {
    if (!/^\d+$/.test(ordinal)) {
      throw new Error(`invalid WARREN_NODE_ID_FROM_ORDINAL: '${ordinal}' (a pod ordinal; the apps.kubernetes.io/pod-index label needs Kubernetes 1.28+)`);
    }
    merged.nodeId = String(Number(ordinal) + 1);
  }
  if (merged.nodeId !== undefined) {
    const n = Number(merged.nodeId);
    if (!Number.isInteger(n) || n < 1 || n > 0xffff) throw new Error(`invalid --node-id: ${merged.nodeId}`);
    cfg.nodeId = n;
  }
  if (merged.owners !== undefined) cfg.owners = parseOwners(merged.owners);
  if (merged.clusterPort !== undefined) cfg.clusterPort = port(merged.clusterPort, '--cluster-port');
  if (merged.partitions !== undefined) cfg.partitions = intIn(merged.partitions, '--partitions', 1, MAX_PARTITIONS);
  if (merged.replication !== undefined) cfg.replication = intIn(merged.replication, '--replication', 1, MAX_REPLICATION);
  if (merged.advertiseHost !== undefined) cfg.advertiseHost = merged.advertiseHost;
  if (merged.tlsCert !== undefined || merged.tlsKey !== undefined) {
    if (merged.tlsCert === undefined || merged.tlsKey === undefined) throw new Error('TLS needs both --tls-cert and --tls-key');
    const tls: TlsConfig = { certFile: merged.tlsCert, keyFile: merged.tlsKey, ...(merged.tlsCa ? { caFile: merged.tlsCa } : {}) };
    cfg.tls = tls;
  }
  checkCluster(cfg);
  return cfg;
}
