// Builds a WarrenConfig from, in increasing precedence: defaults, a JSON config file
// (--config or WARREN_CONFIG), WARREN_* environment variables, command-line flags.
import { readFileSync } from 'node:fs';
import { DEFAULT_CONFIG, type TlsConfig, type WarrenConfig } from '../config.js';

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
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const ENV: ReadonlyArray<[keyof StartFlags, string]> = [
  ['dataDir', 'WARREN_DATA_DIR'], ['amqpPort', 'WARREN_AMQP_PORT'], ['amqpsPort', 'WARREN_AMQPS_PORT'],
  ['httpPort', 'WARREN_HTTP_PORT'], ['bind', 'WARREN_BIND'], ['tlsCert', 'WARREN_TLS_CERT'],
  ['tlsKey', 'WARREN_TLS_KEY'], ['tlsCa', 'WARREN_TLS_CA'], ['logLevel', 'WARREN_LOG_LEVEL'],
  ['defaultUser', 'WARREN_DEFAULT_USER'], ['defaultPass', 'WARREN_DEFAULT_PASS'],
];

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
  if (merged.tlsCert !== undefined || merged.tlsKey !== undefined) {
    if (merged.tlsCert === undefined || merged.tlsKey === undefined) throw new Error('TLS needs both --tls-cert and --tls-key');
    const tls: TlsConfig = { certFile: merged.tlsCert, keyFile: merged.tlsKey, ...(merged.tlsCa ? { caFile: merged.tlsCa } : {}) };
    cfg.tls = tls;
  }
  return cfg;
}
