#!/usr/bin/env node
// The `warren` command: the composition root. Nothing imports this module.
import { Command } from 'commander';
import { VERSION } from '../frontend/server-properties.js';
import { benchCommand } from './bench.js';
import { clusterCommand } from './cluster.js';
import { loadConfig, type StartFlags } from './config-load.js';
import { ctlCommand } from './ctl.js';
import { STOP_WITH_LAUNCHER_ENV } from '../launcher/commands.js';
import { NODE_FLAGS } from '../launcher/node-flags.js';

const program = new Command('warren').version(VERSION).description('Warren: a clustered AMQP 0-9-1 broker');

program.command('start')
  .description('start a node: the embedded single-node broker (default), or a cluster owner or frontend (--role)')
  .option('--config <file>', 'JSON config file (env WARREN_CONFIG)')
  .option('--data-dir <dir>', 'data directory (env WARREN_DATA_DIR)', undefined)
  .option('--amqp-port <n>', 'AMQP port, 0 = any free port (env WARREN_AMQP_PORT)')
  .option('--amqps-port <n>', 'AMQPS port when TLS is configured (env WARREN_AMQPS_PORT)')
  .option('--http-port <n>', 'HTTP admin port (env WARREN_HTTP_PORT)')
  .option('--bind <addrs>', 'comma-separated listen addresses; default "::" (all, IPv4+IPv6) (env WARREN_BIND)')
  .option('--tls-cert <file>', 'PEM certificate: enables the AMQPS listener (env WARREN_TLS_CERT)')
  .option('--tls-key <file>', 'PEM private key (env WARREN_TLS_KEY)')
  .option('--tls-ca <file>', 'PEM CA bundle (env WARREN_TLS_CA)')
  .option('--role <role>', 'all (embedded single node, default) | owner (replicas, gRPC only) | frontend (AMQP, stateless) (env WARREN_ROLE)')
  .option('--node-id <n>', "this node's id in the cluster, a positive integer (env WARREN_NODE_ID)")
  .option('--owners <list>', "the cluster's owners: <id>=<host>:<port>,... (gRPC addresses) (env WARREN_OWNERS)")
  .option('--cluster-port <n>', "an owner's gRPC port, default 25672 (env WARREN_CLUSTER_PORT)")
  .option('--partitions <n>', 'partition groups of a new data dir or cluster, default 16; fixed once created (env WARREN_PARTITIONS)')
  .option('--advertise-host <host>', "a cluster frontend's host as the other frontends reach its HTTP API (default: its bind address, else its host name) (env WARREN_ADVERTISE_HOST)")
  .option('--replication <n>', "a cluster partition's replicas, default 3, capped by the owner count; fixed by the stored placement (env WARREN_REPLICATION)")
  .option('--log-level <level>', 'pino level: trace|debug|info|warn|error|silent (env WARREN_LOG_LEVEL)')
  .action(async (flags: StartFlags) => {
    const { startWarren } = await import('../server.js');
    const cfg = loadConfig(flags);
    const w = await startWarren(cfg);
    const missing = NODE_FLAGS.filter((f) => !process.execArgv.includes(f));
    if (missing.length > 0) {
      w.log.info({ missing }, 'node runs without the V8 flags Warren is tuned for (npm start, bin/warren.js and the image pass them; see src/launcher/node-flags.ts): expect more GC under load');
    }
    const stop = (signal: string): void => {
      w.log.info({ signal }, 'shutting down');
      void w.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    // Started by `warren cluster`: its stdin is a pipe from the launcher, which ends when the
    // launcher is gone (killed with -9 included): stop rather than hold the ports on.
    if (process.env[STOP_WITH_LAUNCHER_ENV] === '1') {
      process.stdin.once('end', () => stop('launcher gone'));
      process.stdin.resume();
    }
  });

program.addCommand(benchCommand());
program.addCommand(clusterCommand());
program.addCommand(ctlCommand());

await program.parseAsync(process.argv);
