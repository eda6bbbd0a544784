// Helpers for the application's key range shared by the LevelDB and memory stores: range tests,
// the snapshot chunk encoding, and the overlay of writes submitted but not yet written.
import type { AppKeyRange, AppOp, AppReader } from './store.js';

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

export function inRange(key: Uint8Array, r: AppKeyRange): boolean {
  if (r.gt !== undefined && compareBytes(key, r.gt) <= 0) return false;
  if (r.gte !== undefined && compareBytes(key, r.gte) < 0) return false;
  if (r.lt !== undefined && compareBytes(key, r.lt) >= 0) return false;
  if (r.lte !== undefined && compareBytes(key, r.lte) > 0) return false;
  return true;
}

/**
 * A key as a map key: one char per byte (latin1 maps the 256 byte values one to one), so two keys
 * are equal exactly when their bytes are; cheaper to build than hex, which is twice as long.
 */
const mapKey = (k: Uint8Array): string => Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('latin1');

// ---- snapshot chunks: repeated [u32be keyLen][key][u32be valueLen][value] -------------------

export function encodeChunk(pairs: readonly (readonly [Uint8Array, Uint8Array])[]): Uint8Array {
  let size = 0;
  for (const [k, v] of pairs) size += 8 + k.length + v.length;
  const out = Buffer.alloc(size);
  let at = 0;
  for (const [k, v] of pairs) {
    out.writeUInt32BE(k.length, at);
    out.set(k, at + 4);
    at += 4 + k.length;
    out.writeUInt32BE(v.length, at);
    out.set(v, at + 4);
    at += 4 + v.length;
  }
  return out;
}

export function decodeChunk(chunk: Uint8Array): Array<[Uint8Array, Uint8Array]> {
  const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const out: Array<[Uint8Array, Uint8Array]> = [];
  let at = 0;
  const take = (): Uint8Array => {
    if (at + 4 > b.length) throw new RangeError('snapshot chunk truncated');
    const n = b.readUInt32BE(at);
    if (at + 4 + n > b.length) throw new RangeError('snapshot chunk truncated');
    const v = new Uint8Array(b.subarray(at + 4, at + 4 + n));
    at += 4 + n;
    return v;
  };
  while (at < b.length) out.push([take(), take()]);
  return out;
}

/** Groups key/value pairs into encoded chunks of about `chunkBytes`; always yields ≥ 1 chunk. */
export async function* chunked(
  pairs: AsyncIterable<readonly [Uint8Array, Uint8Array]>,
  chunkBytes: number,
): AsyncIterable<Uint8Array> {
  let batch: Array<readonly [Uint8Array, Uint8Array]> = [];
  let size = 0;
  let yielded = false;
  for await (const p of pairs) {
    batch.push(p);
    size += 8 + p[0].length + p[1].length;
    if (size >= chunkBytes) {
      yield encodeChunk(batch);
      yielded = true;
      batch = [];
      size = 0;
    }
  }
  if (batch.length > 0 || !yielded) yield encodeChunk(batch);
}

// ---- overlay ----------------------------------------------------------------------------------

interface OverlayEntry {
  readonly key: Uint8Array;
  value: Uint8Array | undefined;
  /** The write that carries it (0: staged, not handed to a write yet). */
  seq: number;
  /** A staged put of a key absent from the database: a delete cancels it entirely. */
  fresh: boolean;
}

/**
 * Application writes not yet in the database, so that reads see every applied entry at once
 * (read-your-applies). Writes are added either submitted (add: their batch is on its way) or staged
 * (stage: held back; take() later hands every staged write to one batch). An entry leaves when its
 * batch is written, unless a later write to the same key replaced it. A staged put of a fresh key
 * that is deleted before it is taken is never written at all.
 */
export class Overlay {
  private readonly entries = new Map<string, OverlayEntry>();
  private readonly staged = new Map<string, OverlayEntry>();
  private seq = 0;
  /** Bytes of keys and values staged. */
  stagedBytes = 0;

  /** Records submitted ops; returns the token to pass to written() once their batch is in the database. */
  add(ops: readonly AppOp[]): number {
    const seq = ++this.seq;
    for (const op of ops) {
      const k = mapKey(op.key);
      this.unstage(k);
      this.entries.set(k, { key: op.key, value: op.type === 'put' ? op.value : undefined, seq, fresh: false });
    }
    return seq;
  }

  /** Holds ops back, coalesced per key, until take(). */
  stage(ops: readonly AppOp[]): void {
    for (const op of ops) {
      const k = mapKey(op.key);
      const e = this.staged.get(k);
      if (e !== undefined) {
        this.stagedBytes -= e.value?.length ?? 0;
        if (op.type === 'del' && e.fresh) {
          this.stagedBytes -= e.key.length;
          this.staged.delete(k);
          this.entries.delete(k);
          continue;
        }
        e.value = op.type === 'put' ? op.value : undefined;
        e.fresh = e.fresh && op.type === 'put';
        this.stagedBytes += e.value?.length ?? 0;
        continue;
      }
      // Fresh only if nothing of the key is on its way either (a fresh key never is).
      const fresh = op.type === 'put' && op.fresh === true && !this.entries.has(k);
      const n: OverlayEntry = { key: op.key, value: op.type === 'put' ? op.value : undefined, seq: 0, fresh };
      this.entries.set(k, n);
      this.staged.set(k, n);
      this.stagedBytes += op.key.length + (n.value?.length ?? 0);
    }
  }

  get stagedCount(): number { return this.staged.size; }

  /** Every staged write, now submitted: returns them and the token for written(). */
  take(): { ops: AppOp[]; token: number } {
    const seq = ++this.seq;
    const ops: AppOp[] = [];
    for (const e of this.staged.values()) {
      e.seq = seq;
      ops.push(e.value === undefined ? { type: 'del', key: e.key } : { type: 'put', key: e.key, value: e.value });
    }
    this.staged.clear();
    this.stagedBytes = 0;
    return { ops, token: seq };
  }

  written(seq: number, ops: readonly AppOp[]): void {
    for (const op of ops) {
      const k = mapKey(op.key);
      if (this.entries.get(k)?.seq === seq) this.entries.delete(k);
    }
  }

  clear(): void {
    this.entries.clear();
    this.staged.clear();
    this.stagedBytes = 0;
  }

  /** undefined: not in the overlay; { value: undefined }: deleted. */
  get(key: Uint8Array): { value: Uint8Array | undefined } | undefined {
    const e = this.entries.get(mapKey(key));
    return e === undefined ? undefined : { value: e.value };
  }

  /** The overlay's entries within `range`, sorted in iteration order (a copy). */
  slice(range: AppKeyRange): OverlayEntry[] {
    const out = [...this.entries.values()].filter((e) => inRange(e.key, range));
    out.sort((a, b) => compareBytes(a.key, b.key) * (range.reverse === true ? -1 : 1));
    return out;
  }

  private unstage(k: string): void {
    const e = this.staged.get(k);
    if (e === undefined) return;
    this.stagedBytes -= e.key.length + (e.value?.length ?? 0);
    this.staged.delete(k);
  }
}

/**
 * Merges a database iteration (in the same order, same range) with an overlay slice taken at the
 * same moment: overlay entries win, deletions hide keys. Honours range.limit.
 */
export async function* mergeOverlay(
  db: AsyncIterable<readonly [Uint8Array, Uint8Array]>,
  overlay: readonly OverlayEntry[],
  range: AppKeyRange,
): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
  const dir = range.reverse === true ? -1 : 1;
  const limit = range.limit ?? Infinity;
  let n = 0;
  let o = 0;
  const emit = function* (e: OverlayEntry): Iterable<readonly [Uint8Array, Uint8Array]> {
    if (e.value !== undefined) {
      n++;
      yield [e.key.slice(), e.value.slice()] as const;
    }
  };
  for await (const [k, v] of db) {
    if (n >= limit) return;
    while (o < overlay.length && compareBytes(overlay[o]!.key, k) * dir < 0) {
      yield* emit(overlay[o++]!);
      if (n >= limit) return;
    }
    if (o < overlay.length && compareBytes(overlay[o]!.key, k) === 0) {
      yield* emit(overlay[o++]!);
      continue;
    }
    n++;
    yield [k, v] as const;
  }
  while (o < overlay.length && n < limit) yield* emit(overlay[o++]!);
}

/**
 * The application's writes while applying one Ready's entries: buffered ops, with reads that see
 * them on top of the store's reader. `ops` go to the store in one save (SaveRequest.apply).
 */
export class BufferedBatch {
  readonly ops: AppOp[] = [];
  /** Built on the first read only: most batches are written, never read back. */
  private own: Overlay | undefined;
  private view: AppReader | undefined;

  constructor(private readonly base: AppReader) {}

  /** Keeps `key` and `value` as given (ApplyBatch's contract: the caller does not modify them afterwards). */
  put(key: Uint8Array, value: Uint8Array, fresh?: boolean): void {
    const op: AppOp = fresh === true ? { type: 'put', key, value, fresh } : { type: 'put', key, value };
    this.ops.push(op);
    this.own?.add([op]);
  }

  del(key: Uint8Array): void {
    const op: AppOp = { type: 'del', key };
    this.ops.push(op);
    this.own?.add([op]);
  }

  /** Reads through the batch: its own writes over the base's (the overlay built on the first read). */
  private reads(): AppReader {
    if (this.view === undefined) {
      this.own = new Overlay();
      this.own.add(this.ops);
      this.view = overlayReader(this.own, this.base);
    }
    return this.view;
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.reads().get(key);
  }

  iterate(range: AppKeyRange = {}): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    return this.reads().iterate(range);
  }
}

/** The same range without its limit (the overlay may hide keys, so the base must not stop early). */
export function withoutLimit(r: AppKeyRange): AppKeyRange {
  return {
    ...(r.gt !== undefined ? { gt: r.gt } : {}),
    ...(r.gte !== undefined ? { gte: r.gte } : {}),
    ...(r.lt !== undefined ? { lt: r.lt } : {}),
    ...(r.lte !== undefined ? { lte: r.lte } : {}),
    ...(r.reverse !== undefined ? { reverse: r.reverse } : {}),
  };
}

/** Reads many keys at once: the reader's getMany, or one get per key. */
export function readMany(reader: AppReader, keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>> {
  if (reader.getMany !== undefined) return reader.getMany(keys);
  return Promise.all(keys.map((k) => reader.get(k)));
}

/**
 * Reads of `overlay` over `base`: the overlay's writes win, its deletions hide keys. Every read
 * looks at the overlay at once (synchronously), so a write added after the call is not seen by it.
 */
export function overlayReader(overlay: Overlay, base: AppReader): AppReader {
  return {
    get: (key) => {
      const o = overlay.get(key);
      return o !== undefined ? Promise.resolve(o.value?.slice()) : base.get(key);
    },
    getMany: async (keys) => {
      const out: Array<Uint8Array | undefined> = new Array(keys.length);
      const rest: Uint8Array[] = [];
      const at: number[] = [];
      keys.forEach((k, i) => {
        const o = overlay.get(k);
        if (o !== undefined) out[i] = o.value?.slice();
        else {
          rest.push(k);
          at.push(i);
        }
      });
      if (rest.length > 0) {
        const got = await readMany(base, rest);
        at.forEach((i, j) => { out[i] = got[j]; });
      }
      return out;
    },
    iterate: (range = {}) => {
      const over = overlay.slice(range);
      if (over.length === 0) return base.iterate(range);
      return mergeOverlay(base.iterate(withoutLimit(range)), over, range);
    },
  };
}
