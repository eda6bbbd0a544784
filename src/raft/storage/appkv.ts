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
 * Up to about this many bytes (the partition's message keys have 15 and 17) String.fromCharCode
 * makes a key's latin1 string faster than a Buffer view and its native slice; beyond, the slice wins.
 */
const SHORT_KEY_BYTES = 32;

/**
 * A key as a string of one char per byte (latin1 maps the 256 byte values one to one): two keys are
 * equal exactly when their strings are. The overlays index writes by it; shorter than hex.
 */
export function toLatin1(key: Uint8Array): string {
  if (key.length <= SHORT_KEY_BYTES) return String.fromCharCode.apply(null, key as unknown as number[]);
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/** The key whose latin1 string is `s` (the inverse of toLatin1): a Uint8Array of its own, cheaper than a Buffer. */
export function fromLatin1(s: string): Uint8Array {
  const key = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) key[i] = s.charCodeAt(i);
  return key;
}

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

/** A write whose key is given only as its latin1 string (ApplyBatch.putLatin1): bytes are built if needed. */
export interface Latin1Op {
  readonly type: 'put' | 'del';
  readonly key?: undefined;
  readonly id: string;
  readonly value?: Uint8Array;
  readonly fresh?: boolean;
}

/** A write as the overlay takes it: its key as bytes (with its latin1 string or not), or as its latin1 string. */
export type OverlayOp = AppOp | Latin1Op;

/** An overlay entry's key and value as a range read sees it (value undefined: deleted). */
export interface OverlayPair {
  readonly key: Uint8Array;
  readonly value: Uint8Array | undefined;
}

/** OverlayEntry.seq of a staged entry: held back by stage(), not handed to a write yet. */
const STAGED = 0;
/** OverlayEntry.seq of an entry that left the staged writes otherwise than by take(): cancelled, or replaced by add(). */
const DROPPED = -1;

interface OverlayEntry {
  /** The key as its latin1 string: the entry's map key. */
  readonly id: string;
  /** The key's bytes: as given, or built from `id` once needed (the write is taken, or a range read). */
  key: Uint8Array | undefined;
  value: Uint8Array | undefined;
  /** The token of the write that carries it; STAGED or DROPPED. */
  seq: number;
  /** A staged put of a key absent from the database: a delete cancels it entirely. */
  fresh: boolean;
}

const idOf = (op: OverlayOp): string => (op.key === undefined ? op.id : op.id ?? toLatin1(op.key));
const keyOf = (e: OverlayEntry): Uint8Array => (e.key ??= fromLatin1(e.id));

/**
 * Dropped entries may wait in the staged list (see Overlay.staged) up to this many more than there
 * are staged ones; then they are swept out. Bounds the list at about twice the staged writes.
 */
const DROPPED_SLACK = 1024;

/**
 * Application writes not yet in the database, so that reads see every applied entry at once
 * (read-your-applies). Writes are added either submitted (add: their batch is on its way) or staged
 * (stage: held back; take() later hands every staged write to one batch). An entry leaves when its
 * batch is written, unless a later write to the same key replaced it. A staged put of a fresh key
 * that is deleted before it is taken is never written at all.
 *
 * Most staged writes end that way (a message acknowledged within the write-behind window), so a
 * write costs one map entry and no key bytes: entries are indexed by the key's latin1 string, which
 * callers may give instead of the bytes, and bytes are built only for writes taken or read by range.
 */
export class Overlay {
  /** Every key's latest write not in the database: staged (seq STAGED) or on its way (seq = its token). */
  private readonly entries = new Map<string, OverlayEntry>();
  /**
   * The staged entries, in staging order, for take(). An entry leaving the staged writes otherwise
   * (cancelled, or replaced by add) is marked DROPPED and left here for take() to skip: cheaper
   * than keeping a second map of the staged keys.
   */
  private staged: OverlayEntry[] = [];
  private staging = 0;
  private seq = 0;
  /** Bytes of keys and values staged. */
  stagedBytes = 0;

  /** Records submitted ops; returns the token to pass to written() once their batch is in the database. */
  add(ops: readonly OverlayOp[]): number {
    const seq = ++this.seq;
    for (const op of ops) {
      const id = idOf(op);
      const e = this.entries.get(id);
      if (e !== undefined && e.seq === STAGED) this.unstage(e);
      this.entries.set(id, { id, key: op.key, value: op.type === 'put' ? op.value : undefined, seq, fresh: false });
    }
    return seq;
  }

  /** Holds ops back, coalesced per key, until take(). */
  stage(ops: readonly OverlayOp[]): void {
    for (const op of ops) {
      const id = idOf(op);
      const e = this.entries.get(id);
      if (e !== undefined && e.seq === STAGED) {
        if (op.type === 'del' && e.fresh) {
          this.entries.delete(id);
          this.unstage(e);
          continue;
        }
        this.stagedBytes -= e.value?.length ?? 0;
        e.value = op.type === 'put' ? op.value : undefined;
        e.fresh = e.fresh && op.type === 'put';
        this.stagedBytes += e.value?.length ?? 0;
        continue;
      }
      // Fresh only if nothing of the key is on its way either (a fresh key never is).
      const fresh = op.type === 'put' && op.fresh === true && e === undefined;
      const n: OverlayEntry = { id, key: op.key, value: op.type === 'put' ? op.value : undefined, seq: STAGED, fresh };
      this.entries.set(id, n);
      this.staged.push(n);
      this.staging++;
      this.stagedBytes += id.length + (n.value?.length ?? 0);
    }
  }

  /** How many keys have a staged write. */
  get stagedCount(): number { return this.staging; }

  /** Every staged write, now submitted: returns them and the token for written(). */
  take(): { ops: AppOp[]; token: number } {
    const seq = ++this.seq;
    const ops: AppOp[] = [];
    for (const e of this.staged) {
      if (e.seq !== STAGED) continue;
      e.seq = seq;
      const key = keyOf(e);
      ops.push(e.value === undefined ? { type: 'del', key, id: e.id } : { type: 'put', key, id: e.id, value: e.value });
    }
    this.staged = [];
    this.staging = 0;
    this.stagedBytes = 0;
    return { ops, token: seq };
  }

  written(seq: number, ops: readonly OverlayOp[]): void {
    for (const op of ops) {
      const id = idOf(op);
      if (this.entries.get(id)?.seq === seq) this.entries.delete(id);
    }
  }

  clear(): void {
    this.entries.clear();
    this.staged = [];
    this.staging = 0;
    this.stagedBytes = 0;
  }

  /** undefined: not in the overlay; { value: undefined }: deleted. */
  get(key: Uint8Array): { value: Uint8Array | undefined } | undefined {
    const e = this.entries.get(toLatin1(key));
    return e === undefined ? undefined : { value: e.value };
  }

  /** The overlay's entries within `range`, sorted in iteration order: a copy, which later writes leave as it is. */
  slice(range: AppKeyRange): OverlayPair[] {
    const out: OverlayPair[] = [];
    for (const e of this.entries.values()) {
      const key = keyOf(e);
      if (inRange(key, range)) out.push({ key, value: e.value });
    }
    out.sort((a, b) => compareBytes(a.key, b.key) * (range.reverse === true ? -1 : 1));
    return out;
  }

  /** A staged entry leaves the staged writes (not by take): it stays in the list, marked, until swept. */
  private unstage(e: OverlayEntry): void {
    this.stagedBytes -= e.id.length + (e.value?.length ?? 0);
    e.seq = DROPPED;
    // Not kept alive by the list meanwhile: a cancelled put's value is a message body.
    e.value = undefined;
    this.staging--;
    if (this.staged.length - this.staging > this.staging + DROPPED_SLACK) this.sweep();
  }

  /** Drops the DROPPED entries from the staged list, keeping the order of the others. */
  private sweep(): void {
    let n = 0;
    for (const e of this.staged) if (e.seq === STAGED) this.staged[n++] = e;
    this.staged.length = n;
  }
}

/**
 * Merges a database iteration (in the same order, same range) with an overlay slice taken at the
 * same moment: overlay entries win, deletions hide keys. Honours range.limit.
 */
export async function* mergeOverlay(
  db: AsyncIterable<readonly [Uint8Array, Uint8Array]>,
  overlay: readonly OverlayPair[],
  range: AppKeyRange,
): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
  const dir = range.reverse === true ? -1 : 1;
  const limit = range.limit ?? Infinity;
  let n = 0;
  let o = 0;
  const emit = function* (e: OverlayPair): Iterable<readonly [Uint8Array, Uint8Array]> {
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
 * The application's writes while applying one Ready's entries (an ApplyBatch): buffered ops, with
 * reads that see them on top of the store's reader. The driver stages `ops` once the apply is done.
 */
export class BufferedBatch {
  readonly ops: OverlayOp[] = [];
  /** Built on the first read only: most batches are written, never read back. */
  private own: Overlay | undefined;
  private view: AppReader | undefined;

  constructor(private readonly base: AppReader) {}

  /** Keeps `key` and `value` as given (ApplyBatch's contract: the caller does not modify them afterwards). */
  put(key: Uint8Array, value: Uint8Array, fresh?: boolean): void {
    this.push(fresh === true ? { type: 'put', key, value, fresh } : { type: 'put', key, value });
  }

  del(key: Uint8Array): void {
    this.push({ type: 'del', key });
  }

  /** put() with the key as its latin1 string: its bytes are built only if the write is taken to the store. */
  putLatin1(key: string, value: Uint8Array, fresh?: boolean): void {
    this.push(fresh === true ? { type: 'put', id: key, value, fresh } : { type: 'put', id: key, value });
  }

  delLatin1(key: string): void {
    this.push({ type: 'del', id: key });
  }

  private push(op: OverlayOp): void {
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
