// Runs many Raft groups on one process: one timer ticks them all, the transport's inbound
// messages are routed to their group, and every group persists through the same group-commit
// store (so one fsync serves all groups that had work in a turn).
import type { Message, SnapshotMeta } from '../core/types.js';
import type { GroupStorage, RaftLogStore } from '../storage/store.js';
import { openCore } from './adapter.js';
import type { OpenCoreOptions } from './adapter.js';
import type { GroupApp } from './app.js';
import type { RaftCore } from './core.js';
import { GroupUnknownError } from './errors.js';
import { GroupDriver } from './group.js';
import type { Committed, GroupDriverOptions, MessageSender } from './group.js';

export interface RaftHostOptions extends Omit<GroupDriverOptions, 'onFatal'> {
  /** Wall-clock length of one core tick; election/heartbeat timeouts are counted in ticks. */
  readonly tickIntervalMs: number;
  readonly sender: MessageSender;
  /** Storage or invariant failure of a group: default rethrows (crash; do not limp on). */
  readonly onFatal?: (err: Error, group: number) => void;
  /** Where createGroup() opens stores and removeGroup() deletes them. */
  readonly storage?: GroupStorage;
}

/** What createGroup needs besides the group id: the core's options (its store comes from the host). */
export type CreateGroupOptions = Omit<OpenCoreOptions, 'store'>;

export class RaftHost {
  private readonly groups = new Map<number, GroupDriver>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: RaftHostOptions) {}

  addGroup(groupId: number, core: RaftCore, store: RaftLogStore, app: GroupApp): GroupDriver {
    const { tickIntervalMs: _t, sender, onFatal, storage: _s, ...driverOpts } = this.opts;
    const g = new GroupDriver(groupId, core, store, sender, app, {
      ...driverOpts,
      onFatal: (err) => {
        if (onFatal) onFatal(err, groupId);
        else throw err;
      },
    });
    this.groups.set(groupId, g);
    g.schedule();
    return g;
  }

  /**
   * Opens (or creates: `voters` bootstraps a brand-new group on every initial member) group
   * `groupId` on this host at run time, from the host's storage.
   */
  async createGroup(groupId: number, opts: CreateGroupOptions, app: GroupApp): Promise<GroupDriver> {
    const storage = this.requireStorage();
    if (this.groups.has(groupId)) throw new Error(`raft: group ${groupId} already hosted`);
    const store = storage.group(groupId);
    const core = await openCore({ ...opts, store });
    return this.addGroup(groupId, core, store, app);
  }

  /**
   * Stops group `groupId` here and deletes all its keys (log, hard state, snapshot, applied index,
   * application keys). The caller decides that this replica is gone (membership change done, or
   * the group deleted cluster-wide); messages for it are dropped from now on.
   */
  async removeGroup(groupId: number): Promise<void> {
    const storage = this.requireStorage();
    this.groups.get(groupId)?.stop();
    this.groups.delete(groupId);
    await storage.deleteGroup(groupId);
  }

  private requireStorage(): GroupStorage {
    if (!this.opts.storage) throw new Error('raft: RaftHost has no storage (RaftHostOptions.storage)');
    return this.opts.storage;
  }

  group(groupId: number): GroupDriver {
    const g = this.groups.get(groupId);
    if (!g) throw new GroupUnknownError(groupId);
    return g;
  }

  /** Entry point for the transport: messages for unknown groups are dropped (Raft tolerates loss). */
  step(groupId: number, message: Message): void {
    this.groups.get(groupId)?.step(message);
  }

  propose<R = unknown>(groupId: number, data: Uint8Array): Promise<Committed<R>> {
    const g = this.groups.get(groupId);
    if (!g) return Promise.reject(new GroupUnknownError(groupId));
    return g.propose<R>(data);
  }

  /** Log compaction of one group; see GroupDriver.compact. */
  compact(groupId: number, index?: number): Promise<SnapshotMeta> {
    const g = this.groups.get(groupId);
    if (!g) return Promise.reject(new GroupUnknownError(groupId));
    return g.compact(index);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      for (const g of this.groups.values()) g.tick();
    }, this.opts.tickIntervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const g of this.groups.values()) g.stop();
  }
}
