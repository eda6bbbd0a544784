// One partition command applied to the partition's state (machine.ts runs them in log order).
// Queue commands run at the partition clock, so a queue's clock always equals the partition's when
// it acts, whatever the command's own nowMs (docs/partitions.md "Time").
import { decodeTable } from '../amqp/table.js';
import { AmqpError } from '../amqp/errors.js';
import { warren } from '../proto/partition.js';
import { parseQueueArgs } from '../queue/args.js';
import type { QueueArgs, QueueCommand, QueueReply } from '../queue/types.js';
import { encodeEnqueue } from './codec.js';
import { queueKey } from './keys.js';
import { ownerId, PartitionQueue, stubOf, type Stub } from './queue.js';
import { PartitionState, type MachineCtx } from './state.js';
import type {
  CommandResult, DeclareCmd, EnqueueCmd, EnqueueOutcome, GetCmd, PartitionCommand,
} from './types.js';

const pb = warren.v1;
const OK: CommandResult = { kind: 'ok' };
const NO_QUEUE: CommandResult = { kind: 'noQueue' };
const DUPLICATE: CommandResult = { kind: 'duplicate' };
/** What an enqueue returns when results are not wanted (MachineCtx.results): dropped unread. */
const UNWANTED: CommandResult = OK;

/** Reads declare arguments as the metadata layer validated them (src/meta/queue-args.ts). */
export function parseArgumentBytes(bytes: Uint8Array): QueueArgs {
  if (bytes.length === 0) return parseQueueArgs(undefined);
  const { table } = decodeTable(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0);
  return parseQueueArgs(table);
}

/** Runs a core command on q with the observer writing into ctx, then translates its effects. */
function run(q: PartitionQueue, cmd: QueueCommand<Stub>, ctx: MachineCtx): QueueReply<Stub> {
  ctx.dirtyQueues.add(q);
  return q.applyCore(ctx, cmd);
}

function declare(s: PartitionState, c: DeclareCmd, ctx: MachineCtx): CommandResult {
  const existing = s.byName.get(PartitionState.nameKey(c.vhost, c.name));
  if (existing !== undefined) {
    const q = s.queues.get(existing) as PartitionQueue;
    run(q, { kind: 'touch', nowMs: s.clockMs }, ctx);
    return { kind: 'declared', queue: q.id, created: false, messageCount: q.core.messageCount, consumerCount: q.core.consumerCount };
  }
  let args: QueueArgs;
  try {
    args = parseArgumentBytes(c.arguments);
  } catch (e) {
    if (e instanceof AmqpError) return { kind: 'invalid', code: e.replyCode, text: e.replyText };
    throw e;
  }
  const id = s.nextQueueId++;
  const meta = { id, vhost: c.vhost, name: c.name, arguments: c.arguments, declaredAtMs: s.clockMs, args };
  const q = new PartitionQueue(meta, s.clockMs);
  s.add(q);
  ctx.dirtyQueues.add(q);
  ctx.writes.put(queueKey(id), pb.QueueRecord.encode({
    id, vhost: c.vhost, name: c.name, arguments: c.arguments, declaredAtMs: s.clockMs,
  }).finish());
  return { kind: 'declared', queue: id, created: true, messageCount: 0, consumerCount: 0 };
}

function enqueue(s: PartitionState, c: EnqueueCmd, ctx: MachineCtx): CommandResult {
  if (c.session !== '' && c.seq > 0) {
    // Per session and partition, seqs are proposed in increasing order; a retry re-proposes a seq
    // already applied, which must change nothing.
    if (c.seq <= (s.dedupe.get(c.session) ?? 0)) return DUPLICATE;
    s.dedupe.set(c.session, c.seq);
    ctx.dirtySessions.add(c.session);
  }
  ctx.record = c.record ?? encodeEnqueue(c);
  // Per message: no result when nobody waits for it, else sized up front (a first push() into []
  // reserves 17 slots).
  const n = c.queues.length;
  const outcomes = ctx.results ? new Array<EnqueueOutcome>(n) : undefined;
  const msgIds = ctx.results ? new Array<number>(n) : undefined;
  for (let i = 0; i < n; i++) {
    const q = s.queues.get(c.queues[i]!);
    ctx.storedId = 0;
    const outcome = q === undefined ? 'noQueue' : enqueueIn(s, q, c, ctx);
    if (outcomes !== undefined && msgIds !== undefined) {
      outcomes[i] = outcome;
      msgIds[i] = outcome === 'accepted' ? ctx.storedId : 0;
    }
  }
  ctx.record = undefined;
  return outcomes === undefined || msgIds === undefined ? UNWANTED : { kind: 'enqueued', outcomes, msgIds };
}

/** Stores c's message in q (its id then in ctx.storedId), unless x-overflow refuses it. */
function enqueueIn(s: PartitionState, q: PartitionQueue, c: EnqueueCmd, ctx: MachineCtx): 'accepted' | 'rejected' {
  return run(q, { kind: 'enqueue', message: stubOf(c, q.meta.args), nowMs: s.clockMs }, ctx) === 'accepted' ? 'accepted' : 'rejected';
}

function get(q: PartitionQueue, c: GetCmd, now: number, ctx: MachineCtx): CommandResult {
  const reply = run(q, { kind: 'get', getterId: ownerId(c.session, c.consumer), noAck: c.noAck, nowMs: now }, ctx);
  if (reply === undefined || typeof reply !== 'object' || reply.kind === 'empty') return { kind: 'got', message: undefined };
  const key = `${q.id}:${reply.msgId}`;
  const record = c.noAck ? ctx.autoAcked.get(key) : ctx.writes.recordValue(q.id, reply.msgId) ?? undefined;
  const message = {
    queue: q.id, msgId: reply.msgId, redelivered: reply.redelivered, deliveryCount: reply.deliveryCount,
    messageCount: reply.messageCount, record,
  };
  // basic.get is rare: fetch the body here so the proposer gets it with the result.
  if (record === undefined && ctx.results) ctx.reads.push({ queue: q.id, msgId: reply.msgId, forResult: true, fill: (b) => { message.record = b; } });
  return { kind: 'got', message };
}

/** Every consumer and getter of `session` in q (ids joined with NUL, see ownerId). */
function ownersOfSession(q: PartitionQueue, session: string): string[] {
  const prefix = `${session}\0`;
  // Sorted: the set's order depends on history a rebuilt replica does not share.
  return [...q.core.ownerIds()].filter((id) => id.startsWith(prefix)).sort();
}

function forQueue(s: PartitionState, id: number, f: (q: PartitionQueue) => CommandResult): CommandResult {
  const q = s.queues.get(id);
  return q === undefined ? NO_QUEUE : f(q);
}

/** Applies one command. Must be deterministic: same state + command → same result, effects, writes. */
export function applyCommand(s: PartitionState, c: PartitionCommand, ctx: MachineCtx): CommandResult {
  const now = s.advance(c.nowMs);
  switch (c.kind) {
    case 'declare': return declare(s, c, ctx);
    case 'enqueue': return enqueue(s, c, ctx);
    case 'tick':
      for (const q of s.queues.values()) {
        const due = q.core.nextDeadlineMs();
        if (due !== undefined && due <= now) run(q, { kind: 'tick', nowMs: now }, ctx);
      }
      return OK;
    case 'sessionDown':
      for (const q of s.queues.values()) {
        const ids = ownersOfSession(q, c.session);
        if (ids.length > 0) run(q, { kind: 'down', consumerIds: ids, nowMs: now }, ctx);
      }
      if (s.dedupe.delete(c.session)) ctx.dirtySessions.add(c.session);
      return OK;
    case 'down': {
      const ids = c.consumers.map((id) => ownerId(c.session, id));
      if (c.queue === 0) {
        for (const q of s.queues.values()) run(q, { kind: 'down', consumerIds: ids, nowMs: now }, ctx);
        return OK;
      }
      return forQueue(s, c.queue, (q) => { run(q, { kind: 'down', consumerIds: ids, nowMs: now }, ctx); return OK; });
    }
    default: return forQueue(s, c.queue, (q) => queueCommand(s, q, c, now, ctx));
  }
}

type QueueScoped = Exclude<PartitionCommand, { kind: 'declare' | 'enqueue' | 'tick' | 'sessionDown' | 'down' }>;

function queueCommand(s: PartitionState, q: PartitionQueue, c: QueueScoped, now: number, ctx: MachineCtx): CommandResult {
  switch (c.kind) {
    case 'delete': {
      const n = run(q, { kind: 'delete', nowMs: now }, ctx);
      q.dropDeadLetters(ctx);
      s.remove(q, ctx.writes);
      return { kind: 'deleted', messageCount: typeof n === 'number' ? n : 0 };
    }
    case 'checkout':
      run(q, {
        kind: 'checkout', consumerId: ownerId(c.session, c.consumer), prefetch: c.prefetch, priority: c.priority,
        noAck: c.noAck, nowMs: now,
      }, ctx);
      return OK;
    case 'settle': case 'return': case 'discard':
      run(q, { kind: c.kind, consumerId: ownerId(c.session, c.consumer), msgIds: c.msgIds, nowMs: now }, ctx);
      return OK;
    case 'cancel':
      run(q, { kind: 'cancel', consumerId: ownerId(c.session, c.consumer), nowMs: now }, ctx);
      return OK;
    case 'recover':
      run(q, { kind: 'returnAll', consumerId: ownerId(c.session, c.consumer), nowMs: now }, ctx);
      return OK;
    case 'get': return get(q, c, now, ctx);
    case 'purge': {
      const n = run(q, { kind: 'purge', nowMs: now }, ctx);
      return { kind: 'purged', messageCount: typeof n === 'number' ? n : 0 };
    }
    case 'touch':
      run(q, { kind: 'touch', nowMs: now }, ctx);
      return { kind: 'counts', messageCount: q.core.messageCount, consumerCount: q.core.consumerCount };
    case 'flow':
      run(q, { kind: 'flow', consumerId: ownerId(c.session, c.consumer), active: c.active, nowMs: now }, ctx);
      return OK;
    case 'deadLettered':
      ctx.dirtyQueues.add(q);
      q.deadLettered(c.msgIds, ctx);
      return OK;
    default: {
      const never: never = c;
      throw new Error(`partition: unknown command ${JSON.stringify(never)}`);
    }
  }
}
