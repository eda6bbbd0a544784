// The --state file: what a test or a person needs to reach the running local cluster. Written only
// once every node is up (so its existence means "ready"), rewritten on every change (a pid, a node
// going down or up), removed when the launcher stops. Each write is a temp file renamed over the
// old one, so a reader sees either the previous or the next version, never half of one.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostPort, type ClusterPlan, type NodeRole } from './plan.js';

export interface NodeState {
  readonly id: number;
  readonly role: NodeRole;
  /** null while the node is down (between its death and its restart). */
  readonly pid: number | null;
  /** Answered GET /readyz with 200 since it was last started. */
  readonly up: boolean;
  /** Frontends only: the node's own AMQP URL (clients should use lb.amqp). */
  readonly amqp?: string;
  readonly http: string;
  /** Owners only: the gRPC address other nodes dial. */
  readonly cluster?: string;
  readonly dataDir: string;
  readonly log: string;
  /** How many times the launcher has restarted it. */
  readonly restarts: number;
}

export interface ClusterState {
  readonly ready: true;
  /** The launcher's own pid: SIGTERM it to stop the cluster. */
  readonly pid: number;
  readonly lb: { readonly amqp: string; readonly http: string; readonly pid: number | null };
  readonly nodes: readonly NodeState[];
}

/** What the launcher knows of one running (or restarting) process. */
export interface ProcessStatus { readonly pid: number | undefined; readonly up: boolean; readonly restarts: number }

export function clusterState(plan: ClusterPlan, launcherPid: number, lb: ProcessStatus,
  nodes: ReadonlyMap<number, ProcessStatus>): ClusterState {
  const h = plan.host;
  return {
    ready: true,
    pid: launcherPid,
    lb: { amqp: `amqp://${hostPort(h, plan.lb.amqpPort)}/`, http: `http://${hostPort(h, plan.lb.httpPort)}`, pid: lb.pid ?? null },
    nodes: plan.nodes.map((n): NodeState => {
      const s = nodes.get(n.id);
      return {
        id: n.id, role: n.role, pid: s?.pid ?? null, up: s?.up ?? false,
        ...(n.amqpPort !== undefined ? { amqp: `amqp://${hostPort(h, n.amqpPort)}/` } : {}),
        http: `http://${hostPort(h, n.httpPort)}`,
        ...(n.clusterPort !== undefined ? { cluster: hostPort(h, n.clusterPort) } : {}),
        dataDir: n.dataDir, log: n.logFile, restarts: s?.restarts ?? 0,
      };
    }),
  };
}

/** Replaces `file` atomically (same directory, so the rename cannot cross file systems). */
export function writeStateFile(file: string, state: ClusterState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, file);
}

export function removeStateFile(file: string): void {
  rmSync(file, { force: true });
}
