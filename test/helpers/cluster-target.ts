// The integration suite's cluster target (WARREN_TEST_TARGET=cluster): one real `warren cluster`
// per test process (3 owners and 2 frontends running `warren start --role …`, haproxy in front),
// shared by every startBroker() of that process and stopped when the last one stops. Tests reach
// it through the balancer only, as clients of `npm run cluster` do.
//
// WARREN_TEST_CLUSTER_STATE=FILE uses an already running cluster instead (the --state file of
// `npm run cluster -- --state FILE`); it is left running.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterState } from '../../src/launcher/state.js';
import { alive, cleanUp, get, readState, startLauncher, waitFor, waitReady, type Launcher } from '../launcher/harness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const REAL_NODE = [process.execPath, '--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'start'];

export interface ClusterTarget {
  readonly state: ClusterState;
  release(): Promise<void>;
}

let shared: { started: Promise<{ launcher: Launcher; state: Promise<ClusterState> }>; users: number } | undefined;

/** Every pid the launcher has run (nodes, haproxy), so none outlives a failed stop. */
function pidsOf(l: Launcher): number[] {
  const s = readState(l.stateFile);
  return [...(s?.nodes ?? []).map((n) => n.pid), s?.lb.pid ?? null].filter((p): p is number => p !== null);
}

async function launch(): Promise<{ launcher: Launcher; state: Promise<ClusterState> }> {
  const launcher = await startLauncher(['--restart-delay-ms', '500', '--log-level', 'warn'],
    { WARREN_CLUSTER_NODE_COMMAND: JSON.stringify(REAL_NODE) });
  // A test process that ends without after() hooks (a crash, a timeout) must not orphan the cluster:
  // SIGTERM makes the launcher stop its nodes.
  const stopLauncher = (): void => { if (launcher.child.exitCode === null) launcher.child.kill('SIGTERM'); };
  process.once('exit', stopLauncher);
  // Nor one killed by a signal ('exit' does not run then); it still ends as the signal would end it.
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => { stopLauncher(); process.exit(128 + (signal === 'SIGTERM' ? 15 : 1)); });
  }
  const state = (async () => {
    const s = await waitReady(launcher, 120_000);
    await waitFor('every node ready', () => Promise.all(s.nodes.map((n) => get(`${n.http}/readyz`).then((r) => r.status, () => 0))),
      (codes) => codes.every((c) => c === 200), 60_000);
    return s;
  })();
  return { launcher, state };
}

async function stop(l: Launcher): Promise<void> {
  const pids = pidsOf(l);
  l.child.kill('SIGTERM');
  // The launcher stops its children (SIGTERM, SIGKILL after its grace) and exits; cleanUp makes sure.
  await Promise.race([l.exit, sleep(15_000)]);
  await cleanUp(l, pids.filter(alive));
}

export async function useCluster(): Promise<ClusterTarget> {
  const attach = process.env['WARREN_TEST_CLUSTER_STATE'];
  if (attach !== undefined && attach !== '') {
    const s = readState(attach);
    if (s?.ready !== true) throw new Error(`WARREN_TEST_CLUSTER_STATE=${attach}: no ready cluster state there`);
    return { state: s, release: async () => {} };
  }
  shared ??= { started: launch(), users: 0 };
  const mine = shared;
  mine.users++;
  let state: ClusterState;
  try {
    state = await (await mine.started).state;
  } catch (err) {
    const l = await mine.started.then((x) => x.launcher, () => undefined);
    throw new Error(`the test cluster did not start: ${(err as Error).message}${l ? `\nlauncher stderr:\n${l.stderr()}` : ''}`);
  }
  let released = false;
  return {
    state,
    release: async () => {
      if (released) return;
      released = true;
      if (--mine.users > 0) return;
      if (shared === mine) shared = undefined;
      await stop((await mine.started).launcher);
    },
  };
}
