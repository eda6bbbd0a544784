// The simulated application: a state machine whose whole state is a hash chain over every entry
// it applied (index, term, type, data). Two replicas agree on the chain value at index i iff they
// applied the same sequence of entries up to i, which is what state-machine safety demands.
import type { Entry } from '../../src/raft/core/index.js';

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

/** Client values look like `c/<group>/<seq>`; anything else (empty, conf change) is internal. */
export function clientValue(group: number, seq: number): Uint8Array {
  return enc.encode(`c/${group}/${seq}`);
}

export function isClientValue(data: Uint8Array): boolean {
  return data.length > 2 && data[0] === 99 && data[1] === 47 && dec.decode(data).startsWith('c/');
}
