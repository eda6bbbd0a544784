// LevelDB key layout for Raft state; one database per process shared by every group.
//
//   log/<group:u32be>/<index:u64be>   -> RaftEntry        (byte order = (group, index) order)
//   hs/<group:u32be>                  -> RaftHardState
//   snap/<group:u32be>                -> RaftSnapshotMeta
//   snapdata/<group:u32be>            -> snapshot data, raw bytes (written in the same batch as snap/)
//
// Group ids are fixed-width 4-byte big-endian unsigned integers (the ids the transport carries),
// so one group's log is one contiguous key range and a range scan returns it in index order.
// Other subsystems must keep their keys out of the `log/`, `hs/`, `snap/` and `snapdata/` prefixes.

const LOG = Buffer.from('log/');
const HS = Buffer.from('hs/');
const SNAP = Buffer.from('snap/');
const SNAP_DATA = Buffer.from('snapdata/');
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
