// `warren cluster` (`npm run cluster`): a local cluster on loopback for development and tests:
// owners, frontends and haproxy in front, supervised until Ctrl-C or SIGTERM. See docs/operations.md
// "Local cluster".
//
// Exit status: 0 after a clean stop (signal), 1 when the cluster could not start, 2 for bad options.
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { NODE_COMMAND_ENV, parseNodeCommand } from '../launcher/commands.js';
import { launchCluster, type RunningCluster } from '../launcher/launcher.js';
import { DEFAULT_LAUNCHER_OPTIONS as D, planCluster, type LauncherOptions } from '../launcher/plan.js';
import type { ClusterState } from '../launcher/state.js';

interface RawFlags {
  dataDir: string; owners: string; frontends: string; host: string; amqpPort: string; httpPort: string;
  basePort: string; state?: string; restartDelayMs: string; stopGraceMs: string; logLevel: string; nodeCommand?: string;
}

/** Non-numbers become NaN, which planCluster rejects with the flag's name. */
function num(v: string): number {
  return v.trim() === '' ? Number.NaN : Number(v);
}

function toOptions(f: RawFlags): LauncherOptions {
  const cmd = f.nodeCommand ?? process.env[NODE_COMMAND_ENV];
  return {
    // Absolute, so the state file's paths mean the same from any working directory.
    dataDir: resolve(f.dataDir), owners: num(f.owners), frontends: num(f.frontends), host: f.host, amqpPort: num(f.amqpPort),
    httpPort: num(f.httpPort), basePort: num(f.basePort), restartDelayMs: num(f.restartDelayMs),
    stopGraceMs: num(f.stopGraceMs), logLevel: f.logLevel,
    ...(f.state !== undefined ? { stateFile: resolve(f.state) } : {}),
    ...(cmd !== undefined && cmd !== '' ? { nodeCommand: parseNodeCommand(cmd) } : {}),
  };
}

function summary(s: ClusterState): string {
  const rows = s.nodes.map((n) => `  ${`${n.role} ${n.id}`.padEnd(13)} pid ${String(n.pid).padEnd(7)} ` +
    `${n.amqp !== undefined ? `amqp ${n.amqp}  ` : `grpc ${n.cluster ?? ''}  `}http ${n.http}  log ${n.log}`);
  return [`cluster ready: AMQP ${s.lb.amqp}  HTTP ${s.lb.http}  (haproxy pid ${s.lb.pid})`, ...rows,
    'Ctrl-C stops it.'].join('\n');
}

export function clusterCommand(): Command {
  return new Command('cluster')
    .description('run a local cluster on this machine: owners, frontends and haproxy in front (Ctrl-C stops it)')
    .option('--data-dir <dir>', 'each node\'s data directory and log file go under it', D.dataDir)
    .option('--owners <n>', 'owner nodes (ids 1..n)', String(D.owners))
    .option('--frontends <n>', 'frontend nodes (ids 101..)', String(D.frontends))
    .option('--host <addr>', 'loopback address every node and the balancer listen on', D.host)
    .option('--amqp-port <n>', 'the balancer\'s AMQP port', String(D.amqpPort))
    .option('--http-port <n>', 'the balancer\'s HTTP port (management API)', String(D.httpPort))
    .option('--base-port <n>', 'nodes take two ports each from here on', String(D.basePort))
    .option('--state <file>', 'write the cluster\'s addresses and pids as JSON once ready, rewrite on change')
    .option('--restart-delay-ms <n>', 'wait before restarting a node that died', String(D.restartDelayMs))
    .option('--stop-grace-ms <n>', 'on stop, SIGKILL a child still running after this long', String(D.stopGraceMs))
    .option('--log-level <level>', 'the nodes\' pino level', D.logLevel)
    // For tests: run something else than `warren start` as the node (a JSON argv prefix); env WARREN_CLUSTER_NODE_COMMAND.
    .addOption(new Option('--node-command <json>').hideHelp())
    .action(async (flags: RawFlags) => {
      process.exitCode = await clusterAction(flags);
    });
}

async function clusterAction(flags: RawFlags): Promise<number> {
  const say = (line: string): void => { process.stderr.write(`cluster: ${line}\n`); };
  let opts: LauncherOptions;
  try {
    opts = toOptions(flags);
    planCluster(opts); // bad counts or ports: exit 2 before anything is checked or started
  } catch (err) {
    say((err as Error).message);
    return 2;
  }
  let cluster: RunningCluster;
  try {
    cluster = await launchCluster(opts, { message: say });
  } catch (err) {
    say((err as Error).message);
    return 1;
  }
  let stopping: Promise<void> | undefined;
  const stop = (signal: string): Promise<void> => {
    if (stopping !== undefined) return stopping;
    say(`${signal}: stopping every node and haproxy`);
    stopping = cluster.stop();
    return stopping;
  };
  // SIGHUP too: a closed terminal must not leave the nodes running without their launcher.
  const stopped = new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => void stop(signal).then(resolve));
  });
  // A launcher bug must not orphan the children: stop them, then fail.
  process.once('uncaughtException', (err) => {
    say(`internal error: ${err.stack ?? err.message}`);
    void stop('internal error').finally(() => process.exit(1));
  });
  cluster.ready.then((s) => process.stdout.write(summary(s) + '\n'), () => {});
  await stopped;
  say('stopped');
  return 0;
}
