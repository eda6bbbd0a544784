// A tiny seeded PRNG (mulberry32), shared by the Raft core (election jitter comes from the `rand`
// function in its Config, so a simulator seed replays bit-for-bit) and by seeded tests.

/** Returns a function yielding uniformly distributed numbers in [0, 1), determined by `seed`. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n) drawn from `rand`. */
export function randInt(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}
