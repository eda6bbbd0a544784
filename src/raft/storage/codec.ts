// Binary encodings of the Raft vocabulary (src/raft/core/types.ts) with the protobufjs messages
// generated from proto/warren/v1/raft.proto. Shared by the LevelDB store (values) and the gRPC
// transport (wire). Decoding always returns plain objects that own no protobufjs prototype.
import { warren } from '../../proto/raft.js';
import type { ConfState, Entry, EntryType, HardState, SnapshotMeta } from '../core/types.js';

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

export function entryToPb(e: Entry): warren.v1.RaftEntry.$Properties {
  return { term: e.term, index: e.index, type: e.type, data: e.data };
}

export function entryFromPb(p: warren.v1.RaftEntry.$Properties): Entry {
  return {
    term: toNum(p.term),
    index: toNum(p.index),
    type: (p.type ?? 0) as EntryType,
    data: p.data ?? new Uint8Array(0),
  };
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

export function encodeEntry(e: Entry): Uint8Array {
  return pb.RaftEntry.encode(entryToPb(e)).finish();
}

export function decodeEntry(buf: Uint8Array): Entry {
  return entryFromPb(pb.RaftEntry.decode(buf));
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
