// The placement hash must never change: every node, of every version, must put the same tokens and
// partitions at the same ring positions. These vectors fail on any change to the byte layout of the
// keys, the FNV-1a constants or the finalizer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fmix32, fnv1a32, partitionHash, placementHash, tokenHash } from '../../../src/placement/hash.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

test('FNV-1a 32 matches the published test vectors', () => {
  assert.equal(fnv1a32(bytes('')), 0x811c9dc5);
  assert.equal(fnv1a32(bytes('a')), 0xe40c292c);
  assert.equal(fnv1a32(bytes('foobar')), 0xbf9cf968);
});

test('fmix32 is MurmurHash3\'s finalizer', () => {
  assert.equal(fmix32(0), 0);
  assert.equal(fmix32(1), 0x514e28b7);
  assert.equal(fmix32(0xdeadbeef), 0x0de5c6a9);
  assert.equal(fmix32(0xffffffff), 0x81f16f39);
  assert.equal(placementHash(bytes('abc')), 0x1cc93dbc);
});

test('pinned token and partition positions', () => {
  assert.equal(tokenHash('owner-a', 0), 0x4f7034ea);
  assert.equal(tokenHash('owner-a', 1), 0xe071f87d);
  assert.equal(tokenHash('owner-a', 63), 0x0589921a);
  assert.equal(tokenHash('owner-b', 0), 0x88dfb6d0);
  assert.equal(tokenHash('owner-b', 1), 0xa465cab4);
  assert.equal(tokenHash('owner-b', 63), 0x3c66eee6);
  assert.equal(partitionHash(1), 0xf5019757);
  assert.equal(partitionHash(2), 0x44c99647);
  assert.equal(partitionHash(16), 0xdbf7bba3);
});

test('token key is owner bytes then the vnode as u32 big-endian', () => {
  // "a" ‖ 00 00 00 07, computed by hand through the byte-level hash.
  assert.equal(tokenHash('a', 7), placementHash(Uint8Array.of(0x61, 0, 0, 0, 7)));
  assert.equal(partitionHash(258), placementHash(Uint8Array.of(0xff, 0, 0, 1, 2)));
});

test('positions are unsigned 32-bit integers', () => {
  fc.assert(fc.property(fc.string(), fc.nat({ max: 4095 }), fc.integer({ min: 1, max: 65536 }), (owner, vnode, p) => {
    for (const h of [tokenHash(owner, vnode), partitionHash(p)]) assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
  }));
});

test('consecutive vnodes of one owner spread over the whole ring (why FNV-1a alone is not used)', () => {
  // Plain FNV-1a puts keys differing in the last byte ≈ d·2^24 apart; after fmix32, the 64 tokens of
  // one owner must reach every eighth of the ring.
  const octants = new Set(Array.from({ length: 64 }, (_, i) => tokenHash('owner-a', i) >>> 29));
  assert.equal(octants.size, 8);
  const rawOctants = new Set(Array.from({ length: 10 }, (_, i) => fnv1a32(bytes(`owner-a#${i}`)) >>> 29));
  assert.ok(rawOctants.size <= 2, `plain FNV-1a bunched ${rawOctants.size} octants`);
});
