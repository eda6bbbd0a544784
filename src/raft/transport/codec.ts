// Wire codec for the Raft peer stream: RaftBatch { from_node, [{ group, message }] } from
// proto/warren/v1/raft.proto <-> the core's Message (src/raft/core/types.ts).
import { warren } from '../../proto/raft.js';
import type { Message, MessageType, Snapshot } from '../core/types.js';
import { entryFromPb, entryToPb, snapMetaFromPb, snapMetaToPb, toNum } from '../storage/codec.js';

const pb = warren.v1;

export interface Envelope {
  readonly group: number;
  readonly message: Message;
}

export interface Batch {
  /** Sender node id; 0 on the stream-open hello the receiving side sends back. */
  readonly fromNode: number;
  readonly envelopes: readonly Envelope[];
}

export function messageToPb(m: Message): warren.v1.RaftMessage.$Properties {
  const p: warren.v1.RaftMessage.$Properties = {
    type: m.type, from: m.from, to: m.to, term: m.term, logTerm: m.logTerm, index: m.index,
    entries: m.entries.map(entryToPb), commit: m.commit, reject: m.reject, rejectHint: m.rejectHint,
  };
  if (m.snapshot) p.snapshot = { meta: snapMetaToPb(m.snapshot.meta), data: m.snapshot.data };
  if (m.snapOffset !== undefined) p.snapOffset = m.snapOffset;
  if (m.snapDone !== undefined) p.snapDone = m.snapDone;
  if (m.context !== undefined) p.context = m.context;
  return p;
}

export function messageFromPb(p: warren.v1.RaftMessage.$Properties): Message {
  const snapshot: Snapshot | undefined = p.snapshot
    ? { meta: snapMetaFromPb(p.snapshot.meta), data: p.snapshot.data ?? new Uint8Array(0) }
    : undefined;
  return {
    type: (p.type ?? 0) as MessageType,
    from: p.from ?? 0,
    to: p.to ?? 0,
    term: toNum(p.term),
    logTerm: toNum(p.logTerm),
    index: toNum(p.index),
    entries: (p.entries ?? []).map(entryFromPb),
    commit: toNum(p.commit),
    reject: p.reject ?? false,
    rejectHint: toNum(p.rejectHint),
    ...(snapshot ? { snapshot } : {}),
    ...(p.snapOffset != null ? { snapOffset: toNum(p.snapOffset) } : {}),
    ...(p.snapDone != null ? { snapDone: p.snapDone } : {}),
    ...(p.context != null ? { context: p.context } : {}),
  };
}

export function encodeBatch(b: Batch): Uint8Array {
  return pb.RaftBatch.encode({
    fromNode: b.fromNode,
    envelopes: b.envelopes.map((e) => ({ group: e.group, message: messageToPb(e.message) })),
  }).finish();
}

export function decodeBatch(buf: Uint8Array): Batch {
  const p = pb.RaftBatch.decode(buf);
  return {
    fromNode: p.fromNode ?? 0,
    envelopes: (p.envelopes ?? []).map((e) => ({
      group: e.group ?? 0,
      message: messageFromPb(e.message ?? {}),
    })),
  };
}

/** A cheap upper-bound estimate of a message's encoded size, for queue and batch bounds. */
export function estimateBytes(m: Message): number {
  let n = 64 + (m.context?.length ?? 0) + (m.snapshot ? m.snapshot.data.length + 64 : 0);
  for (const e of m.entries) n += e.data.length + 24;
  return n;
}
