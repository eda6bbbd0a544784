// Leaders spread as the placement prefers (issue 8: "transfer to the preferred replica when it is
// healthy"). Elections pick leaders at random; the placement names, per partition, a preferred
// replica so that every owner leads its share. An owner that leads a partition whose preferred
// replica is another owner, reachable and not led away from for a while, hands leadership to it
// (Raft's transfer brings the target up to date first, then tells it to campaign at once).
import type { GroupDriver } from '../raft/node/group.js';

export interface LeaderBalanceDeps {
  readonly self: number;
  /** Partition groups hosted here, with their preferred leader. */
  readonly partitions: () => ReadonlyArray<{ readonly group: GroupDriver; readonly preferred: number }>;
  /** Whether this node has a live Raft stream to the owner. */
  readonly connected: (owner: number) => boolean;
  /** How long this node must have led a partition before handing it over (no churn right after an election). */
  readonly settleMs: number;
  readonly now?: () => number;
}

export class LeaderBalance {
  /** Since when this node leads each partition (group id → ms). */
  private readonly leadingSince = new Map<number, number>();
  transfers = 0;

  constructor(private readonly deps: LeaderBalanceDeps) {}

  /** One pass: returns the partitions handed over. */
  run(): number[] {
    const now = (this.deps.now ?? Date.now)();
    const moved: number[] = [];
    for (const { group, preferred } of this.deps.partitions()) {
      if (!group.isLeader()) {
        this.leadingSince.delete(group.groupId);
        continue;
      }
      const since = this.leadingSince.get(group.groupId) ?? now;
      this.leadingSince.set(group.groupId, since);
      if (preferred === this.deps.self || preferred === 0 || !this.deps.connected(preferred)) continue;
      if (now - since < this.deps.settleMs) continue;
      group.transferLeadership(preferred);
      this.leadingSince.set(group.groupId, now); // wait as long again before another try
      this.transfers++;
      moved.push(group.groupId);
    }
    return moved;
  }
}
