// Small helpers shared by the core's modules.
import type { Entry } from './types.js';

/** Bytes an entry counts for in size limits (payload plus a fixed header estimate). */
export function entrySizeBytes(e: Entry): number {
  return e.data.length + 16;
}

/**
 * Keeps the longest prefix of `ents` within maxBytes, but always at least one entry so that a
 * single oversized entry still makes progress (etcd's limitSize).
 */
export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySizeBytes(ents[0]!);
  let limit = 1;
  for (; limit < ents.length; limit++) {
    size += entrySizeBytes(ents[limit]!);
    if (size > maxBytes) break;
  }
  return limit === ents.length ? ents : ents.slice(0, limit);
}

export function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A map key for an opaque context (ReadIndex request ids). */
export function contextKey(ctx: Uint8Array | undefined): string {
  if (ctx === undefined) return '';
  let s = '';
  for (const b of ctx) s += b.toString(16).padStart(2, '0');
  return s;
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);
