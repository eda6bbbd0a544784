// One partition on this node: its Raft group, the commands proposed to it (batched: everything
// asked for in one event-loop turn is one log entry), and, while this replica leads, the effects
// of what it applied — deliveries to consumer sinks, dead-lettering, cancellations, expiry — and
// the timer that proposes ticks (time enters the partition only as the leader's nowMs).
//
// Contract with callers: a command's callback runs once the entry holding it is committed (in a
// majority's fsynced log) and applied here, with that command's result; commands of one partition
// are applied in the order they were asked for.
import type { Logger } from '../log.js';
import {
  PartitionApp, PartitionMachine, deadLetterMessage, encodeBatch, ownerId, readRecord, readRecords, storedMessage,
} from '../partition/index.js';
import type {
  CommandResult, DeadLetterEffect, DeliverEffect, PartitionCommand, PartitionEffect, PartitionResult,
} from '../partition/index.js';
import { publishedRoutingKeys } from '../queue/deadletter.js';
import type { AppReader, RecoverInfo } from '../raft/node/app.js';
import { ProposalDroppedError } from '../raft/node/errors.js';
import type { GroupDriver } from '../raft/node/group.js';
import type { ConsumerSink, Message } from './api.js';
import { DeadlineTimer } from './deadline.js';
import { RecentRecords } from './recent-records.js';
import { Turn } from './turn.js';

export interface PartitionHostDeps {
  /** The partition number (its Raft group id). */
  readonly id: number;
  /** This node's session: owner of the consumers it registers and of its enqueues' sequence numbers. */
  readonly session: string;
  readonly now: () => number;
  readonly log: Logger;
  /** Publishes a dead-lettered copy to `exchange` with `routingKeys`; `done` once every target accepted it. */
  readonly deadLetter: (vhost: string, exchange: string, routingKeys: readonly string[], message: Message, done: () => void) => void;
  /** x-expires fired for a queue of this partition. */
  readonly expired: (vhost: string, name: string) => void;
  /** Shared by the node's partitions: the end of the turn, when asked-for commands are proposed. */
  readonly turn?: Turn;
  /** Shared by the node's partitions: records enqueued here, for deliveries without a store read. */
  readonly recent?: RecentRecords;
  /**
   * The sink of a consumer of another node's session (a frontend reached over gRPC) that has no
   * sink registered here: after a leader change the new leader delivers to the consumers the
   * replicated state names, through the session's stream on this node.
   */
  readonly remoteSink?: (session: string, consumer: string) => ConsumerSink | undefined;
}

/** The group application, keeping the store the driver hands it (records are read from it). */
class HostedApp extends PartitionApp {
  store: AppReader | undefined;
  override recover(info: RecoverInfo): Promise<void> {
    this.store = info.store;
    return super.recover(info);
  }
}

type Waiter = (r: CommandResult | Error) => void;

/** How long a refused delivery's dropped return waits before it is proposed again. */
const GIVE_BACK_RETRY_MS = 100;

/** A delivery being carried out: its consumer's sink when it was decided, and its record once known. */
interface Pending {
  readonly e: DeliverEffect;
  readonly key: string;
  readonly sink: ConsumerSink | undefined;
  /** The term this replica led when it decided the delivery. */
  readonly term: number;
  record: Uint8Array | undefined;
}

export class PartitionHost {
  readonly machine = new PartitionMachine();
  readonly app: HostedApp;
  /** Consumer sinks by ownerId(session, consumer), for this node's consumers. */
  readonly sinks = new Map<string, ConsumerSink>();
  private driver: GroupDriver | undefined;
  private pending: PartitionCommand[] = [];
  private waiters: Waiter[] = [];
  /** Sequence numbers of this session's enqueues (deduplication of retried proposals). */
  private enqueueSeq = 0;
  private readonly deadline: DeadlineTimer;
  /** Deliveries whose records are being read: later deliveries wait for them (consumers get their messages in order). */
  private reading: Promise<void> | undefined;
  private stopped = false;
  /** Records of messages this leader enqueued (recent-records.ts), shared with the node's other partitions. */
  private readonly recent: RecentRecords;
  private readonly turn: Turn;

  constructor(private readonly deps: PartitionHostDeps) {
    this.app = new HostedApp(this.machine, (effects) => this.perform(effects));
    this.turn = deps.turn ?? new Turn();
    this.recent = deps.recent ?? new RecentRecords();
    this.deadline = new DeadlineTimer(deps.now, () => this.ask({ kind: 'tick', nowMs: deps.now() }, ignore));
  }

  attach(driver: GroupDriver): void {
    this.driver = driver;
    this.schedule();
  }

  /** Whether this replica leads its group (proposes, and carries out the effects). */
  leads(): boolean {
    return this.driver?.isLeader() ?? false;
  }

  /** Leads, and its state holds everything committed before its term (PartitionApp.serving). */
  serving(): boolean {
    return this.leads() && this.app.serving;
  }

  /** The term this replica is in, as last made durable (0 before the group opened). */
  term(): number {
    return this.driver?.roleInfo().term ?? 0;
  }

  /** The leader's Raft id as this replica knows it (0: none). */
  leader(): number {
    return this.driver?.leader() ?? 0;
  }

  /** The consumer's sink on this node: registered here, or its session's stream. */
  private sinkOf(key: string, session: string, consumer: string): ConsumerSink | undefined {
    return this.sinks.get(key) ?? (session === this.deps.session ? undefined : this.deps.remoteSink?.(session, consumer));
  }

  nextEnqueueSeq(): number {
    return ++this.enqueueSeq;
  }

  /** A record this node proposed, now stored as (queue, msgId). */
  remember(queue: number, msgId: number, record: Uint8Array): void {
    this.recent.remember(this.deps.id, queue, msgId, record);
  }

  /** The messages were settled: their records are not needed for deliveries any more. */
  forget(queue: number, msgIds: readonly number[]): void {
    this.recent.forget(this.deps.id, queue, msgIds);
  }

  /** Proposes `cmd` (batched with the turn's other commands); `done` gets its result once applied. */
  ask(cmd: PartitionCommand, done: Waiter): void {
    this.pending.push(cmd);
    this.waiters.push(done);
    this.turn.add(this.flush);
  }

  /** ask() as a promise; rejects when the group could not commit it. */
  call(cmd: PartitionCommand): Promise<CommandResult> {
    return new Promise((resolve, reject) => this.ask(cmd, (r) => (r instanceof Error ? reject(r) : resolve(r))));
  }

  private readonly flush = (): void => {
    const cmds = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    if (cmds.length === 0) return;
    const driver = this.driver;
    if (driver === undefined || this.stopped) {
      const err = new Error(`partition ${this.deps.id} is not open`);
      for (const w of waiters) w(err);
      return;
    }
    driver.propose<PartitionResult>(encodeBatch(cmds)).then(({ result }) => {
      for (let i = 0; i < waiters.length; i++) (waiters[i] as Waiter)(result[i] ?? { kind: 'ok' });
      this.schedule();
    }, (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      for (const w of waiters) w(e);
    });
  };

  stop(): void {
    this.stopped = true;
    this.deadline.cancel();
  }

  // ---- leader effects ---------------------------------------------------------------------------

  private perform(effects: readonly PartitionEffect[]): void {
    const deliveries: Pending[] = [];
    const term = this.term(); // every effect of one call was decided in this term
    for (const e of effects) {
      try {
        switch (e.kind) {
          case 'deliver': {
            const key = ownerId(e.session, e.consumer);
            deliveries.push({
              e, key, sink: this.sinkOf(key, e.session, e.consumer), term, record: e.record ?? this.recent.get(this.deps.id, e.queue, e.msgId),
            });
            break;
          }
          case 'deadLetter': this.deadLetter(e); break;
          case 'consumerCancelled': {
            const key = ownerId(e.session, e.consumer);
            const sink = this.sinkOf(key, e.session, e.consumer);
            this.sinks.delete(key);
            sink?.cancelled();
            break;
          }
          case 'queueExpired': this.deps.expired(e.vhost, e.name); break;
          case 'consumerActivated': break;
        }
      } catch (err) {
        this.deps.log.error({ err, partition: this.deps.id, effect: e.kind }, 'partition effect failed');
      }
    }
    if (deliveries.length > 0) this.deliver(deliveries);
    this.schedule();
  }

  /**
   * Hands deliveries to their consumers, in order: records at hand go at once, the others are read
   * in one read, and deliveries after a read wait for it.
   */
  private deliver(list: Pending[]): void {
    const missing = list.filter((p) => p.record === undefined);
    if (missing.length === 0 && this.reading === undefined) {
      for (const p of list) this.send(p);
      return;
    }
    const store = this.app.store;
    const read = missing.length === 0 || store === undefined ? Promise.resolve([]) : readRecords(store, missing.map((p) => p.e));
    const next = (this.reading ?? Promise.resolve()).then(() => read).then((records) => {
      missing.forEach((p, i) => { p.record = records[i]; });
      for (const p of list) this.send(p);
    }, (err: unknown) => {
      this.deps.log.error({ err, partition: this.deps.id }, 'reading message records failed');
    });
    this.reading = next;
    void next.then(() => { if (this.reading === next) this.reading = undefined; });
  }

  private send(p: Pending): void {
    const { e, sink } = p;
    if (sink === undefined || this.sinkOf(p.key, e.session, e.consumer) !== sink) {
      // Cancelled while the delivery was being decided or read: it goes back (a consumer of another
      // session is cleaned up by its session going down).
      if (!e.noAck && (sink !== undefined || e.session === this.deps.session)) this.giveBack(e);
      return;
    }
    if (p.record === undefined) return; // the queue was deleted meanwhile
    const name = this.machine.queue(e.queue)?.name ?? '';
    try {
      sink.deliver({ queue: name, msgId: e.msgId, message: messageOf(p.record), redelivered: e.redelivered, term: p.term });
    } catch (err) {
      this.deps.log.error({ err, partition: this.deps.id }, 'delivery failed');
      if (!e.noAck) this.giveBack(e);
    }
  }

  /**
   * A delivery that cannot reach its consumer goes back to the queue (redelivered). A return the
   * group dropped (a leadership transfer in progress refuses proposals) is proposed again while
   * this replica leads in the term it was asked in: else the message would stay checked out to a
   * consumer that never gets it, for as long as its session lives. Not after a timeout (the entry
   * may still commit), nor in a later term: a new leader decides again (resumeEffects re-issues it).
   * Returning twice is harmless: a return only checks in what is checked out to that consumer.
   */
  private giveBack(e: DeliverEffect, term = this.term()): void {
    this.ask({ kind: 'return', queue: e.queue, session: e.session, consumer: e.consumer, msgIds: [e.msgId], nowMs: this.deps.now() }, (r) => {
      if (!(r instanceof ProposalDroppedError)) return;
      setTimeout(() => {
        if (!this.stopped && this.leads() && this.term() === term) this.giveBack(e, term);
      }, GIVE_BACK_RETRY_MS).unref();
    });
  }

  /** At least once: the source forgets the message only after its copies were accepted by their targets. */
  private deadLetter(e: DeadLetterEffect): void {
    const store = this.app.store;
    const read = e.record !== undefined ? Promise.resolve(e.record) : store === undefined ? Promise.resolve(undefined) : readRecord(store, e.queue, e.msgId);
    void read.then((record) => {
      const forget = (): void => {
        this.ask({ kind: 'deadLettered', queue: e.queue, msgIds: [e.msgId], nowMs: this.deps.now() }, ignore);
      };
      if (record === undefined) return;
      const d = deadLetterMessage(record, e);
      const message: Message = d.message;
      const keys = e.routingKey === undefined ? publishedRoutingKeys(message) : [d.routingKey];
      this.deps.deadLetter(e.vhost, d.exchange, keys, message, forget);
    });
  }

  /** Keeps one timer armed for the machine's next deadline (TTL, x-expires): a tick proposed at that time. */
  private schedule(): void {
    if (this.stopped || !this.app.isLeader) return;
    this.deadline.arm(this.machine.nextDeadlineMs());
  }
}

function ignore(): void {}

/** A stored record as the frontend's Message: the raw header kept for byte-exact delivery. */
export const messageOf: (record: Uint8Array) => Message = storedMessage;

