// Shared generators for the placement tests.
import fc from 'fast-check';

/** Distinct owner ids of any characters (the token key needs no separator), in random order. */
export const ownerIds = (minLength: number, maxLength: number): fc.Arbitrary<string[]> =>
  fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength, maxLength });

/** Owner ids shaped like real ones ("owner-17.warren.svc"), for the statistical tests. */
export const realisticOwnerIds = (minLength: number, maxLength: number): fc.Arbitrary<string[]> =>
  fc.uniqueArray(fc.nat({ max: 9999 }), { minLength, maxLength }).map((ns) => ns.map((n) => `owner-${n}.warren.svc`));

export function counts<T>(xs: Iterable<T>): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}
