// A seeded network: every message gets a delivery time; it may be dropped, duplicated or delayed
// (which reorders), and partitions cut links both at send and at delivery time.
import type { Message, NodeId } from '../../src/raft/core/index.js';

export interface Envelope {
  readonly at: number;
  readonly seq: number;
  readonly group: number;
  readonly msg: Message;
}

export interface LinkFaults {
  dropRate: number;
  dupRate: number;
  maxDelaySteps: number;
}

export type PartitionKind = 'halves' | 'ring' | 'isolate';

export class Network {
  private queue: Envelope[] = [];
  private seq = 0;
  /** null = fully connected; else canTalk(a, b). */
  partition: ((a: NodeId, b: NodeId) => boolean) | null = null;
  partitionKind: PartitionKind | null = null;
  delivered = 0;
  dropped = 0;
  duplicated = 0;

  constructor(
    private readonly rand: () => number,
    public faults: LinkFaults,
  ) {}

  connected(a: NodeId, b: NodeId): boolean {
    return a === b || this.partition === null || this.partition(a, b);
  }

  send(now: number, group: number, msg: Message): void {
    if (!this.connected(msg.from, msg.to) || this.rand() < this.faults.dropRate) {
      this.dropped++;
      return;
    }
    const copies = this.rand() < this.faults.dupRate ? 2 : 1;
    if (copies === 2) this.duplicated++;
    for (let i = 0; i < copies; i++) {
      const delay = 1 + Math.floor(this.rand() * this.faults.maxDelaySteps);
      this.queue.push({ at: now + delay, seq: this.seq++, group, msg });
    }
  }

  /** Removes and returns the messages due at `now`, in (time, send order). */
  due(now: number): Envelope[] {
    const out: Envelope[] = [];
    const keep: Envelope[] = [];
    for (const e of this.queue) (e.at <= now ? out : keep).push(e);
    if (out.length === 0) return out;
    this.queue = keep;
    out.sort((a, b) => a.at - b.at || a.seq - b.seq);
    return out;
  }

  inFlight(): number {
    return this.queue.length;
  }

  /** Cuts the network: halves (random split), ring (neighbours only) or one node isolated. */
  cut(kind: PartitionKind, nodes: readonly NodeId[]): string {
    const shuffled = [...nodes];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    this.partitionKind = kind;
    if (kind === 'halves') {
      const k = 1 + Math.floor(this.rand() * (shuffled.length - 1));
      const side = new Set(shuffled.slice(0, k));
      this.partition = (a, b) => side.has(a) === side.has(b);
      return `halves [${[...side].join(',')}] | rest`;
    }
    if (kind === 'ring') {
      const pos = new Map(shuffled.map((n, i) => [n, i]));
      const n = shuffled.length;
      this.partition = (a, b) => {
        const pa = pos.get(a);
        const pb = pos.get(b);
        if (pa === undefined || pb === undefined) return true;
        const d = Math.abs(pa - pb);
        return d <= 1 || d === n - 1;
      };
      return `ring ${shuffled.join('-')}`;
    }
    const lonely = shuffled[0]!;
    this.partition = (a, b) => a !== lonely && b !== lonely;
    return `isolate ${lonely}`;
  }

  /** Cuts one node off from everyone. */
  isolateNode(lonely: NodeId): void {
    this.partitionKind = 'isolate';
    this.partition = (a, b) => a !== lonely && b !== lonely;
  }

  heal(): void {
    this.partition = null;
    this.partitionKind = null;
  }
}
