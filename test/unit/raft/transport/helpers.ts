// Shared by the transport codec tests.
import type { Batch, Envelope } from '../../../../src/raft/transport/codec.js';

/** A batch without coalescing: every message as a full envelope (the wire format before it). */
export function plain(fromNode: number, toNode: number, envelopes: readonly Envelope[]): Batch {
  return { fromNode, toNode, envelopes, heartbeats: [], heartbeatResps: [] };
}

/**
 * Plain data for deepEqual: byte arrays (Buffer or Uint8Array) become number arrays. Keys are
 * kept as they are, so a key present with `undefined` still differs from an absent one.
 */
export function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(norm);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  }
  return v;
}
