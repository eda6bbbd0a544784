// Runs many Raft groups on one process: one real timer ticks them all, the transport's inbound
// messages are routed to their group, and every group persists through the same group-commit
// store (so one fsync serves all groups that had work in a turn).
import type { Message, SnapshotMeta } from '../core/types.js';
import type { RaftLogStore } from '../storage/store.js';
import type { RaftCore } from './core.js';
import { GroupUnknownError } from './errors.js';
import { GroupDriver } from './group.js';
import type { Committed, GroupApplication, MessageSender } from './group.js';

export interface RaftHostOptions {
  /** Wall-clock length of one core tick; election/heartbeat timeouts are counted in ticks. */
  readonly tickIntervalMs: number;
  readonly sender: MessageSender;
  /** Storage or invariant failure: default rethrows (crash; do not limp on). */
  readonly onFatal?: (err: Error) => void;
  readonly proposalTimeoutMs?: number;
}

export class RaftHost {
  private readonly groups = new Map<number, GroupDriver>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: RaftHostOptions) {}

  addGroup(groupId: number, core: RaftCore, store: RaftLogStore, app: GroupApplication): GroupDriver {
    const onFatal = this.opts.onFatal ?? ((err: Error) => {
      throw err;
    });
    const g = new GroupDriver(groupId, core, store, this.opts.sender, app, onFatal, this.opts.proposalTimeoutMs);
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
  compact(groupId: number, index: number, data: Uint8Array): Promise<SnapshotMeta> {
    const g = this.groups.get(groupId);
    if (!g) return Promise.reject(new GroupUnknownError(groupId));
    return g.compact(index, data);
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
