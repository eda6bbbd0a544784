// The write-behind overlay (appkv.ts Overlay) against a model of its contract written for clarity
// rather than speed: the staged writes in a map of their own, every count recomputed. Random
// interleavings of staging, submitting, taking, completing and clearing, with keys given as bytes,
// as latin1 strings or both, must agree on everything observable: reads, range slices, what take()
// hands out (and in which order), tokens, stagedCount and stagedBytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Overlay, compareBytes, inRange, type OverlayOp } from '../../../../src/raft/storage/appkv.js';
import type { AppKeyRange, AppOp } from '../../../../src/raft/storage/store.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** One write, independent of the form its key is given in. */
interface Write {
  readonly type: 'put' | 'del';
  readonly key: Uint8Array;
  readonly value?: Uint8Array;
  readonly fresh: boolean;
}

interface ModelEntry {
  readonly key: Uint8Array;
  value: Uint8Array | undefined;
  seq: number;
  fresh: boolean;
}

class Model {
  readonly entries = new Map<string, ModelEntry>();
  readonly staged = new Map<string, ModelEntry>();
  private seq = 0;

  get stagedCount(): number { return this.staged.size; }
  get stagedBytes(): number {
    let n = 0;
    for (const e of this.staged.values()) n += e.key.length + (e.value?.length ?? 0);
    return n;
  }

  add(ws: readonly Write[]): number {
    const seq = ++this.seq;
    for (const w of ws) {
      this.staged.delete(hex(w.key));
      this.entries.set(hex(w.key), { key: w.key, value: w.type === 'put' ? w.value : undefined, seq, fresh: false });
    }
    return seq;
  }

  stage(ws: readonly Write[]): void {
    for (const w of ws) {
      const k = hex(w.key);
      const e = this.staged.get(k);
      if (e === undefined) {
        const n = { key: w.key, value: w.type === 'put' ? w.value : undefined, seq: 0, fresh: w.type === 'put' && w.fresh && !this.entries.has(k) };
        this.entries.set(k, n);
        this.staged.set(k, n);
      } else if (w.type === 'del' && e.fresh) {
        this.staged.delete(k);
        this.entries.delete(k);
      } else {
        e.value = w.type === 'put' ? w.value : undefined;
        e.fresh = e.fresh && w.type === 'put';
      }
    }
  }

  take(): { writes: Write[]; token: number } {
    const seq = ++this.seq;
    const writes = [...this.staged.values()].map((e): Write => {
      e.seq = seq;
      return e.value === undefined ? { type: 'del', key: e.key, fresh: false } : { type: 'put', key: e.key, value: e.value, fresh: false };
    });
    this.staged.clear();
    return { writes, token: seq };
  }

  written(seq: number, ws: readonly Write[]): void {
    for (const w of ws) if (this.entries.get(hex(w.key))?.seq === seq) this.entries.delete(hex(w.key));
  }

  clear(): void {
    this.entries.clear();
    this.staged.clear();
  }

  slice(range: AppKeyRange): Array<[string, string | null]> {
    return [...this.entries.values()].filter((e) => inRange(e.key, range))
      .sort((a, b) => compareBytes(a.key, b.key) * (range.reverse === true ? -1 : 1))
      .map((e) => [hex(e.key), e.value === undefined ? null : hex(e.value)]);
  }
}

// Short keys, keys on both sides of toLatin1's short-key bound, high bytes; churn keys are apart.
const KEYS: readonly Uint8Array[] = [
  Uint8Array.of(0x00), Uint8Array.of(0x7f), Uint8Array.of(0x80), Uint8Array.of(0xff), Uint8Array.of(0x00, 0x00),
  Uint8Array.of(0x80, 0x01), Uint8Array.of(0x61, 0x2f, 0x62), new Uint8Array(32).fill(0xfe), new Uint8Array(33).fill(0xfe),
  Uint8Array.from({ length: 40 }, (_, i) => 0xc0 + i),
];

type Form = 'bytes' | 'latin1' | 'both';

function asOp(w: Write, form: Form): OverlayOp {
  const base = { type: w.type, ...(w.value !== undefined ? { value: w.value } : {}), ...(w.fresh ? { fresh: true } : {}) };
  if (form === 'latin1') return { ...base, id: latin1(w.key) };
  return form === 'both' ? { ...base, key: w.key, id: latin1(w.key) } : { ...base, key: w.key };
}

const writeArb: fc.Arbitrary<{ w: Write; form: Form }> = fc.record({
  k: fc.nat(KEYS.length - 1),
  put: fc.boolean(),
  v: fc.uint8Array({ maxLength: 3 }),
  fresh: fc.boolean(),
  form: fc.constantFrom<Form>('bytes', 'latin1', 'both'),
}).map(({ k, put, v, fresh, form }) => ({
  w: put ? { type: 'put' as const, key: KEYS[k]!, value: v, fresh } : { type: 'del' as const, key: KEYS[k]!, fresh: false },
  form,
}));

type Step =
  | { readonly kind: 'stage'; readonly ws: ReadonlyArray<{ w: Write; form: Form }> }
  | { readonly kind: 'add'; readonly ws: ReadonlyArray<{ w: Write; form: Form }> }
  | { readonly kind: 'take' }
  | { readonly kind: 'complete' }
  | { readonly kind: 'clear' }
  | { readonly kind: 'churn'; readonly n: number; readonly keepEvery: number; readonly form: Form };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('stage' as const), ws: fc.array(writeArb, { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), ws: fc.array(writeArb, { minLength: 1, maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('take' as const, 'complete' as const) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  // Many fresh puts, most deleted at once: enough to sweep the staged list now and then.
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('churn' as const), n: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1000, max: 2500 })),
      keepEvery: fc.integer({ min: 2, max: 500 }), form: fc.constantFrom<Form>('bytes', 'latin1'),
    }),
  },
);

const RANGES: readonly AppKeyRange[] = [
  {}, { reverse: true }, { gte: Uint8Array.of(0x7f), lt: Uint8Array.of(0xfe) }, { gt: Uint8Array.of(0x00), lte: Uint8Array.of(0x80, 0x01), reverse: true },
];

const showTaken = (ops: readonly AppOp[]): string[] => ops.map((op) => `${op.type} ${hex(op.key)}${op.value !== undefined ? `=${hex(op.value)}` : ''}`);
const showWrites = (ws: readonly Write[]): string[] => ws.map((w) => `${w.type} ${hex(w.key)}${w.value !== undefined ? `=${hex(w.value)}` : ''}`);

test('property: the overlay behaves as its model under any interleaving, whatever form keys are given in', () => {
  fc.assert(fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => {
    const o = new Overlay();
    const m = new Model();
    const inFlight: Array<{ token: number; ops: readonly OverlayOp[]; writes: readonly Write[] }> = [];
    const known: Uint8Array[] = [...KEYS];
    let churned = 0;
    for (const s of steps) {
      if (s.kind === 'stage') {
        o.stage(s.ws.map((x) => asOp(x.w, x.form)));
        m.stage(s.ws.map((x) => x.w));
      } else if (s.kind === 'add') {
        const ops = s.ws.map((x) => asOp(x.w, x.form));
        const writes = s.ws.map((x) => x.w);
        const token = o.add(ops);
        assert.equal(token, m.add(writes));
        inFlight.push({ token, ops, writes });
      } else if (s.kind === 'take') {
        const got = o.take();
        const want = m.take();
        assert.equal(got.token, want.token);
        assert.deepEqual(showTaken(got.ops), showWrites(want.writes));
        for (const op of got.ops) assert.equal(op.id, latin1(op.key), 'a taken op carries its key as its latin1 string');
        inFlight.push({ token: got.token, ops: got.ops, writes: want.writes });
      } else if (s.kind === 'complete') {
        const w = inFlight.shift();
        if (w !== undefined) {
          o.written(w.token, w.ops);
          m.written(w.token, w.writes);
        }
      } else if (s.kind === 'clear') {
        o.clear();
        m.clear();
        inFlight.length = 0;
      } else {
        const puts: Write[] = [];
        const dels: Write[] = [];
        for (let i = 0; i < s.n; i++) {
          const c = churned++;
          const key = Uint8Array.of(0xfd, c >>> 8, c & 0xff);
          if (i < 3) known.push(key);
          puts.push({ type: 'put', key, value: Uint8Array.of(c & 0xff), fresh: true });
          if (i % s.keepEvery !== 0) dels.push({ type: 'del', key, fresh: false });
        }
        for (const ws of [puts, dels]) {
          o.stage(ws.map((w) => asOp(w, s.form)));
          m.stage(ws);
        }
      }
      assert.equal(o.stagedCount, m.stagedCount, `stagedCount after ${s.kind}`);
      assert.equal(o.stagedBytes, m.stagedBytes, `stagedBytes after ${s.kind}`);
      for (const k of known) {
        const e = m.entries.get(hex(k));
        assert.deepEqual(o.get(k), e === undefined ? undefined : { value: e.value }, `get ${hex(k)} after ${s.kind}`);
      }
      for (const r of RANGES) {
        assert.deepEqual(o.slice(r).map((e) => [hex(e.key), e.value === undefined ? null : hex(e.value)]), m.slice(r));
      }
    }
  }), { numRuns: 400 });
});
