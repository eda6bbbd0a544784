// The recent metadata commands an owner keeps in memory for its watchers (docs/cluster-contracts.md
// "Watch"): a watcher resuming from an index still covered here gets just the entries after it; one
// from before gets the machine's state instead. Bounded by count and bytes, oldest dropped first.
// Pure: no I/O, no clock.
import type { AppliedEntry } from '../node/meta-group.js';

/** A metadata command entry as streamed: its log index and encodeMeta(MetaCommand). */
export interface TailEntry {
  readonly index: number;
  readonly command: Uint8Array;
}

export interface TailLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export const DEFAULT_TAIL_LIMITS: TailLimits = { maxEntries: 10_000, maxBytes: 8 * 1024 * 1024 };

export class MetaTail {
  /** Oldest first; the commands among the indexes (base, last]. */
  private entries: TailEntry[] = [];
  /** Dropped from the front of `entries` but not yet spliced out (amortises the shift). */
  private head = 0;
  private bytes = 0;
  /** Every command entry after `base` up to `last` is held. */
  private base: number;
  private lastIndex: number;

  constructor(private readonly limits: TailLimits = DEFAULT_TAIL_LIMITS, start = 0) {
    this.base = start;
    this.lastIndex = start;
  }

  /** The index up to which the tail is complete. */
  get last(): number {
    return this.lastIndex;
  }

  /** Entries below this index are no longer held: a watcher resuming before it needs a snapshot. */
  get first(): number {
    return this.base;
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  /** The state was replaced as of `index` (recovered from keys): nothing before it can be replayed. */
  reset(index: number): void {
    this.entries = [];
    this.head = 0;
    this.bytes = 0;
    this.base = index;
    this.lastIndex = index;
  }

  /** Records applied entries (in index order; entries that are not commands only advance the index). */
  push(applied: readonly AppliedEntry[]): void {
    for (const e of applied) {
      if (e.index <= this.lastIndex) continue; // replayed after a restart: already held or below base
      this.lastIndex = e.index;
      if (e.command === undefined) continue;
      this.entries.push({ index: e.index, command: e.command });
      this.bytes += e.command.length;
    }
    this.evict();
  }

  /**
   * The commands after `from`, oldest first, or undefined when some of them are no longer held
   * (the watcher needs a snapshot). A `from` at or beyond `last` gets [] (the caller waits for more).
   */
  since(from: number): TailEntry[] | undefined {
    if (from < this.base) return undefined;
    const out: TailEntry[] = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.index > from) out.push(e);
    }
    return out;
  }

  private evict(): void {
    while (this.size > 0 && (this.size > this.limits.maxEntries || this.bytes > this.limits.maxBytes)) {
      const e = this.entries[this.head]!;
      this.head++;
      this.bytes -= e.command.length;
      this.base = e.index;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}

/** `data` cut into pieces of at most `size` bytes (at least one piece, so an empty state still has a chunk). */
export function chunks(data: Uint8Array, size: number): Uint8Array[] {
  if (size <= 0) throw new RangeError(`chunk size ${size}`);
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, Math.min(at + size, data.length)));
  if (out.length === 0) out.push(data);
  return out;
}

/** The chunks' data put back together. */
export function joinChunks(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}
