// Runs many Raft groups on one process: one timer ticks them all, the transport's inbound
// messages are routed to their group, and every group persists through the same group-commit
// store (so one fsync serves all groups that had work in a turn).
import type { Message, SnapshotMeta } from '../core/types.js';
import type { RaftLogStore } from '../storage/store.js';
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
}

export class RaftHost {
  private readonly groups = new Map<number, GroupDriver>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: RaftHostOptions) {}

  addGroup(groupId: number, core: RaftCore, store: RaftLogStore, app: GroupApp): GroupDriver {
    const { tickIntervalMs: _t, sender, onFatal, ...driverOpts } = this.opts;
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
