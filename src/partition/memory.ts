// An in-memory twin of a group's key range (AppReader) and its write batches (ApplyBatch), for
// tests and the simulator: a Map keyed by the key's hex, iterated in bytewise key order.
import type { AppKeyRange, AppReader, ApplyBatch } from '../raft/node/app.js';
import { fromLatin1 } from '../raft/storage/appkv.js';

const hex = (k: Uint8Array): string => Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('hex');

function compare(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function inRange(k: Uint8Array, r: AppKeyRange): boolean {
  return (r.gt === undefined || compare(k, r.gt) > 0) && (r.gte === undefined || compare(k, r.gte) >= 0)
    && (r.lt === undefined || compare(k, r.lt) < 0) && (r.lte === undefined || compare(k, r.lte) <= 0);
}

type Entries = Map<string, readonly [Uint8Array, Uint8Array]>;

function* ordered(entries: Entries, range: AppKeyRange = {}): Generator<readonly [Uint8Array, Uint8Array]> {
  const all = [...entries.values()].filter(([k]) => inRange(k, range)).sort((a, b) => compare(a[0], b[0]));
  if (range.reverse === true) all.reverse();
  const n = range.limit ?? all.length;
  for (const [k, v] of all.slice(0, n)) yield [k.slice(), v.slice()];
}

export class MemoryAppStore implements AppReader {
  readonly entries: Entries = new Map();

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.entries.get(hex(key))?.[1].slice();
  }

  async *iterate(range?: AppKeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    yield* ordered(this.entries, range);
  }

  /** A batch over this store; its writes land on commit(). */
  batch(): MemoryApplyBatch {
    return new MemoryApplyBatch(this);
  }

  /** Every key and value, in key order (hex), for comparing stores. */
  dump(): [string, string][] {
    return [...this.entries.entries()].sort((a, b) => compare(a[1][0], b[1][0])).map(([k, [, v]]) => [k, hex(v)]);
  }

  get size(): number {
    return this.entries.size;
  }
}

export class MemoryApplyBatch implements ApplyBatch {
  /** hex key → value, or null for a delete. */
  private readonly ops = new Map<string, readonly [Uint8Array, Uint8Array | null]>();
  puts = 0;
  dels = 0;

  constructor(private readonly store: MemoryAppStore) {}

  put(key: Uint8Array, value: Uint8Array): void {
    this.puts++;
    this.ops.set(hex(key), [key.slice(), value.slice()]);
  }

  del(key: Uint8Array): void {
    this.dels++;
    this.ops.set(hex(key), [key.slice(), null]);
  }

  putLatin1(key: string, value: Uint8Array): void {
    this.put(fromLatin1(key), value);
  }

  delLatin1(key: string): void {
    this.del(fromLatin1(key));
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const op = this.ops.get(hex(key));
    if (op !== undefined) return op[1] === null ? undefined : op[1].slice();
    return this.store.get(key);
  }

  async *iterate(range?: AppKeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    const merged: Entries = new Map(this.store.entries);
    for (const [h, [k, v]] of this.ops) {
      if (v === null) merged.delete(h);
      else merged.set(h, [k, v]);
    }
    yield* ordered(merged, range);
  }

  commit(): void {
    for (const [h, [k, v]] of this.ops) {
      if (v === null) this.store.entries.delete(h);
      else this.store.entries.set(h, [k, v]);
    }
    this.ops.clear();
  }
}
