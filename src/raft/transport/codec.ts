// Wire codec for the Raft peer stream: RaftBatch { from_node, to_node, [{ group, message }],
// coalesced heartbeats and heartbeat responses } from proto/warren/v1/raft.proto <-> the core's
// Message (src/raft/core/types.ts). Which messages travel coalesced, and how they become Messages
// again, is coalesce.ts's rule; this file only maps fields.
import { warren } from '../../proto/raft.js';
import type { Message, MessageType, Snapshot } from '../core/types.js';
import { entryFromPb, entryToPb, snapMetaFromPb, snapMetaToPb, toNum } from '../storage/codec.js';

const pb = warren.v1;

export interface Envelope {
  readonly group: number;
  readonly message: Message;
}

/** A Heartbeat in compact form: from/to are the batch's node pair, other fields at their defaults. */
export interface CompactHeartbeat {
  readonly group: number;
  readonly term: number;
  readonly commit: number;
  readonly context?: Uint8Array;
}

/** A HeartbeatResp in compact form (its commit is always 0). */
export interface CompactHeartbeatResp {
  readonly group: number;
  readonly term: number;
  readonly context?: Uint8Array;
}

export interface Batch {
  /** Sender node id; 0 on the stream-open hello the receiving side sends back. */
  readonly fromNode: number;
  /** Receiver node id; 0 on the hello. */
  readonly toNode: number;
  readonly envelopes: readonly Envelope[];
  readonly heartbeats: readonly CompactHeartbeat[];
  readonly heartbeatResps: readonly CompactHeartbeatResp[];
}

/** The empty batch the accepting side writes when a stream opens. */
export const HELLO: Batch = { fromNode: 0, toNode: 0, envelopes: [], heartbeats: [], heartbeatResps: [] };

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
  const p: warren.v1.RaftBatch.$Properties = {
    fromNode: b.fromNode,
    toNode: b.toNode,
    envelopes: b.envelopes.map((e) => ({ group: e.group, message: messageToPb(e.message) })),
  };
  if (b.heartbeats.length > 0) p.heartbeats = columnsToPb(b.heartbeats, b.heartbeats.map((h) => h.commit));
  if (b.heartbeatResps.length > 0) p.heartbeatResps = columnsToPb(b.heartbeatResps, []);
  return pb.RaftBatch.encode(p).finish();
}

export function decodeBatch(buf: Uint8Array): Batch {
  const p = pb.RaftBatch.decode(buf);
  const hb = columnsFromPb(p.heartbeats ?? {}, true);
  return {
    fromNode: p.fromNode ?? 0,
    toNode: p.toNode ?? 0,
    envelopes: (p.envelopes ?? []).map((e) => ({
      group: e.group ?? 0,
      message: messageFromPb(e.message ?? {}),
    })),
    heartbeats: hb.items.map((h, i) => ({ ...h, commit: hb.commits[i]! })),
    heartbeatResps: columnsFromPb(p.heartbeatResps ?? {}, false).items,
  };
}

/** Adds `context` only when present: absent and empty contexts are different to the core. */
export function withContext<T extends object>(o: T, context: Uint8Array | undefined): T & { context?: Uint8Array } {
  return context === undefined ? o : { ...o, context };
}

interface ColumnItem {
  readonly group: number;
  readonly term: number;
  readonly context?: Uint8Array;
}

/** Coalesced heartbeats by column (RaftHeartbeats in raft.proto); commits empty for responses. */
function columnsToPb(items: readonly ColumnItem[], commits: readonly number[]): warren.v1.RaftHeartbeats.$Properties {
  const groupDeltas: number[] = [];
  const contextAt: number[] = [];
  const contexts: Uint8Array[] = [];
  let prev = 0;
  items.forEach((h, i) => {
    groupDeltas.push(h.group - prev);
    prev = h.group;
    if (h.context !== undefined) {
      contextAt.push(i);
      contexts.push(h.context);
    }
  });
  return { groupDeltas, terms: items.map((h) => h.term), commits: [...commits], contextAt, contexts };
}

function columnsFromPb(
  p: warren.v1.RaftHeartbeats.$Properties, withCommits: boolean,
): { items: ColumnItem[]; commits: number[] } {
  const deltas = p.groupDeltas ?? [];
  const terms = p.terms ?? [];
  const commits = (p.commits ?? []).map(toNum);
  const contextAt = p.contextAt ?? [];
  const contexts = p.contexts ?? [];
  if (terms.length !== deltas.length || commits.length !== (withCommits ? deltas.length : 0)
    || contexts.length !== contextAt.length) {
    throw new Error('raft: malformed RaftHeartbeats (column lengths differ)');
  }
  const contextOf = new Map<number, Uint8Array>();
  contextAt.forEach((at, k) => contextOf.set(at, contexts[k]!));
  let group = 0;
  const items = deltas.map((d, i) => {
    group += toNum(d);
    if (!Number.isInteger(group) || group < 0 || group > 0xffff_ffff) {
      throw new Error(`raft: malformed RaftHeartbeats (group ${group})`);
    }
    return withContext({ group, term: toNum(terms[i]) }, contextOf.get(i));
  });
  return { items, commits };
}

/** A cheap upper-bound estimate of a message's encoded size, for queue and batch bounds. */
export function estimateBytes(m: Message): number {
  let n = 64 + (m.context?.length ?? 0) + (m.snapshot ? m.snapshot.data.length + 64 : 0);
  for (const e of m.entries) n += e.data.length + 24;
  return n;
}
