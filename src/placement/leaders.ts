// Preferred leaders: one replica of each partition, chosen so leaders are spread evenly over owners.
//
// This is a semi-matching (Harvey, Ladner, Lovász, Tamir, "Semi-matchings for bipartite graphs and
// load balancing", 2003): every partition is assigned to one of its replicas, and an owner's load is
// the number of partitions it leads.
//
// Algorithm (deterministic; partitions in increasing order, replicas in ring order, owners by id):
// 1. Keep: a partition whose previous preferred leader (if given) is still one of its replicas keeps
//    it, so a membership change does not reshuffle leaders it need not.
// 2. Greedy: every other partition, in order, takes the replica leading the fewest partitions so far
//    (ties: the earlier replica in ring order).
// 3. Repair: while some owner s has a *cost-reducing path* — owners s = a0 → a1 → … → ak where each
//    a(i) leads a partition that has a(i+1) as a replica, and load(ak) ≤ load(s) − 2 — shift each of
//    those partitions one step along the path: s loses one leader, ak gains one, nobody else changes.
//    The shortest such path (BFS) is taken, to change as few leaders as possible. Each shift lowers
//    Σ load² by at least 2, so the repair terminates.
//
// Why the result is as even as any assignment can be. At the end no cost-reducing path exists. Let
// s have the maximum load L and S be the owners reachable from s; all of them have load ≥ L − 1, and
// every partition led by an owner of S has all its replicas in S. Any other assignment B must give
// those ≥ |S|(L − 1) + 1 partitions to owners of S, so some owner has load ≥ L under B: our maximum
// is the least possible. Symmetrically, let t have the minimum load ℓ and T be the owners that can
// reach t; all have load ≤ ℓ + 1, and every partition with a replica in T is led by an owner of T, so
// B gives owners of T at most |T|(ℓ + 1) − 1 partitions: some has ≤ ℓ, and our minimum is the
// greatest possible. Hence max − min is the least achievable, in particular ≤ 1 whenever any
// assignment achieves ≤ 1. It is not achievable when the replica sets themselves are lopsided, e.g.
// r = 1 (no choice), or a group of owners that are, between them, replicas of fewer than
// |group| · ⌊P / N⌋ partitions.

import type { OwnerId } from './ring.js';

/**
 * The preferred leader of each partition: `replicaSets[i]` lists partition i's replicas (ring
 * order), `keep[i]` its previous preferred leader if any. Every set must be non-empty and drawn
 * from `owners`.
 */
export function spreadLeaders(
  owners: readonly OwnerId[],
  replicaSets: readonly (readonly OwnerId[])[],
  keep: readonly (OwnerId | undefined)[] = [],
): OwnerId[] {
  const index = new Map(owners.map((o, i) => [o, i] as const));
  const sets = replicaSets.map((set) => set.map((o) => {
    const i = index.get(o);
    if (i === undefined) throw new Error(`placement: replica '${o}' is not an owner`);
    return i;
  }));
  const load = owners.map(() => 0);
  const leader = sets.map(() => -1);

  sets.forEach((set, p) => {
    const k = keep[p] === undefined ? undefined : index.get(keep[p]);
    if (k !== undefined && set.includes(k)) assign(p, k);
  });
  sets.forEach((set, p) => {
    if (leader[p] !== -1) return;
    if (set.length === 0) throw new Error(`placement: partition index ${p} has no replicas`);
    let best = set[0] as number;
    for (const o of set) if ((load[o] as number) < (load[best] as number)) best = o;
    assign(p, best);
  });
  while (repairOnce());
  return leader.map((o) => owners[o] as OwnerId);

  function assign(p: number, o: number): void {
    leader[p] = o;
    load[o] = (load[o] as number) + 1;
  }

  /** Finds and applies one cost-reducing path; false when there is none. */
  function repairOnce(): boolean {
    const min = Math.min(...load);
    // A path needs a load gap of 2, so sources are owners at ≥ min + 2, most loaded first.
    const sources = owners.map((_, i) => i).filter((i) => (load[i] as number) >= min + 2)
      .sort((a, b) => (load[b] as number) - (load[a] as number) || a - b);
    if (sources.length === 0) return false;
    const led: number[][] = owners.map(() => []);
    leader.forEach((o, p) => led[o]?.push(p));
    for (const s of sources) {
      const path = shortestPath(s, led);
      if (path === undefined) continue;
      for (const { partition, to } of path) leader[partition] = to;
      const t = (path[path.length - 1] as { to: number }).to;
      load[s] = (load[s] as number) - 1;
      load[t] = (load[t] as number) + 1;
      return true;
    }
    return false;
  }

  /** BFS from s for the nearest owner with load ≤ load(s) − 2; the partitions to shift, in order. */
  function shortestPath(s: number, led: readonly number[][]): { partition: number; to: number }[] | undefined {
    const via = new Map<number, { from: number; partition: number }>();
    const queue = [s];
    const seen = new Set([s]);
    for (let head = 0; head < queue.length; head++) {
      const a = queue[head] as number;
      for (const p of led[a] as number[]) {
        for (const b of sets[p] as number[]) {
          if (seen.has(b)) continue;
          seen.add(b);
          via.set(b, { from: a, partition: p });
          if ((load[b] as number) <= (load[s] as number) - 2) return unwind(b);
          queue.push(b);
        }
      }
    }
    return undefined;

    function unwind(t: number): { partition: number; to: number }[] {
      const out: { partition: number; to: number }[] = [];
      for (let b = t; b !== s;) {
        const step = via.get(b) as { from: number; partition: number };
        out.push({ partition: step.partition, to: b });
        b = step.from;
      }
      return out.reverse();
    }
  }
}
