// The consistent-hash ring of owners (DESIGN.md §2 "Partition → owners"). Each owner takes `vnodes`
// tokens at tokenHash(owner, 0..vnodes-1); a partition sits at partitionHash(partition) and its
// replicas are the first r distinct owners met walking clockwise (increasing position, wrapping)
// from there. Adding an owner therefore only inserts it into the replica sets whose walk now meets
// it first, and removing one only lets the next distinct owner of each of its sets step in: no other
// slot moves. Pure: the ring is a function of the owner *set* and `vnodes` alone.

import { partitionHash, tokenHash } from './hash.js';

export type OwnerId = string;

/** Named limits (TIGER_STYLE: put a limit on everything). */
export const MAX_VNODES = 4096;
export const MAX_OWNERS = 1024;

export interface Ring {
  readonly vnodes: number;
  /** The owners, sorted by id (code-unit order) and distinct. */
  readonly owners: readonly OwnerId[];
  /** Token positions in clockwise order; equal positions ordered by owner id, then vnode index. */
  readonly positions: readonly number[];
  /** positions[i] belongs to owners[ownerAt[i]]. */
  readonly ownerAt: readonly number[];
}

/** Compares owner ids by UTF-16 code units: the same on every node, unlike localeCompare. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The ring of `owners` (in any order) with `vnodes` tokens each. Owner ids must be non-empty and
 * distinct: a duplicate is a caller bug (two members with one id), not something to merge quietly.
 */
export function buildRing(owners: readonly OwnerId[], vnodes: number): Ring {
  if (!Number.isInteger(vnodes) || vnodes < 1 || vnodes > MAX_VNODES) throw new RangeError(`placement: vnodes must be an integer in 1..${MAX_VNODES}, got ${vnodes}`);
  if (owners.length > MAX_OWNERS) throw new RangeError(`placement: at most ${MAX_OWNERS} owners, got ${owners.length}`);
  const sorted = [...owners].sort(compareIds);
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i] === '') throw new RangeError('placement: empty owner id');
    if (i > 0 && sorted[i] === sorted[i - 1]) throw new RangeError(`placement: duplicate owner id '${sorted[i]}'`);
  }
  const tokens: { pos: number; owner: number; vnode: number }[] = [];
  sorted.forEach((id, owner) => {
    for (let vnode = 0; vnode < vnodes; vnode++) tokens.push({ pos: tokenHash(id, vnode), owner, vnode });
  });
  // Owner indexes follow the sorted ids, so comparing indexes is comparing ids.
  tokens.sort((a, b) => a.pos - b.pos || a.owner - b.owner || a.vnode - b.vnode);
  return { vnodes, owners: sorted, positions: tokens.map((t) => t.pos), ownerAt: tokens.map((t) => t.owner) };
}

/** Index of the first token at or after `pos` (clockwise), wrapping to 0 past the last token. */
function firstTokenAtOrAfter(ring: Ring, pos: number): number {
  let lo = 0;
  let hi = ring.positions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ring.positions[mid] as number) < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo === ring.positions.length ? 0 : lo;
}

/**
 * The replicas of `partition`: the first min(r, owners) distinct owners clockwise from its hash, in
 * the order met. A token exactly at the partition's position counts as the first one met; ties
 * between equal tokens are already resolved by the ring's order, so the walk is deterministic.
 */
export function replicasOf(ring: Ring, partition: number, r: number): OwnerId[] {
  if (!Number.isInteger(r) || r < 1) throw new RangeError(`placement: replication factor must be a positive integer, got ${r}`);
  const want = Math.min(r, ring.owners.length);
  const out: OwnerId[] = [];
  const taken = new Set<number>();
  const n = ring.positions.length;
  const start = firstTokenAtOrAfter(ring, partitionHash(partition));
  for (let k = 0; k < n && out.length < want; k++) {
    const owner = ring.ownerAt[(start + k) % n] as number;
    if (taken.has(owner)) continue;
    taken.add(owner);
    out.push(ring.owners[owner] as OwnerId);
  }
  return out;
}
