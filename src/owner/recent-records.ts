// The records of messages a node's partition leaders enqueued, kept until they are settled or the
// cache is full (oldest first out): a delivery to a consumer that was at its prefetch limit when the
// message arrived then needs no store read. One cache serves every partition of the node, so its
// byte bound is the node's: memory holds indexes, not the backlog of however many partitions have
// one (a bound per partition let 16 busy partitions keep up to 16 times as many bodies in memory).

/** The node-wide default bound on cached record bytes. */
export const RECENT_RECORDS_MAX_BYTES = 32 * 1024 * 1024;

export class RecentRecords {
  private readonly records = new Map<string, Uint8Array>();
  /** The keys in insertion order (some already forgotten): the eviction order. */
  private order: string[] = [];
  private head = 0;
  private cachedBytes = 0;

  constructor(private readonly maxBytes = RECENT_RECORDS_MAX_BYTES) {}

  /** Bytes of records held. */
  get bytes(): number {
    return this.cachedBytes;
  }

  remember(partition: number, queue: number, msgId: number, record: Uint8Array): void {
    const key = keyOf(partition, queue, msgId);
    if (this.records.has(key)) return;
    this.records.set(key, record);
    this.order.push(key);
    this.cachedBytes += record.byteLength;
    while (this.cachedBytes > this.maxBytes && this.head < this.order.length) {
      const oldest = this.order[this.head++] as string;
      const r = this.records.get(oldest);
      if (r === undefined) continue;
      this.records.delete(oldest);
      this.cachedBytes -= r.byteLength;
    }
    // Keys forgotten since (settled) stay in the order list until it is compacted.
    if (this.head > 4096 && this.order.length > 2 * this.records.size) {
      this.order = this.order.slice(this.head).filter((k) => this.records.has(k));
      this.head = 0;
    }
  }

  get(partition: number, queue: number, msgId: number): Uint8Array | undefined {
    return this.records.get(keyOf(partition, queue, msgId));
  }

  /** The messages were settled: their records are not needed for deliveries any more. */
  forget(partition: number, queue: number, msgIds: readonly number[]): void {
    if (this.records.size === 0) return;
    for (const msgId of msgIds) {
      const key = keyOf(partition, queue, msgId);
      const r = this.records.get(key);
      if (r === undefined) continue;
      this.records.delete(key);
      this.cachedBytes -= r.byteLength;
    }
  }
}

const keyOf = (partition: number, queue: number, msgId: number): string => `${partition}:${queue}:${msgId}`;
