// Binary encodings of the Raft vocabulary (src/raft/core/types.ts) with the protobufjs messages
// generated from proto/warren/v1/raft.proto. Shared by the LevelDB store (values) and the gRPC
// transport (wire). Decoding always returns plain objects that own no protobufjs prototype.
//
// RaftEntry, which every replica writes for every entry and every leader sends to every follower,
// is coded by hand (src/util/protowire.ts): the same bytes protobufjs writes, numbers instead of
// Longs on decode, its data a view of the input. test/unit/raft/transport/codec-reference.test.ts
// checks both directions against the generated code.
import { warren } from '../../proto/raft.js';
import type { ConfState, Entry, EntryType, HardState, SnapshotMeta } from '../core/types.js';
import {
  bytesSize, EMPTY_BYTES, LEN, putBytes, putU32, putU64, u32Size, u64Size, VARINT, WireReader, WireWriter,
} from '../../util/protowire.js';

const pb = warren.v1;

/**
 * protobufjs decodes uint64 fields to `Long` when the `long` package is installed and to number
 * otherwise; accept both. Indexes and terms stay far below 2^53 (see types.ts).
 */
export function toNum(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v !== null && typeof v === 'object' && 'toNumber' in v) {
    return (v as { toNumber(): number }).toNumber();
  }
  return 0;
}

export function confStateToPb(c: ConfState): warren.v1.RaftConfState.$Properties {
  return { voters: [...c.voters], learners: [...c.learners], votersOutgoing: [...c.votersOutgoing] };
}

export function confStateFromPb(p: warren.v1.RaftConfState.$Properties | null | undefined): ConfState {
  return {
    voters: [...(p?.voters ?? [])],
    learners: [...(p?.learners ?? [])],
    votersOutgoing: [...(p?.votersOutgoing ?? [])],
  };
}

export function snapMetaToPb(m: SnapshotMeta): warren.v1.RaftSnapshotMeta.$Properties {
  return { index: m.index, term: m.term, confState: confStateToPb(m.confState) };
}

export function snapMetaFromPb(p: warren.v1.RaftSnapshotMeta.$Properties | null | undefined): SnapshotMeta {
  return { index: toNum(p?.index), term: toNum(p?.term), confState: confStateFromPb(p?.confState) };
}

/** Bytes of a RaftEntry's fields (its payload when embedded): term = 1, index = 2, type = 3, data = 4. */
export function entrySize(e: Entry): number {
  return u64Size(e.term) + u64Size(e.index) + u32Size(e.type) + bytesSize(e.data);
}

/** Writes the fields entrySize() counted. */
export function writeEntry(w: WireWriter, e: Entry): void {
  putU64(w, 1, e.term);
  putU64(w, 2, e.index);
  putU32(w, 3, e.type);
  putBytes(w, 4, e.data);
}

/** Reads a RaftEntry's fields up to r.end (the caller enters an embedded one). */
export function readEntry(r: WireReader): Entry {
  let term = 0;
  let index = 0;
  let type = 0;
  let data = EMPTY_BYTES;
  while (r.at < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 1 << 3 | VARINT: term = r.varint(); break;
      case 2 << 3 | VARINT: index = r.varint(); break;
      case 3 << 3 | VARINT: type = r.uint32(); break;
      case 4 << 3 | LEN: data = r.bytes(); break;
      default: r.skip(tag);
    }
  }
  return { term, index, type: type as EntryType, data };
}

export function encodeEntry(e: Entry): Uint8Array {
  const w = new WireWriter(entrySize(e));
  writeEntry(w, e);
  return w.done();
}

export function decodeEntry(buf: Uint8Array): Entry {
  return readEntry(new WireReader(buf, 0, buf.length));
}

export function encodeHardState(h: HardState): Uint8Array {
  return pb.RaftHardState.encode({ term: h.term, vote: h.vote, commit: h.commit }).finish();
}

export function decodeHardState(buf: Uint8Array): HardState {
  const p = pb.RaftHardState.decode(buf);
  return { term: toNum(p.term), vote: p.vote ?? 0, commit: toNum(p.commit) };
}

export function encodeSnapMeta(m: SnapshotMeta): Uint8Array {
  return pb.RaftSnapshotMeta.encode(snapMetaToPb(m)).finish();
}

export function decodeSnapMeta(buf: Uint8Array): SnapshotMeta {
  return snapMetaFromPb(pb.RaftSnapshotMeta.decode(buf));
}
