// Heartbeats coalesced per node pair (the idea of CockroachDB's coalesced heartbeats): a node
// hosting hundreds of groups with the same peer sends each group's Heartbeat / HeartbeatResp as a
// few varints in the batch's compact lists instead of a full RaftMessage envelope.
//
// Contract (what the receiver sees is exactly what the sender queued):
// - A compact item is rebuilt as the Message the core produced: from = batch.fromNode,
//   to = batch.toNode, its term/commit/context, every other field at the default the core's
//   send() fills in. Only messages that are already in that shape are coalesced; anything else
//   (another from/to, a non-default field) travels as a plain envelope.
// - Per group, order is kept: of one group's messages in a batch, only the trailing run of the
//   form Heartbeat* HeartbeatResp* is coalesced, and the receiver hands over every plain envelope
//   first, then the heartbeats, then the heartbeat responses (each list in batch order). A
//   heartbeat followed by another message of its group stays plain.
//
// Keeping the order is stricter than the core needs (a Heartbeat's commit is at most the
// follower's acknowledged match, so it never depends on a preceding App; Raft tolerates
// reordering anyway), but it costs nothing for the groups that matter — idle ones send only
// heartbeats — and it keeps the transport's promise that one group's messages to one peer arrive
// in order. Order ACROSS groups was never promised and is not kept.
import type { Message } from '../core/types.js';
import { MessageType } from '../core/types.js';
import type { Batch, CompactHeartbeat, CompactHeartbeatResp, Envelope } from './codec.js';
import { withContext } from './codec.js';

/** Builds the batch `fromNode` sends to `toNode` for these envelopes (in queue order). */
export function coalesce(fromNode: number, toNode: number, envelopes: readonly Envelope[]): Batch {
  const compact = compactMask(fromNode, toNode, envelopes);
  const plain: Envelope[] = [];
  const heartbeats: CompactHeartbeat[] = [];
  const heartbeatResps: CompactHeartbeatResp[] = [];
  envelopes.forEach((env, i) => {
    const m = env.message;
    if (!compact[i]) plain.push(env);
    else if (m.type === MessageType.Heartbeat) {
      heartbeats.push(withContext({ group: env.group, term: m.term, commit: m.commit }, m.context));
    } else heartbeatResps.push(withContext({ group: env.group, term: m.term }, m.context));
  });
  return { fromNode, toNode, envelopes: plain, heartbeats, heartbeatResps };
}

/** Every message of a received batch, in the order the receiver must hand them to the groups. */
export function expand(batch: Batch): Envelope[] {
  const out: Envelope[] = [...batch.envelopes];
  for (const h of batch.heartbeats) {
    out.push({ group: h.group, message: compactMessage(MessageType.Heartbeat, batch, h.term, h.commit, h.context) });
  }
  for (const h of batch.heartbeatResps) {
    out.push({ group: h.group, message: compactMessage(MessageType.HeartbeatResp, batch, h.term, 0, h.context) });
  }
  return out;
}

/** Number of messages a batch carries in compact form. */
export function coalescedCount(batch: Batch): number {
  return batch.heartbeats.length + batch.heartbeatResps.length;
}

/**
 * compact[i] is true when envelope i goes into a compact list: it has the compact shape and,
 * within its group, only heartbeats follow it and no heartbeat follows a heartbeat response
 * (so "plain, then heartbeats, then responses" is the group's own order). Scanned backwards:
 * per group, 'resp' accepts either kind, 'hb' only heartbeats, 'closed' nothing.
 */
function compactMask(fromNode: number, toNode: number, envelopes: readonly Envelope[]): boolean[] {
  const mask = new Array<boolean>(envelopes.length).fill(false);
  const state = new Map<number, 'resp' | 'hb' | 'closed'>();
  for (let i = envelopes.length - 1; i >= 0; i--) {
    const { group, message: m } = envelopes[i]!;
    const s = state.get(group) ?? 'resp';
    if (s === 'closed') continue;
    if (m.type === MessageType.HeartbeatResp && s === 'resp' && hasCompactShape(m, fromNode, toNode)) {
      mask[i] = true;
    } else if (m.type === MessageType.Heartbeat && hasCompactShape(m, fromNode, toNode)) {
      mask[i] = true;
      state.set(group, 'hb');
    } else state.set(group, 'closed');
  }
  return mask;
}

/** True when compactMessage() rebuilds m exactly. */
function hasCompactShape(m: Message, fromNode: number, toNode: number): boolean {
  return m.from === fromNode && m.to === toNode
    && m.logTerm === 0 && m.index === 0 && m.entries.length === 0 && !m.reject && m.rejectHint === 0
    && (m.type === MessageType.Heartbeat || m.commit === 0)
    && m.snapshot === undefined && m.snapOffset === undefined && m.snapDone === undefined;
}

function compactMessage(
  type: MessageType, batch: Batch, term: number, commit: number, context: Uint8Array | undefined,
): Message {
  return {
    type, from: batch.fromNode, to: batch.toNode, term, logTerm: 0, index: 0, entries: [],
    commit, reject: false, rejectHint: 0, ...(context !== undefined ? { context } : {}),
  };
}
