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
  PartitionApp, PartitionMachine, deadLetterMessage, encodeBatch, readRecord, storedMessage,
} from '../partition/index.js';
import type {
  CommandResult, DeadLetterEffect, DeliverEffect, PartitionCommand, PartitionEffect, PartitionResult,
} from '../partition/index.js';
import { publishedRoutingKeys } from '../queue/deadletter.js';
import type { AppReader, RecoverInfo } from '../raft/node/app.js';
import type { GroupDriver } from '../raft/node/group.js';
import type { ConsumerSink, Message } from './api.js';
import { DeadlineTimer } from './deadline.js';

/** Bound on the leader's cache of recently enqueued records (PartitionHost.recent). */
const RECENT_RECORDS_MAX_BYTES = 32 * 1024 * 1024;

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

export class PartitionHost {
  readonly machine = new PartitionMachine();
  readonly app: HostedApp;
  /** Consumer sinks by "<session>\0<consumer>", for this node's consumers. */
  readonly sinks = new Map<string, ConsumerSink>();
  private driver: GroupDriver | undefined;
  private pending: PartitionCommand[] = [];
  private waiters: Waiter[] = [];
  private flushScheduled = false;
  /** Sequence numbers of this session's enqueues (deduplication of retried proposals). */
  private enqueueSeq = 0;
  private readonly deadline: DeadlineTimer;
  /** Per consumer: deliveries whose record is being read, so a consumer gets its messages in order. */
  private readonly chains = new Map<string, Promise<void>>();
  private stopped = false;
  /**
   * Records of messages this leader enqueued, by "queue:msgId", kept until they are settled or the
   * cache is full (oldest first out): a delivery to a consumer that was at its prefetch limit then
   * needs no store read. Bounded, so memory still holds indexes, not a queue's backlog.
   */
  private readonly recent = new Map<string, Uint8Array>();
  private recentBytes = 0;

  constructor(private readonly deps: PartitionHostDeps) {
    this.app = new HostedApp(this.machine, (effects) => this.perform(effects));
    this.deadline = new DeadlineTimer(deps.now, () => this.ask({ kind: 'tick', nowMs: deps.now() }, ignore));
  }

  attach(driver: GroupDriver): void {
    this.driver = driver;
    this.schedule();
  }

  nextEnqueueSeq(): number {
    return ++this.enqueueSeq;
  }

  /** A record this node proposed, now stored as (queue, msgId). */
  remember(queue: number, msgId: number, record: Uint8Array): void {
    const key = `${queue}:${msgId}`;
    if (this.recent.has(key)) return;
    this.recent.set(key, record);
    this.recentBytes += record.byteLength;
    while (this.recentBytes > RECENT_RECORDS_MAX_BYTES) {
      const oldest = this.recent.entries().next().value as [string, Uint8Array] | undefined;
      if (oldest === undefined) break;
      this.recent.delete(oldest[0]);
      this.recentBytes -= oldest[1].byteLength;
    }
  }

  /** The messages were settled: their records are not needed for deliveries any more. */
  forget(queue: number, msgIds: readonly number[]): void {
    if (this.recent.size === 0) return;
    for (const msgId of msgIds) {
      const key = `${queue}:${msgId}`;
      const r = this.recent.get(key);
      if (r === undefined) continue;
      this.recent.delete(key);
      this.recentBytes -= r.byteLength;
    }
  }

  /** Proposes `cmd` (batched with the turn's other commands); `done` gets its result once applied. */
  ask(cmd: PartitionCommand, done: Waiter): void {
    this.pending.push(cmd);
    this.waiters.push(done);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** ask() as a promise; rejects when the group could not commit it. */
  call(cmd: PartitionCommand): Promise<CommandResult> {
    return new Promise((resolve, reject) => this.ask(cmd, (r) => (r instanceof Error ? reject(r) : resolve(r))));
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
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
    for (const e of effects) {
      try {
        switch (e.kind) {
          case 'deliver': this.deliver(e); break;
          case 'deadLetter': this.deadLetter(e); break;
          case 'consumerCancelled': {
            const key = `${e.session}\0${e.consumer}`;
            const sink = this.sinks.get(key);
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
    this.schedule();
  }

  private deliver(e: DeliverEffect): void {
    const key = `${e.session}\0${e.consumer}`;
    const sink = this.sinks.get(key);
    if (sink === undefined) {
      // Cancelled here while the delivery was being decided: it goes back (a consumer of another
      // session is cleaned up by its session going down).
      if (!e.noAck && e.session === this.deps.session) {
        this.giveBack(e);
      }
      return;
    }
    const name = this.machine.queue(e.queue)?.name ?? '';
    const send = (record: Uint8Array | undefined): void => {
      if (record === undefined) return; // the queue was deleted meanwhile
      if (this.sinks.get(key) !== sink) {
        if (!e.noAck) this.giveBack(e);
        return;
      }
      sink.deliver({ queue: name, msgId: e.msgId, message: messageOf(record), redelivered: e.redelivered });
    };
    const chain = this.chains.get(key);
    const atHand = e.record ?? this.recent.get(`${e.queue}:${e.msgId}`);
    if (atHand !== undefined && chain === undefined) {
      send(atHand);
      return;
    }
    const store = this.app.store;
    const read = atHand !== undefined ? Promise.resolve(atHand) : store === undefined ? Promise.resolve(undefined) : readRecord(store, e.queue, e.msgId);
    const next = (chain ?? Promise.resolve()).then(() => read).then(send, (err: unknown) => {
      this.deps.log.error({ err, partition: this.deps.id }, 'reading a message record failed');
    });
    this.chains.set(key, next);
    void next.then(() => { if (this.chains.get(key) === next) this.chains.delete(key); });
  }

  /** A delivery that cannot reach its consumer goes back to the queue (redelivered). */
  private giveBack(e: DeliverEffect): void {
    this.ask({ kind: 'return', queue: e.queue, session: e.session, consumer: e.consumer, msgIds: [e.msgId], nowMs: this.deps.now() }, ignore);
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

