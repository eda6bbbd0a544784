// The owner of durable queues: P partitions, each a Raft group whose machine hosts the queues
// placed in it (DESIGN §2, §5). A queue's partition is a hash of (vhost, name), fixed for the data
// directory's life. Every answer is sent after the partition committed (fsynced) and applied the
// command: a publisher confirm for a durable queue means the message is in the log on disk.
import { AmqpError, ReplyCode } from '../amqp/errors.js';
import { encodeContentHeader } from '../amqp/content.js';
import { encodeTable, type FieldTable } from '../amqp/table.js';
import type { Logger } from '../log.js';
import { withWireTypes } from '../meta/codec.js';
import { encodeEnqueue, ownerId, readRecord, splitOwnerId, type CommandResult, type EnqueueCmd } from '../partition/index.js';
import { parseExpirationMs } from '../queue/args.js';
import type {
  ConsumeOptions, ConsumerSink, DeclareCounts, DeleteConditions, EnqueueOutcome, GetResult, Message, OwnerClient,
  QueueRef, QueueSpec, QueueStats, Settlement,
} from './api.js';
import { PartitionHost, messageOf } from './partition-host.js';
import { RecentRecords } from './recent-records.js';
import { Turn } from './turn.js';
import type { GroupApp } from '../raft/node/app.js';
import type { GroupDriver } from '../raft/node/group.js';
import { vhostNameKey } from '../util/names.js';

/** Ready messages above which a queue with consumers asks its publishers to yield (as LocalOwner). */
const FLOW_BACKLOG_MESSAGES = 300;

export interface DurableOwnerOptions {
  readonly partitions: number;
  /**
   * The partitions this node holds a replica of (default: all of 1..partitions, the embedded
   * node). In a cluster the placement ring decides; requests for others are not this node's.
   */
  readonly hosted?: readonly number[];
  /** This node's session: the default owner of the consumers, getters and enqueues asked of it. */
  readonly session: string;
  /**
   * A session of another node (a frontend) whose deliveries reach it through this node (a gRPC
   * stream): its consumers' sink. Undefined: the embedded node, where every consumer is local.
   */
  readonly remoteSink?: (session: string, consumer: string) => ConsumerSink | undefined;
  /** Whether, at start, consumers and checkouts of sessions other than this node's are gone (the embedded node: yes). */
  readonly forgetOtherSessions?: boolean;
  readonly log: Logger;
  readonly now?: () => number;
  /** Opens partition group `id` on this node and waits until it can propose. */
  readonly openGroup: (id: number, app: GroupApp) => Promise<GroupDriver>;
  /** Enqueues a dead-lettered copy to every queue `exchange` routes `routingKeys` to; `done` once all accepted it. */
  readonly deadLetter: (vhost: string, exchange: string, routingKeys: readonly string[], message: Message, done: () => void) => void;
  /** The owner removed a queue on its own (x-expires): remove its metadata record. */
  readonly onQueueDeleted: (q: QueueRef) => void;
}

/** FNV-1a over (vhost, name): the queue's place on the partition ring. */
export function partitionOf(q: QueueRef, partitions: number): number {
  let h = 0x811c9dc5;
  const s = vhostNameKey(q.vhost, q.name);
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 1 + (h % partitions);
}

export class DurableOwner implements OwnerClient {
  private readonly hosts = new Map<number, PartitionHost>();
  private readonly exclusiveConsumers = new Map<string, string>();
  /** Auto-delete queues by "vhost\0name": whether they have had a consumer (they go with the last one). */
  private readonly autoDelete = new Map<string, boolean>();
  private readonly now: () => number;

  private constructor(private readonly opts: DurableOwnerOptions) {
    this.now = opts.now ?? Date.now;
  }

  static async open(opts: DurableOwnerOptions): Promise<DurableOwner> {
    const owner = new DurableOwner(opts);
    const turn = new Turn();
    const recent = new RecentRecords();
    const hosted = opts.hosted ?? Array.from({ length: opts.partitions }, (_, i) => i + 1);
    for (const id of hosted) {
      const host = new PartitionHost({
        id, session: opts.session, now: owner.now, log: opts.log, deadLetter: opts.deadLetter, turn, recent,
        expired: (vhost, name) => owner.expire({ vhost, name }),
        ...(opts.remoteSink ? { remoteSink: opts.remoteSink } : {}),
      });
      owner.hosts.set(id, host);
    }
    await Promise.all([...owner.hosts].map(async ([id, h]) => h.attach(await opts.openGroup(id, h.app))));
    if (opts.forgetOtherSessions ?? true) await owner.forgetOldSessions();
    return owner;
  }

  /** Consumers registered by earlier runs of this node are gone with their connections: their messages come back. */
  private async forgetOldSessions(): Promise<void> {
    for (const p of this.hosts.keys()) {
      const sessions = this.sessionsIn(p);
      sessions.delete(this.opts.session);
      for (const session of sessions) await this.sessionDown(p, session);
    }
  }

  private host(q: QueueRef): PartitionHost {
    const p = partitionOf(q, this.opts.partitions);
    const h = this.hosts.get(p);
    if (h === undefined) throw new Error(`partition ${p} (queue '${q.name}') has no replica on this node`);
    return h;
  }

  /**
   * The queue's partition, and whether this node's replica of it leads (may propose and carries out
   * effects) and serves (leads and has applied everything committed before its term: PartitionHost.serving).
   */
  leadership(q: QueueRef): { partition: number; hosted: boolean; leads: boolean; serving: boolean; leader: number } {
    const partition = partitionOf(q, this.opts.partitions);
    const h = this.hosts.get(partition);
    return { partition, hosted: h !== undefined, leads: h?.leads() ?? false, serving: h?.serving() ?? false, leader: h?.leader() ?? 0 };
  }

  /** The Raft term this node's replica of partition `p` is in (0 when not hosted). */
  termOf(p: number): number {
    return this.hosts.get(p)?.term() ?? 0;
  }

  /** Whether this node's replica of partition `p` leads it. */
  leadsPartition(p: number): boolean {
    return this.hosts.get(p)?.leads() ?? false;
  }

  /** Partition group ids hosted here. */
  partitionIds(): number[] {
    return [...this.hosts.keys()];
  }

  /** Sessions a partition led here still knows (consumers or checked-out messages), for session liveness. */
  sessionsIn(partition: number): Set<string> {
    const sessions = new Set<string>();
    const h = this.hosts.get(partition);
    if (h === undefined) return sessions;
    for (const id of h.machine.queueIds()) {
      for (const c of h.machine.consumerIds(id)) sessions.add(splitOwnerId(c)[0]);
      for (const c of h.machine.checkedOut(id)) sessions.add(c.session);
    }
    return sessions;
  }

  /** The session's consumers are cancelled and what they held returns (redelivered) in one partition. */
  async sessionDown(partition: number, session: string): Promise<void> {
    await this.hosts.get(partition)?.call({ kind: 'sessionDown', session, nowMs: this.now() });
  }

  /** The queue's id in its partition, or a 404 as the frontend reports it. */
  private located(q: QueueRef): { host: PartitionHost; id: number } {
    const host = this.host(q);
    const id = host.machine.queueId(q.vhost, q.name);
    if (id === undefined) throw new AmqpError(ReplyCode.NotFound, `no queue '${q.name}' in vhost '${q.vhost}'`);
    return { host, id };
  }

  async declareQueue(q: QueueRef, spec: QueueSpec): Promise<DeclareCounts> {
    const r = await this.host(q).call({
      kind: 'declare', vhost: q.vhost, name: q.name, arguments: encodeTable(withWireTypes(spec.arguments as FieldTable)), nowMs: this.now(),
    });
    if (r.kind === 'invalid') throw new AmqpError(r.code, r.text.replace(/^[A-Z_]+ - /, ''));
    if (r.kind !== 'declared') throw unexpected(r);
    const key = vhostNameKey(q.vhost, q.name);
    if (spec.autoDelete && !this.autoDelete.has(key)) this.autoDelete.set(key, r.consumerCount > 0);
    return { messages: r.messageCount, consumers: r.consumerCount };
  }

  enqueue(q: QueueRef, message: Message, done: (outcome: EnqueueOutcome, backlogged: boolean) => void): void {
    const p = message.properties;
    const content: EnqueueContent = {
      exchange: message.exchange, routingKey: message.routingKey, header: message.header ?? encodeContentHeader(message.properties, message.body.byteLength), body: message.body,
      priority: p.priority, expirationMs: p.expiration === undefined ? undefined : parseExpirationMs(p.expiration),
    };
    this.enqueueContent(q, content, this.opts.session, undefined, done);
  }

  /**
   * Enqueues a message as published (raw header and body) under `session`; `seq` (default: this
   * node's next for the partition) makes a retry of the same (session, seq) a duplicate.
   */
  enqueueContent(
    q: QueueRef, content: EnqueueContent, session: string, seq: number | undefined,
    done: (outcome: EnqueueOutcome, backlogged: boolean) => void,
    /** The entry was not committed here (leadership lost, group stopped): a caller that retries elsewhere wants to know; default: rejected. */
    failed?: (err: Error) => void,
  ): void {
    this.enqueueTo(this.enqueueTarget(q), content, session, seq, done, failed);
  }

  /**
   * The queue's partition and id, looked up once for several enqueues to it made in one go (a
   * frontend's batch): valid until the partition applies again, so only within one callback.
   */
  enqueueTarget(q: QueueRef): EnqueueTarget {
    const host = this.host(q);
    const t: ResolvedTarget = { name: q.name, host, id: host.machine.queueId(q.vhost, q.name) };
    return t;
  }

  /** enqueueContent() to a target from enqueueTarget() of this callback. */
  enqueueTo(
    t: EnqueueTarget, content: EnqueueContent, session: string, seq: number | undefined,
    done: (outcome: EnqueueOutcome, backlogged: boolean) => void, failed?: (err: Error) => void,
  ): void {
    const { host, id } = t as ResolvedTarget;
    if (id === undefined) {
      done('accepted', false); // deleted between routing and enqueue: RabbitMQ drops it too
      return;
    }
    const fields: Omit<EnqueueCmd, 'kind' | 'record'> = {
      queues: [id], exchange: content.exchange, routingKey: content.routingKey, header: content.header,
      body: content.body, priority: content.priority, expirationMs: content.expirationMs, session,
      seq: seq ?? host.nextEnqueueSeq(), nowMs: this.now(),
    };
    // Encoded once here: the log entry carries these bytes and the partition stores them as the record.
    const record = encodeEnqueue(fields);
    host.ask({ kind: 'enqueue', ...fields, record }, (r) => {
      if (r instanceof Error) {
        if (failed !== undefined) {
          failed(r);
          return;
        }
        this.opts.log.error({ err: r, queue: t.name }, 'enqueue not committed');
        done('rejected', false);
        return;
      }
      if (r.kind === 'enqueued' && r.outcomes[0] === 'accepted') host.remember(id, r.msgIds[0] as number, record);
      const outcome = r.kind === 'enqueued' && r.outcomes[0] === 'rejected' ? 'rejected' : 'accepted';
      done(outcome, host.machine.backlogged(id, FLOW_BACKLOG_MESSAGES));
    });
  }

  async consume(q: QueueRef, consumerId: string, opts: ConsumeOptions, sink: ConsumerSink, session = this.opts.session): Promise<void> {
    const { host, id } = this.located(q);
    const key = vhostNameKey(q.vhost, q.name);
    if (this.exclusiveConsumers.has(key) || (opts.exclusive && host.machine.consumerIds(id).length > 0)) {
      throw new AmqpError(ReplyCode.AccessRefused, `queue '${q.name}' in vhost '${q.vhost}' in exclusive use`, 60, 20);
    }
    const sinkKey = ownerId(session, consumerId);
    host.sinks.set(sinkKey, sink);
    if (opts.exclusive) this.exclusiveConsumers.set(key, sinkKey);
    if (this.autoDelete.has(key)) this.autoDelete.set(key, true);
    const r = await host.call({
      kind: 'checkout', queue: id, session, consumer: consumerId, prefetch: opts.prefetch,
      priority: opts.priority, noAck: opts.noAck, nowMs: this.now(),
    });
    if (r.kind === 'noQueue') {
      host.sinks.delete(sinkKey);
      if (this.exclusiveConsumers.get(key) === sinkKey) this.exclusiveConsumers.delete(key);
      throw new AmqpError(ReplyCode.NotFound, `no queue '${q.name}' in vhost '${q.vhost}'`);
    }
  }

  cancel(q: QueueRef, consumerId: string, session = this.opts.session): void {
    const host = this.host(q);
    const id = host.machine.queueId(q.vhost, q.name);
    const sinkKey = ownerId(session, consumerId);
    host.sinks.delete(sinkKey);
    const key = vhostNameKey(q.vhost, q.name);
    if (this.exclusiveConsumers.get(key) === sinkKey) this.exclusiveConsumers.delete(key);
    if (id === undefined) return;
    host.ask({ kind: 'cancel', queue: id, session, consumer: consumerId, nowMs: this.now() }, () => {
      // RabbitMQ's auto-delete: once the queue had a consumer, it goes with the last one.
      if (this.autoDelete.get(key) !== true || (host.machine.queue(id)?.consumerCount ?? 0) > 0) return;
      this.autoDelete.delete(key);
      this.expire(q);
    });
  }

  setFlow(q: QueueRef, consumerId: string, active: boolean, session = this.opts.session): void {
    const host = this.host(q);
    const id = host.machine.queueId(q.vhost, q.name);
    if (id !== undefined) host.ask({ kind: 'flow', queue: id, session, consumer: consumerId, active, nowMs: this.now() }, ignore);
  }

  /** `done` gets the error when the settlement was not committed here (a remote caller retries it at the new leader). */
  settle(q: QueueRef, consumerId: string, msgIds: readonly number[], how: Settlement, done?: (err?: Error) => void, session = this.opts.session): void {
    const host = this.host(q);
    const id = host.machine.queueId(q.vhost, q.name);
    if (id === undefined) {
      done?.();
      return;
    }
    const kind = how === 'ack' ? 'settle' : how === 'requeue' ? 'return' : 'discard';
    if (kind !== 'return') host.forget(id, msgIds);
    host.ask({ kind, queue: id, session, consumer: consumerId, msgIds, nowMs: this.now() }, (r) => done?.(r instanceof Error ? r : undefined));
  }

  async get(q: QueueRef, getterId: string, noAck: boolean, session = this.opts.session): Promise<GetResult | undefined> {
    const { host, id } = this.located(q);
    const r = await host.call({ kind: 'get', queue: id, session, consumer: getterId, noAck, nowMs: this.now() });
    if (r.kind === 'noQueue') throw new AmqpError(ReplyCode.NotFound, `no queue '${q.name}' in vhost '${q.vhost}'`);
    if (r.kind !== 'got') throw unexpected(r);
    const m = r.message;
    if (m === undefined) return undefined;
    const record = m.record ?? (host.app.store === undefined ? undefined : await readRecord(host.app.store, id, m.msgId));
    if (record === undefined) return undefined;
    return { delivery: { queue: q.name, msgId: m.msgId, message: messageOf(record), redelivered: m.redelivered }, messageCount: m.messageCount };
  }

  async purge(q: QueueRef): Promise<number> {
    const { host, id } = this.located(q);
    const r = await host.call({ kind: 'purge', queue: id, nowMs: this.now() });
    return r.kind === 'purged' ? r.messageCount : 0;
  }

  async deleteQueue(q: QueueRef, conditions?: DeleteConditions): Promise<number> {
    const host = this.host(q);
    const id = host.machine.queueId(q.vhost, q.name);
    if (id === undefined) return 0;
    const v = host.machine.queue(id);
    if (conditions?.ifUnused && v !== undefined && v.consumerCount > 0) {
      throw new AmqpError(ReplyCode.PreconditionFailed, `queue '${q.name}' in vhost '${q.vhost}' in use`);
    }
    if (conditions?.ifEmpty && v !== undefined && v.messageCount > 0) {
      throw new AmqpError(ReplyCode.PreconditionFailed, `queue '${q.name}' in vhost '${q.vhost}' not empty`);
    }
    this.exclusiveConsumers.delete(vhostNameKey(q.vhost, q.name));
    this.autoDelete.delete(vhostNameKey(q.vhost, q.name));
    const r = await host.call({ kind: 'delete', queue: id, nowMs: this.now() });
    return r.kind === 'deleted' ? r.messageCount : 0;
  }

  /** The owner removes a queue on its own (x-expires, auto-delete) and tells the metadata. */
  private expire(q: QueueRef): void {
    this.deleteQueue(q).then(() => this.opts.onQueueDeleted(q), (err: unknown) => {
      this.opts.log.error({ err, queue: q.name }, 'expiring a queue failed');
    });
  }

  /** Whether a partition hosts the queue (its metadata record may already be gone). */
  has(q: QueueRef): boolean {
    return this.host(q).machine.queueId(q.vhost, q.name) !== undefined;
  }

  stats(q: QueueRef): QueueStats | undefined {
    const host = this.host(q);
    const id = host.machine.queueId(q.vhost, q.name);
    const v = id === undefined ? undefined : host.machine.queue(id);
    return v === undefined ? undefined : { messages: v.messageCount, unacked: v.unackedCount, consumers: v.consumerCount, bytes: v.bytes };
  }

  *list(): IterableIterator<{ ref: QueueRef; stats: QueueStats }> {
    for (const h of this.hosts.values()) {
      for (const id of h.machine.queueIds()) {
        const v = h.machine.queue(id);
        if (v === undefined) continue;
        yield { ref: { vhost: v.vhost, name: v.name }, stats: { messages: v.messageCount, unacked: v.unackedCount, consumers: v.consumerCount, bytes: v.bytes } };
      }
    }
  }

  close(): void {
    for (const h of this.hosts.values()) h.stop();
  }

  // ---- read-only views for operators (disk and log observability) ------------------------------

  /** Where a durable queue lives: its partition and its id there. */
  placement(q: QueueRef): QueuePlacement | undefined {
    const partition = partitionOf(q, this.opts.partitions);
    const id = this.hosts.get(partition)?.machine.queueId(q.vhost, q.name);
    if (id === undefined) return undefined;
    return { partition, queueId: id };
  }

  /** Per partition hosted here (those `only` accepts, in order): the queues it hosts, their messages (ready + unacked) and body bytes. */
  partitionContents(only: (partition: number) => boolean = () => true): PartitionContents[] {
    return [...this.hosts].filter(([p]) => only(p)).sort((x, y) => x[0] - y[0]).map(([partition, h]) => {
      let queues = 0;
      let messages = 0;
      let bytes = 0;
      for (const id of h.machine.queueIds()) {
        const v = h.machine.queue(id);
        if (v === undefined) continue;
        queues++;
        messages += v.messageCount + v.unackedCount;
        bytes += v.bytes;
      }
      return { partition, queues, messages, bytes };
    });
  }
}

function ignore(): void {}

function unexpected(r: CommandResult): Error {
  return new Error(`partition: unexpected result ${r.kind}`);
}

/** A message as published, for its partition: the client's raw content header and body, routing, and what the queue needs of the properties. */
export interface EnqueueContent {
  readonly exchange: string;
  readonly routingKey: string;
  readonly header: Uint8Array;
  readonly body: Uint8Array;
  readonly priority: number | undefined;
  readonly expirationMs: number | undefined;
}

/** A queue resolved for enqueues (DurableOwner.enqueueTarget). */
export interface EnqueueTarget {
  readonly name: string;
}

interface ResolvedTarget extends EnqueueTarget {
  readonly host: PartitionHost;
  readonly id: number | undefined;
}

export interface QueuePlacement {
  readonly partition: number;
  readonly queueId: number;
}

export interface PartitionContents {
  readonly partition: number;
  readonly queues: number;
  /** Ready and unacked messages of its queues, and their body bytes. */
  readonly messages: number;
  readonly bytes: number;
}
