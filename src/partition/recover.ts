// Rebuilds a partition's in-memory state from its keys alone (after a restart, or when a snapshot
// replaced every key). The result equals the state of the replica that wrote the keys, so later
// entries apply identically on every replica (docs/partitions.md "Why the keys are enough").
import { warren } from '../proto/partition.js';
import type { DeadLetterReason, QueueCoreState } from '../queue/types.js';
import type { AppReader } from '../raft/node/app.js';
import { decodeRecord, u64 } from './codec.js';
import { parseArgumentBytes } from './commands.js';
import {
  PARTITION_KEY, parseMessageKey, QSTATE_PREFIX_BYTES, QUEUE_PREFIX_BYTES, queueIdOf, RANGES, sessionOfDedupeKey,
} from './keys.js';
import { PartitionQueue, stubOf, type PendingDeadLetter, type QueueMeta, type Stub } from './queue.js';
import { PartitionState } from './state.js';

const pb = warren.v1;

interface Restoring {
  msgId: number;
  message: Stub;
  deliveryCount: number;
  redelivered: boolean;
  ownerId: string | undefined;
  ownerSeq: number | undefined;
}

interface QueueLoad {
  readonly meta: QueueMeta;
  state: warren.v1.QueueStateRecord | undefined;
  stateBytes: Uint8Array | undefined;
  readonly messages: Restoring[];
  readonly deadLetters: [number, PendingDeadLetter][];
}

function corrupt(what: string): Error {
  return new Error(`partition: stored state is inconsistent: ${what}`);
}

async function loadQueues(store: AppReader): Promise<Map<number, QueueLoad>> {
  const loads = new Map<number, QueueLoad>();
  for await (const [key, value] of store.iterate(RANGES.queues)) {
    const r = pb.QueueRecord.decode(value);
    const id = queueIdOf(key, QUEUE_PREFIX_BYTES);
    const meta: QueueMeta = {
      id, vhost: r.vhost, name: r.name, arguments: r.arguments, declaredAtMs: u64(r.declaredAtMs),
      args: parseArgumentBytes(r.arguments),
    };
    loads.set(id, { meta, state: undefined, stateBytes: undefined, messages: [], deadLetters: [] });
  }
  for await (const [key, value] of store.iterate(RANGES.queueStates)) {
    const load = loads.get(queueIdOf(key, QSTATE_PREFIX_BYTES));
    if (load === undefined) throw corrupt('a queue state without its queue');
    load.state = pb.QueueStateRecord.decode(value);
    load.stateBytes = value;
  }
  return loads;
}

/** Applies one message state record to the message whose record came just before it. */
function applyMessageState(load: QueueLoad, msgId: number, value: Uint8Array): void {
  const last = load.messages[load.messages.length - 1];
  if (last === undefined || last.msgId !== msgId) throw corrupt(`message state without record (${load.meta.id}/${msgId})`);
  const st = pb.MessageStateRecord.decode(value);
  last.deliveryCount = st.deliveryCount;
  last.redelivered = st.redelivered;
  if (st.deadLetterReason !== '') {
    load.messages.pop();
    load.deadLetters.push([msgId, {
      reason: st.deadLetterReason as DeadLetterReason, atMs: u64(st.deadLetteredAtMs), seq: u64(st.deadLetterSeq),
      deliveryCount: st.deliveryCount, redelivered: st.redelivered,
    }]);
    return;
  }
  if (st.owner !== '') {
    last.ownerId = st.owner;
    last.ownerSeq = st.ownerSeq === 0 ? undefined : st.ownerSeq - 1;
  }
}

async function loadMessages(store: AppReader, loads: Map<number, QueueLoad>): Promise<void> {
  for await (const [key, value] of store.iterate(RANGES.messages)) {
    const k = parseMessageKey(key);
    if (k === undefined) throw corrupt('a malformed message key');
    const load = loads.get(k.queue);
    if (load === undefined) throw corrupt(`a message of unknown queue ${k.queue}`);
    if (k.isState) {
      applyMessageState(load, k.msgId, value);
      continue;
    }
    load.messages.push({
      msgId: k.msgId, message: stubOf(decodeRecord(value), load.meta.args), deliveryCount: 0, redelivered: false,
      ownerId: undefined, ownerSeq: undefined,
    });
  }
}

function coreState(s: warren.v1.QueueStateRecord, clockMs: number): QueueCoreState {
  return {
    clockMs,
    lastUsedMs: u64(s.lastUsedMs),
    expiredSignalled: s.expiredSignalled,
    nextMsgId: u64(s.nextMsgId),
    consumers: {
      consumers: s.consumers.map((c) => ({
        id: c.id ?? '', prefetch: c.prefetch ?? 0, priority: c.priority ?? 0, noAck: c.noAck ?? false,
        seq: c.seq ?? 0, paused: c.paused ?? false,
      })),
      groups: s.groups.map((g) => ({ priority: g.priority ?? 0, members: g.members ?? [], cursor: g.cursor ?? 0 })),
      nextSeq: s.nextConsumerSeq,
      activeId: s.activeConsumer === '' ? undefined : s.activeConsumer,
    },
  };
}

/** The partition state stored under `store`'s keys. */
export async function loadState(store: AppReader): Promise<PartitionState> {
  const s = new PartitionState();
  const meta = await store.get(PARTITION_KEY);
  if (meta !== undefined) {
    const p = pb.PartitionRecord.decode(meta);
    s.nextQueueId = p.nextQueueId;
    s.clockMs = u64(p.clockMs);
  }
  for await (const [key, value] of store.iterate(RANGES.dedupe)) {
    s.dedupe.set(sessionOfDedupeKey(key), u64(pb.DedupeRecord.decode(value).seq));
  }
  const loads = await loadQueues(store);
  await loadMessages(store, loads);
  const states = new Map<number, Uint8Array>();
  for (const load of loads.values()) {
    if (load.state === undefined || load.stateBytes === undefined) throw corrupt(`queue ${load.meta.id} has no state`);
    const q = new PartitionQueue(load.meta, s.clockMs, {
      state: coreState(load.state, s.clockMs),
      messages: load.messages,
      deadLetters: load.deadLetters,
      nextDeadLetterSeq: u64(load.state.nextDeadLetterSeq),
    });
    s.add(q);
    states.set(q.id, load.stateBytes);
  }
  s.markLoaded(states);
  return s;
}
