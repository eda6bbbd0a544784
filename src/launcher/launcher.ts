// The local cluster: N owners, M frontends and haproxy in front, all children of this process.
//
// Order: plan (pure) → every port free → directories, haproxy.cfg checked by `haproxy -c` → nodes
// started together → each answers /readyz → haproxy started → it listens → ready: the state file is
// written and from then on rewritten on every change. A child that dies is restarted after the
// restart delay, before and after ready alike. stop() ends everything: all children get SIGTERM at
// once, SIGKILL after the grace, then the state file is removed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { checkHaproxyConfig, findHaproxy, haproxyArgv, nodeCommand } from './commands.js';
import { haproxyConfig } from './haproxy-config.js';
import { hostPort, planCluster, type ClusterPlan, type LauncherOptions } from './plan.js';
import { assertPortsFree, listeningProbe, readyzProbe } from './probe.js';
import { clusterState, removeStateFile, writeStateFile, type ClusterState, type ProcessStatus } from './state.js';
import { Supervised } from './supervisor.js';

export interface LauncherIo {
  /** Progress and events, one line each. */
  message(line: string): void;
}

export interface RunningCluster {
  readonly plan: ClusterPlan;
  /** Resolves once every node and the balancer are up (and the state file is written). */
  readonly ready: Promise<ClusterState>;
  state(): ClusterState;
  /** Stops every child (SIGTERM, SIGKILL after the grace) and removes the state file. */
  stop(): Promise<void>;
}

/** Throws (before starting anything) when the options, the ports, haproxy or the node command are wrong. */
export async function launchCluster(o: LauncherOptions, io: LauncherIo): Promise<RunningCluster> {
  const plan = planCluster(o);
  const haproxy = findHaproxy();
  const nodeArgv = nodeCommand(o.nodeCommand);
  await assertPortsFree(plan.host, plan.ports);

  for (const n of plan.nodes) mkdirSync(n.dataDir, { recursive: true });
  // A state file left by an earlier run must not pass for this one's readiness.
  if (o.stateFile !== undefined) removeStateFile(o.stateFile);
  writeFileSync(plan.haproxyConfigFile, haproxyConfig(plan));
  checkHaproxyConfig(haproxy, plan.haproxyConfigFile);

  let isReady = false;
  let stopped = false;
  const snapshot = (): ClusterState => clusterState(plan, process.pid, lb.status(),
    new Map<number, ProcessStatus>(nodes.map(([id, s]) => [id, s.status()])));
  const onChange = (): void => {
    if (isReady && !stopped && o.stateFile !== undefined) {
      // A failed write (the directory removed, disk full) is reported, not fatal: the children run on.
      try { writeStateFile(o.stateFile, snapshot()); } catch (err) { io.message(`cannot write ${o.stateFile}: ${(err as Error).message}`); }
    }
    wake();
  };
  // Readiness is level-triggered: every change wakes the waiter, which re-checks the statuses.
  let wake: () => void = () => {};
  const events = { onChange: () => onChange(), onMessage: (line: string) => io.message(line) };

  const nodes = plan.nodes.map((n): [number, Supervised] => [n.id, new Supervised({
    name: n.name, argv: [...nodeArgv, ...n.args], logFile: n.logFile, restartDelayMs: o.restartDelayMs, stopWithLauncher: true,
    probe: readyzProbe(`http://${hostPort(plan.host, n.httpPort)}`),
  }, events)]);
  const lb = new Supervised({
    name: 'haproxy', argv: haproxyArgv(haproxy, plan.haproxyConfigFile), logFile: plan.haproxyLogFile,
    restartDelayMs: o.restartDelayMs, probe: listeningProbe(plan.host, [plan.lb.amqpPort, plan.lb.httpPort]),
  }, events);

  const until = async (cond: () => boolean): Promise<void> => {
    while (!cond()) {
      if (stopped) throw new Error('the cluster was stopped before it was ready');
      await new Promise<void>((resolve) => { wake = resolve; });
    }
  };

  const ready = (async (): Promise<ClusterState> => {
    for (const [, s] of nodes) s.start();
    await until(() => nodes.every(([, s]) => s.status().up));
    lb.start();
    await until(() => lb.status().up);
    isReady = true;
    const state = snapshot();
    if (o.stateFile !== undefined) writeStateFile(o.stateFile, state);
    return state;
  })();
  ready.catch(() => { /* the caller sees it through `ready`; stop() during startup is not a failure */ });

  return {
    plan, ready, state: snapshot,
    stop: async () => {
      stopped = true;
      wake();
      await Promise.all([lb, ...nodes.map(([, s]) => s)].map((s) => s.stop(o.stopGraceMs)));
      if (o.stateFile !== undefined) removeStateFile(o.stateFile);
    },
  };
}
