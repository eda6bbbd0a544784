// The simulated application: a state machine whose whole state is a hash chain over every entry
// it applied (index, term, type, data). Two replicas agree on the chain value at index i iff they
// applied the same sequence of entries up to i, which is what state-machine safety demands.
// SimApp keeps it as the group's application keys (through the real driver): `state` holds the
// chain, and `v/<u64 index>` the last few client values, so snapshots carry several keys and are
// streamed in several chunks.
import type { Entry } from '../../src/raft/core/index.js';
import { EntryType } from '../../src/raft/core/index.js';
import type { ApplyBatch, GroupApp, RecoverInfo } from '../../src/raft/node/app.js';
import type { GroupChecker } from './checker.js';

export interface AppState {
  applied: number;
  hash: string;
}

export const GENESIS: AppState = { applied: 0, hash: '0.0' };

export function applyEntry(s: AppState, e: Entry): AppState {
  const [a0, b0] = s.hash.split('.').map(Number) as [number, number];
  let a = a0 ^ e.index;
  let b = b0 ^ e.term;
  a = Math.imul(a ^ e.type, 0x01000193) >>> 0;
  for (const byte of e.data) {
    a = Math.imul(a ^ byte, 0x01000193) >>> 0;
    b = Math.imul(b ^ byte ^ (a >>> 7), 0x5bd1e995) >>> 0;
  }
  b = Math.imul(b ^ e.index, 0x5bd1e995) >>> 0;
  return { applied: e.index, hash: `${a}.${b}` };
}

export function encodeApp(s: AppState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(s));
}

export function decodeApp(data: Uint8Array): AppState {
  const v = JSON.parse(new TextDecoder().decode(data)) as AppState;
  return { applied: v.applied, hash: v.hash };
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const STATE_KEY = enc.encode('state');
/** Client values kept as keys (older ones are deleted). */
const KEEP_VALUES = 6;

function valueKey(index: number): Uint8Array {
  const k = Buffer.alloc(10);
  k.write('v/', 0);
  k.writeBigUInt64BE(BigInt(index), 2);
  return k;
}

/** Client values look like `c/<group>/<seq>`; anything else (empty, conf change) is internal. */
export function clientValue(group: number, seq: number): Uint8Array {
  return enc.encode(`c/${group}/${seq}`);
}

export function isClientValue(data: Uint8Array): boolean {
  return data.length > 2 && data[0] === 99 && data[1] === 47 && dec.decode(data).startsWith('c/');
}

export class SimApp implements GroupApp<string> {
  state: AppState = GENESIS;

  get appliedIndex(): number {
    return this.state.applied;
  }
  /** Indexes of the client values currently stored as keys. */
  private values: number[] = [];

  constructor(
    private readonly id: number,
    private readonly checker: GroupChecker,
    private readonly log: (line: string) => void,
  ) {}

  async recover(info: RecoverInfo): Promise<void> {
    const raw = await info.store.get(STATE_KEY);
    this.state = raw === undefined ? GENESIS : decodeApp(raw);
    this.values = [];
    for await (const [k] of info.store.iterate({ gte: enc.encode('v/'), lt: enc.encode('v0') })) {
      this.values.push(Number(Buffer.from(k).readBigUInt64BE(2)));
    }
    // The keys and the applied index are written in one batch: they must agree.
    if (this.state.applied !== info.appliedIndex) {
      throw new Error(`node ${this.id}: state at ${this.state.applied} but applied index ${info.appliedIndex} (${info.reason})`);
    }
    if (info.reason === 'snapshot') {
      this.checker.apply(this.state.applied, this.state.hash, this.id);
      this.log(`installed snapshot @${info.appliedIndex} (${this.values.length} values)`);
    }
  }

  apply(entries: readonly Entry[], batch: ApplyBatch): string[] {
    const out: string[] = [];
    for (const e of entries) {
      if (e.index !== this.state.applied + 1) throw new Error(`node ${this.id} applies ${e.index} after ${this.state.applied}`);
      this.state = applyEntry(this.state, e);
      this.checker.apply(e.index, this.state.hash, this.id);
      if (e.type === EntryType.Normal && isClientValue(e.data)) {
        this.checker.acked(e.index);
        batch.put(valueKey(e.index), e.data);
        this.values.push(e.index);
        if (this.values.length > KEEP_VALUES) batch.del(valueKey(this.values.shift()!));
      }
      out.push(this.state.hash);
    }
    batch.put(STATE_KEY, encodeApp(this.state));
    return out;
  }
}
