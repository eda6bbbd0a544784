// LevelDB key layout for Raft state; one database per process shared by every group.
//
//   log/<group:u32be>/<index:u64be>   -> RaftEntry        (byte order = (group, index) order)
//   hs/<group:u32be>                  -> RaftHardState
//   snap/<group:u32be>                -> RaftSnapshotMeta
//   snapdata/<group:u32be>            -> snapshot data, raw bytes (written in the same batch as snap/)
//   applied/<group:u32be>             -> applied index u64be ++ generation u32be (with every apply batch)
//   app/<group:u32be>/<gen:u32be>/<k> -> the application's key k (its own layout), generation gen
//   removing/<group:u32be>            -> marker: the group is being deleted (finished at next open)
//
// Generations: the application's keys live under the generation named in applied/. A snapshot
// received from a leader is written under a fresh generation and becomes current atomically with
// its snapshot meta; keys of any other generation are garbage (an aborted or crashed install, or
// the state a snapshot replaced) and are deleted in the background and at load.
//
// Group ids are fixed-width 4-byte big-endian unsigned integers (the ids the transport carries),
// so one group's log is one contiguous key range and a range scan returns it in index order.
// Other subsystems must keep their keys out of the `log/`, `hs/`, `snap/`, `snapdata/`, `applied/`,
// `app/` and `removing/` prefixes.

const LOG = Buffer.from('log/');
const HS = Buffer.from('hs/');
const SNAP = Buffer.from('snap/');
const SNAP_DATA = Buffer.from('snapdata/');
const APPLIED = Buffer.from('applied/');
const APP = Buffer.from('app/');
const REMOVING = Buffer.from('removing/');
const SLASH = 0x2f;

function assertGroup(group: number): void {
  if (!Number.isInteger(group) || group < 0 || group > 0xffffffff) {
    throw new RangeError(`raft storage: group id ${group} is not a u32`);
  }
}

export function logKey(group: number, index: number): Uint8Array {
  assertGroup(group);
  const k = Buffer.alloc(LOG.length + 4 + 1 + 8);
  LOG.copy(k, 0);
  k.writeUInt32BE(group, LOG.length);
  k[LOG.length + 4] = SLASH;
  k.writeBigUInt64BE(BigInt(index), LOG.length + 5);
  return k;
}

/** Inclusive bounds of a group's whole log range. */
export function logRange(group: number): { gte: Uint8Array; lte: Uint8Array } {
  return { gte: logKey(group, 0), lte: logKey(group, Number.MAX_SAFE_INTEGER) };
}

export function indexOfLogKey(key: Uint8Array): number {
  const b = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return Number(b.readBigUInt64BE(LOG.length + 5));
}

function groupKey(prefix: Buffer, group: number): Uint8Array {
  assertGroup(group);
  const k = Buffer.alloc(prefix.length + 4);
  prefix.copy(k, 0);
  k.writeUInt32BE(group, prefix.length);
  return k;
}

export const hardStateKey = (group: number): Uint8Array => groupKey(HS, group);
export const snapshotKey = (group: number): Uint8Array => groupKey(SNAP, group);
export const snapshotDataKey = (group: number): Uint8Array => groupKey(SNAP_DATA, group);
export const appliedKey = (group: number): Uint8Array => groupKey(APPLIED, group);
export const removingKey = (group: number): Uint8Array => groupKey(REMOVING, group);
export const REMOVING_PREFIX: Uint8Array = REMOVING;

export function groupOfKey(prefix: Uint8Array, key: Uint8Array): number {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).readUInt32BE(prefix.length);
}

/** `app/<group>/<gen>/`: the prefix of one generation of a group's application keys. */
export function appPrefix(group: number, gen: number): Buffer {
  assertGroup(group);
  const k = Buffer.alloc(APP.length + 4 + 1 + 4 + 1);
  APP.copy(k, 0);
  k.writeUInt32BE(group, APP.length);
  k[APP.length + 4] = SLASH;
  k.writeUInt32BE(gen, APP.length + 5);
  k[APP.length + 9] = SLASH;
  return k;
}

/** Bounds [gte, lt) of one generation's keys. */
export function appGenRange(group: number, gen: number): { gte: Uint8Array; lt: Uint8Array } {
  const gte = appPrefix(group, gen);
  const lt = Buffer.from(gte);
  lt[lt.length - 1] = SLASH + 1;
  return { gte, lt };
}

/** Bounds [gte, lt) of every generation of a group's application keys. */
export function appGroupRange(group: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: appPrefix(group, 0), lt: appGenRange(group, 0xffffffff).lt };
}

export function encodeApplied(applied: number, gen: number): Uint8Array {
  const b = Buffer.alloc(12);
  b.writeBigUInt64BE(BigInt(applied), 0);
  b.writeUInt32BE(gen, 8);
  return b;
}

export function decodeApplied(v: Uint8Array | undefined): { applied: number; gen: number } {
  if (v === undefined) return { applied: 0, gen: 0 };
  const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return { applied: Number(b.readBigUInt64BE(0)), gen: b.readUInt32BE(8) };
}
