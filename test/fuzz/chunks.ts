// Deterministic pseudo-random split of an input into chunks, seeded by the input itself, so a
// crash file replays with exactly the split that failed.

/** FNV-1a over the input, then xorshift32: chunk sizes 1..64 (mostly small, some large) summing to data.length. */
export function chunkSizes(data: Buffer): number[] {
  let h = 0x811c9dc5;
  for (const b of data) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  let s = h || 1;
  const next = (): number => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
  const sizes: number[] = [];
  for (let left = data.length; left > 0;) {
    const r = next();
    const n = Math.min(left, (r & 3) === 0 ? 1 + (r >>> 8) % 64 : 1 + (r >>> 8) % 9);
    sizes.push(n);
    left -= n;
  }
  return sizes;
}
