// An owner's replica of the metadata group (Raft group 0, DESIGN §2): the same MetaGroupApp as the
// embedded node's single voter, with every owner of the cluster as a voter. The owner composition
// opens it on its RaftHost (whose sender is the node's RaftTransport) and serves it with serveMeta.
import type { MetaMachine } from '../meta/machine.js';
import { MetaGroupApp } from '../node/meta-group.js';
import type { RoleInfo } from '../raft/node/app.js';
import type { GroupDriver } from '../raft/node/group.js';
import type { RaftHost } from '../raft/node/host.js';
import { META_GROUP_ID } from './meta-service.js';

export interface MetaReplicaOptions {
  /** This owner's Raft id. */
  readonly self: number;
  /** Every owner's Raft id: the group's voters when it is created (ignored once it exists on disk). */
  readonly voters: readonly number[];
  /** A brand-new cluster's state (initialMeta(config)): identical on every owner. */
  readonly initial: () => MetaMachine;
  /** Election timeout and heartbeat interval in host ticks. */
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly onRole?: (role: RoleInfo) => void;
  readonly onDefect?: (err: unknown, index: number) => void;
}

export interface MetaReplica {
  readonly app: MetaGroupApp;
  readonly group: GroupDriver;
}

/** Opens (or creates) this owner's replica of group 0 on `host`, which must have storage. */
export async function openMetaReplica(host: RaftHost, opts: MetaReplicaOptions): Promise<MetaReplica> {
  if (!opts.voters.includes(opts.self)) throw new Error(`meta: owner ${opts.self} is not among the voters ${opts.voters.join(',')}`);
  const app = new MetaGroupApp(opts.initial, opts.onRole, opts.onDefect);
  const group = await host.createGroup(META_GROUP_ID, {
    id: opts.self, voters: [...opts.voters],
    electionTicks: opts.electionTicks ?? 10, heartbeatTicks: opts.heartbeatTicks ?? 2,
    preVote: true, checkQuorum: true,
  }, app);
  return { app, group };
}
