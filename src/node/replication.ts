// The Raft groups of one embedded node: a RaftHost over the node's LevelDB (`<dataDir>/raft`),
// with the metadata group (group 0) as a single-voter group until the cluster (issue 8) adds
// members. Every change to it is committed — fsynced in the group-commit write loop — before it
// is applied, so an answer sent after apply is durable.
import { join } from 'node:path';
import { AmqpError } from '../amqp/errors.js';
import { encodeMeta } from '../meta/codec.js';
import type { MetaResult } from '../meta/types.js';
import type { Logger } from '../log.js';
import { RaftHost } from '../raft/node/host.js';
import type { GroupDriver } from '../raft/node/group.js';
import type { GroupApp } from '../raft/node/app.js';
import type { CompactionPolicy } from '../raft/node/compaction.js';
import { LevelRaftStorage } from '../raft/storage/level.js';
import { MetaGroupApp, type MetaOutcome } from './meta-group.js';
import type { MetaBackend } from './meta-port.js';
import type { MetaMachine } from '../meta/machine.js';

/** The metadata group's id; partitions are 1..P. */
export const META_GROUP = 0;
/** This node's Raft id while it is the only member. */
const SELF = 1;
/** One tick; a single voter elects itself after 10–20 ticks at start. */
const TICK_MS = 10;
const ELECTION_TICKS = 10;
const LEADER_WAIT_MS = 10_000;
const MIB = 1024 * 1024;
/**
 * LevelDB maps the table files it keeps open, and pages of messages read back stay resident while
 * their file is open: at most 64 open table files (LevelDB's minimum) of 1 MiB bound that at 64 MiB.
 */
const LEVELDB_OPEN_FILES = 74;
const LEVELDB_FILE_BYTES = MIB;
/** Deleted messages and log entries are compacted away after every 32 MiB written (level-compact.ts). */
const COMPACT_DELETED_EVERY_BYTES = 32 * MIB;
/**
 * Every entry of a group's log stays in memory (the core's log) until compacted, and a partition's
 * entries carry message bodies: the log is compacted after 4 MiB of applied entries, keeping at
 * most 512 KiB below the applied index, so 16 busy partitions hold well under 100 MiB of log.
 * (A single voter has no follower to keep entries for; the follower limits matter once members
 * are added.)
 */
export const NODE_COMPACTION: CompactionPolicy = {
  everyEntries: 10_000, keepEntries: 1_000, maxKeepForFollowers: 50_000,
  everyBytes: 4 * MIB, keepBytes: MIB / 2, maxKeepBytesForFollowers: 64 * MIB,
};

export interface NodeReplication {
  readonly host: RaftHost;
  readonly storage: LevelRaftStorage;
  readonly meta: MetaBackend;
  /** Opens (or creates) a single-voter group; resolves once it leads and has applied its whole log. */
  openGroup(groupId: number, app: GroupApp): Promise<GroupDriver>;
  close(): Promise<void>;
}

/** The node's Raft log and application keys: one LevelDB under `<dataDir>/raft`. */
export function openNodeStorage(dataDir: string): Promise<LevelRaftStorage> {
  return LevelRaftStorage.open(join(dataDir, 'raft'), {
    maxOpenFiles: LEVELDB_OPEN_FILES, maxFileSize: LEVELDB_FILE_BYTES, compactDeletedEveryBytes: COMPACT_DELETED_EVERY_BYTES,
  });
}

/** A storage or invariant failure of a group: do not limp on with state that may be wrong. */
export function exitOnFatal(log: Logger): (err: Error, group: number) => void {
  return (err, group) => {
    log.fatal({ err, group }, 'raft group failed');
    process.exit(70);
  };
}

/** How a metadata replica reports a command that met a defect (the group goes on; src/meta/apply-entry.ts). */
export function metaDefect(log: Logger): (err: unknown, index: number) => void {
  return (err, index) => log.error({ err, index }, 'metadata command failed with a defect: answered 541, the group goes on');
}

export async function startReplication(dataDir: string, initialMeta: () => MetaMachine, log: Logger): Promise<NodeReplication> {
  const storage = await openNodeStorage(dataDir);
  const host = new RaftHost({
    tickIntervalMs: TICK_MS,
    sender: { send: () => {} }, // no peers
    storage,
    compaction: NODE_COMPACTION,
    onFatal: exitOnFatal(log),
  });
  host.start();
  const openGroup = async (groupId: number, app: GroupApp): Promise<GroupDriver> => {
    const g = await host.createGroup(groupId, { id: SELF, voters: [SELF], electionTicks: ELECTION_TICKS, heartbeatTicks: 1 }, app);
    await waitUntil(() => g.isLeader(), LEADER_WAIT_MS, `raft group ${groupId} to elect this node`);
    // Leading is not enough: a single voter leads before its driver has rebuilt the application
    // from its keys and re-applied the log tail above the durable applied index (write-behind
    // makes that tail up to a few MiB). A read point is answered only once the leader committed an
    // entry of its term and applied everything up to it, so the state read after this is complete
    // (a restarted node once found no consumer of its previous run to cancel, and kept that
    // consumer's message unacked forever).
    await g.readIndex();
    return g;
  };
  const metaApp = new MetaGroupApp(initialMeta, undefined, metaDefect(log));
  const metaGroup = await openGroup(META_GROUP, metaApp);
  const meta: MetaBackend = {
    get machine() { return metaApp.machine; },
    apply: async (cmd): Promise<MetaResult> => {
      const { result } = await metaGroup.propose<MetaOutcome | undefined>(encodeMeta(cmd));
      if (result instanceof AmqpError) throw result;
      if (result === undefined) throw new Error('metadata group: a command entry produced no result');
      return result;
    },
  };
  return {
    host, storage, meta, openGroup,
    close: async () => {
      host.stop();
      await storage.close();
    },
  };
}

async function waitUntil(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
