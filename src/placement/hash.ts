// The one hash of the placement ring. Every node must compute the same tokens and partition points
// forever, or two nodes (or one node across an upgrade) would disagree on who holds what; so the
// function is spelled out here byte for byte and pinned by test vectors, never taken from a library
// or the platform.
//
// placementHash(bytes) = fmix32(fnv1a32(bytes)):
// - FNV-1a 32-bit (offset basis 0x811c9dc5, prime 0x01000193), the well-known public-domain hash
//   with published test vectors; the queue → partition hash (src/owner/durable.ts) is FNV-1a too.
// - fmix32, MurmurHash3's finalizer, because FNV-1a alone is a poor ring hash for keys that differ
//   only in their last bytes (a vnode index): the last byte passes through a single multiply by
//   0x01000193 = 2^24 + 403, so keys differing by d in it land about d·2^24 apart, i.e. the tokens of
//   one owner would bunch together in a sliver of the ring. fmix32 is a bijection on 32 bits with
//   full avalanche, so it adds no collisions and scatters those neighbours uniformly.
// 32 bits keep tokens plain JSON numbers; collisions (≈ n²/2³³ for n tokens) are harmless because
// the ring orders equal tokens by owner id and vnode index.

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a, 32-bit, over bytes. */
export function fnv1a32(bytes: Uint8Array): number {
  let h = FNV_OFFSET_BASIS;
  for (const b of bytes) h = Math.imul(h ^ b, FNV_PRIME) >>> 0;
  return h;
}

/** MurmurHash3's 32-bit finalizer (a bijection with full avalanche). */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function placementHash(bytes: Uint8Array): number {
  return fmix32(fnv1a32(bytes));
}

const utf8 = new TextEncoder();

function withU32be(prefix: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(prefix.length + 4);
  out.set(prefix, 0);
  new DataView(out.buffer).setUint32(prefix.length, n, false);
  return out;
}

// Key spaces. A token key is utf8(owner) ‖ u32be(vnode): the fixed-width suffix makes it injective
// in (owner, vnode) with no separator, so owner ids may contain any character. A partition key is
// 0xff ‖ u32be(partition): 0xff never occurs in UTF-8, and a token key of an empty owner id would be
// 4 bytes, so no partition key equals any token key.

/** The ring position of an owner's `vnode`-th token. */
export function tokenHash(owner: string, vnode: number): number {
  return placementHash(withU32be(utf8.encode(owner), vnode));
}

/** The ring position of partition `partition` (partitions are numbered 1..P). */
export function partitionHash(partition: number): number {
  return placementHash(withU32be(Uint8Array.of(0xff), partition));
}
