// Wire codec for the Raft peer stream: RaftBatch { from_node, to_node, [{ group, message }],
// coalesced heartbeats and heartbeat responses } from proto/warren/v1/raft.proto <-> the core's
// Message (src/raft/core/types.ts). Which messages travel coalesced, and how they become Messages
// again, is coalesce.ts's rule; this file only maps fields.
import { warren } from '../../proto/raft.js';
import type { Entry, Message, MessageType, Snapshot } from '../core/types.js';
import { entrySize, readEntry, snapMetaFromPb, snapMetaToPb, toNum, writeEntry } from '../storage/codec.js';
import {
  EMPTY_BYTES, fieldSize, LEN, putU32, putU64, u32Size, u64Size, VARINT, varintSize, WireReader, WireWriter,
} from '../../util/protowire.js';

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

// ---- hand-coded: RaftBatch, RaftEnvelope, RaftMessage (every append, every ack) -------------------
// The bytes protobufjs writes for the same message, and anything it writes decodes here the same way
// (test/unit/raft/transport/codec-reference.test.ts checks both directions against the generated
// code). What is rare or small goes through the generated code, embedded as bytes: a Snap's
// snapshot, the coalesced heartbeat columns. Field numbers: raft.proto.

export function encodeBatch(b: Batch): Uint8Array {
  const heartbeats = b.heartbeats.length > 0
    ? pb.RaftHeartbeats.encode(columnsToPb(b.heartbeats, b.heartbeats.map((h) => h.commit))).finish() : undefined;
  const heartbeatResps = b.heartbeatResps.length > 0
    ? pb.RaftHeartbeats.encode(columnsToPb(b.heartbeatResps, [])).finish() : undefined;
  const snapshots: (Uint8Array | undefined)[] = [];
  const messageSizes: number[] = [];
  let size = u32Size(b.fromNode) + u32Size(b.toNode)
    + (heartbeats ? fieldSize(heartbeats.length) : 0) + (heartbeatResps ? fieldSize(heartbeatResps.length) : 0);
  for (const env of b.envelopes) {
    const m = env.message;
    const snapshot = m.snapshot
      ? pb.RaftSnapshot.encode({ meta: snapMetaToPb(m.snapshot.meta), data: m.snapshot.data }).finish() : undefined;
    snapshots.push(snapshot);
    const n = messageSize(m, snapshot);
    messageSizes.push(n);
    size += fieldSize(u32Size(env.group) + fieldSize(n));
  }
  const w = new WireWriter(size);
  putU32(w, 1, b.fromNode);
  b.envelopes.forEach((env, i) => {
    const n = messageSizes[i]!;
    w.tag(2, LEN).varint(u32Size(env.group) + fieldSize(n));
    putU32(w, 1, env.group);
    writeMessage(w.tag(2, LEN).varint(n), env.message, snapshots[i]);
  });
  putU32(w, 3, b.toNode);
  if (heartbeats) w.tag(4, LEN).bytes(heartbeats);
  if (heartbeatResps) w.tag(5, LEN).bytes(heartbeatResps);
  return w.done();
}

function messageSize(m: Message, snapshot: Uint8Array | undefined): number {
  let n = u32Size(m.type) + u32Size(m.from) + u32Size(m.to) + u64Size(m.term) + u64Size(m.logTerm) + u64Size(m.index)
    + u64Size(m.commit) + (m.reject ? 2 : 0) + u64Size(m.rejectHint);
  for (const e of m.entries) n += fieldSize(entrySize(e));
  if (snapshot) n += fieldSize(snapshot.length);
  if (m.snapOffset !== undefined) n += 1 + varintSize(m.snapOffset);
  if (m.snapDone !== undefined) n += 2;
  if (m.context !== undefined) n += fieldSize(m.context.length);
  return n;
}

function writeMessage(w: WireWriter, m: Message, snapshot: Uint8Array | undefined): void {
  putU32(w, 1, m.type);
  putU32(w, 2, m.from);
  putU32(w, 3, m.to);
  putU64(w, 4, m.term);
  putU64(w, 5, m.logTerm);
  putU64(w, 6, m.index);
  for (const e of m.entries) writeEntry(w.tag(7, LEN).varint(entrySize(e)), e);
  putU64(w, 8, m.commit);
  if (m.reject) w.tag(9, VARINT).varint(1);
  putU64(w, 10, m.rejectHint);
  if (snapshot) w.tag(11, LEN).bytes(snapshot);
  if (m.snapOffset !== undefined) w.tag(12, VARINT).varint(m.snapOffset);
  if (m.snapDone !== undefined) w.tag(13, VARINT).varint(m.snapDone ? 1 : 0);
  if (m.context !== undefined) w.tag(14, LEN).bytes(m.context);
}

export function decodeBatch(buf: Uint8Array): Batch {
  const r = new WireReader(buf, 0, buf.length);
  let fromNode = 0;
  let toNode = 0;
  const envelopes: Envelope[] = [];
  let heartbeats: CompactHeartbeat[] = [];
  let heartbeatResps: CompactHeartbeatResp[] = [];
  while (r.at < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 1 << 3 | VARINT: fromNode = r.uint32(); break;
      case 2 << 3 | LEN: {
        const outer = r.enter();
        envelopes.push(readEnvelope(r));
        r.leave(outer);
        break;
      }
      case 3 << 3 | VARINT: toNode = r.uint32(); break;
      case 4 << 3 | LEN: {
        const hb = columnsFromPb(pb.RaftHeartbeats.decode(r.bytes()), true);
        heartbeats = hb.items.map((h, i) => ({ ...h, commit: hb.commits[i]! }));
        break;
      }
      case 5 << 3 | LEN: heartbeatResps = columnsFromPb(pb.RaftHeartbeats.decode(r.bytes()), false).items; break;
      default: r.skip(tag);
    }
  }
  return { fromNode, toNode, envelopes, heartbeats, heartbeatResps };
}

function readEnvelope(r: WireReader): Envelope {
  let group = 0;
  let message: Message | undefined;
  while (r.at < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 1 << 3 | VARINT: group = r.uint32(); break;
      case 2 << 3 | LEN: {
        const outer = r.enter();
        message = readMessage(r);
        r.leave(outer);
        break;
      }
      default: r.skip(tag);
    }
  }
  // No message field: every field at its default (r is at the envelope's end, so this reads nothing).
  return { group, message: message ?? readMessage(r) };
}

/** Reads a RaftMessage's fields up to r.end; optional fields stay absent unless on the wire. */
function readMessage(r: WireReader): Message {
  let type = 0;
  let from = 0;
  let to = 0;
  let term = 0;
  let logTerm = 0;
  let index = 0;
  const entries: Entry[] = [];
  let commit = 0;
  let reject = false;
  let rejectHint = 0;
  let snapshot: Snapshot | undefined;
  let snapOffset: number | undefined;
  let snapDone: boolean | undefined;
  let context: Uint8Array | undefined;
  while (r.at < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 1 << 3 | VARINT: type = r.uint32(); break;
      case 2 << 3 | VARINT: from = r.uint32(); break;
      case 3 << 3 | VARINT: to = r.uint32(); break;
      case 4 << 3 | VARINT: term = r.varint(); break;
      case 5 << 3 | VARINT: logTerm = r.varint(); break;
      case 6 << 3 | VARINT: index = r.varint(); break;
      case 7 << 3 | LEN: {
        const outer = r.enter();
        entries.push(readEntry(r));
        r.leave(outer);
        break;
      }
      case 8 << 3 | VARINT: commit = r.varint(); break;
      case 9 << 3 | VARINT: reject = r.bool(); break;
      case 10 << 3 | VARINT: rejectHint = r.varint(); break;
      case 11 << 3 | LEN: {
        const p = pb.RaftSnapshot.decode(r.bytes());
        snapshot = { meta: snapMetaFromPb(p.meta), data: p.data ?? EMPTY_BYTES };
        break;
      }
      case 12 << 3 | VARINT: snapOffset = r.varint(); break;
      case 13 << 3 | VARINT: snapDone = r.bool(); break;
      case 14 << 3 | LEN: context = r.bytes(); break;
      default: r.skip(tag);
    }
  }
  const m: Message = {
    type: type as MessageType, from, to, term, logTerm, index, entries, commit, reject, rejectHint,
  };
  if (snapshot === undefined && snapOffset === undefined && snapDone === undefined && context === undefined) return m;
  return {
    ...m,
    ...(snapshot ? { snapshot } : {}),
    ...(snapOffset !== undefined ? { snapOffset } : {}),
    ...(snapDone !== undefined ? { snapDone } : {}),
    ...(context !== undefined ? { context } : {}),
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
