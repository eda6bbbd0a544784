// The leader-side owner of one replica incarnation in partition mode: carries out the effects the
// PartitionApp hands over while this replica leads, as src/owner/partition-host.ts does in the
// broker (which this mirrors, not imports: the host is tied to Node timers and the frontend):
//   deliver          read the record when not attached (readRecord), in order per consumer, and
//                    hand it to the simulated consumer; a delivery for a consumer the client no
//                    longer has is returned when the consumer was cancelled by the client
//   deadLetter       at least once, in seq order per source queue: read the record, build the copy
//                    (deadLetterMessage), enqueue it in the dead-letter queue with dedupe session
//                    deadLetterSession(partition, queue) and seq = effect.seq, then deadLettered;
//                    retried while this replica still leads
//   queueExpired     delete the queue
//   consumerCancelled tell the client
// and, while leading, proposes a tick when the machine's next deadline is due on its own clock.
import { decodeRecord, encodeBatch } from '../../../src/partition/codec.js';
import { deadLetterMessage, deadLetterSession } from '../../../src/partition/deadletter.js';
import { readRecord } from '../../../src/partition/read.js';
import { ProposalDroppedError } from '../../../src/raft/node/errors.js';
import type { PartitionResult } from '../../../src/partition/app.js';
import type {
  CommandResult, DeadLetterEffect, DeliverEffect, PartitionCommand, PartitionEffect,
} from '../../../src/partition/types.js';
import type { Replica } from '../replica.js';
import type { SimPartitionApp } from './papp.js';

/** What the owner needs from the world and the clients. */
export interface OwnerEnv {
  readonly group: number;
  /** This process's clock (virtual steps plus its skew). */
  clock(): number;
  kick(): void;
  fail(err: Error): void;
  log(line: string): void;
  /** A delivery reaches the client's consumer; false when the client has no such consumer. */
  deliver(e: DeliverEffect, body: string, from: string): 'taken' | 'cancelled' | 'unknown';
  consumerCancelled(session: string, consumer: string, queue: number): void;
  unroutedDeadLetter(queue: number, msgId: number): void;
  /** Runs `fn` after `steps` virtual steps. */
  after(steps: number, fn: () => void): void;
}

const dec = new TextDecoder();

export class SimOwner {
  private readonly incarnation: number;
  /** Bumped whenever this replica stops leading: work of an older generation stops. */
  private generation = 0;
  private deadLetters: Promise<void> = Promise.resolve();
  private readonly deliveries = new Map<string, Promise<void>>();
  private tickInFlight = false;
  app: SimPartitionApp | undefined;

  constructor(private readonly rep: Replica, private readonly env: OwnerEnv) {
    this.incarnation = rep.incarnation;
  }

  private get live(): boolean {
    return this.rep.incarnation === this.incarnation && this.app?.isLeader === true;
  }

  /** Proposes `cmds` as one entry through this replica's driver; the results, or an Error. */
  propose(cmds: PartitionCommand[]): Promise<PartitionResult | Error> {
    const driver = this.rep.driver;
    if (driver === null || this.rep.incarnation !== this.incarnation) return Promise.resolve(new Error('owner gone'));
    this.env.kick();
    return driver.propose<PartitionResult>(encodeBatch(cmds)).then((c) => c.result, (err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  }

  perform(effects: readonly PartitionEffect[]): void {
    const gen = this.generation;
    for (const e of effects) {
      switch (e.kind) {
        case 'deliver': this.deliver(e); break;
        case 'deadLetter': this.deadLetter(e, gen); break;
        case 'queueExpired': void this.propose([{ kind: 'delete', queue: e.queue, nowMs: this.env.clock() }]); break;
        case 'consumerCancelled': this.env.consumerCancelled(e.session, e.consumer, e.queue); break;
        case 'consumerActivated': break;
      }
    }
  }

  /** This replica stopped leading: pending dead-letter work is abandoned (the next leader redoes it). */
  demoted(): void {
    this.generation++;
    this.deadLetters = Promise.resolve();
  }

  /** As the broker's host: at once when the record is at hand and nothing is queued before it. */
  private deliver(e: DeliverEffect): void {
    const key = `${e.session}\0${e.consumer}`;
    const prev = this.deliveries.get(key);
    if (e.record !== undefined && prev === undefined) {
      this.hand(e, e.record);
      return;
    }
    const store = this.app?.store;
    const read = e.record !== undefined ? Promise.resolve(e.record) : store === undefined ? Promise.resolve(undefined) : readRecord(store, e.queue, e.msgId);
    this.env.kick();
    const next = (prev ?? Promise.resolve()).then(() => read).then((record) => this.hand(e, record),
      (err: unknown) => this.env.fail(err instanceof Error ? err : new Error(String(err))));
    this.deliveries.set(key, next);
    void next.then(() => {
      if (this.deliveries.get(key) === next) this.deliveries.delete(key);
    });
  }

  private hand(e: DeliverEffect, record: Uint8Array | undefined): void {
    if (record === undefined || this.rep.incarnation !== this.incarnation) return; // queue deleted, or the process died
    const body = dec.decode(recordBody(record));
    const taken = this.env.deliver(e, body, `n${this.rep.id}`);
    if (taken === 'cancelled' && !e.noAck) this.giveBack(e, this.generation);
  }

  /** Returns a refused delivery; a dropped return again while this replica still leads (as the broker's host does). */
  private giveBack(e: DeliverEffect, gen: number): void {
    void this.propose([{ kind: 'return', queue: e.queue, session: e.session, consumer: e.consumer, msgIds: [e.msgId], nowMs: this.env.clock() }])
      .then(async (r) => {
        if (!(r instanceof ProposalDroppedError)) return;
        await this.pause(5);
        if (this.live && this.generation === gen) this.giveBack(e, gen);
      });
  }

  private deadLetter(e: DeadLetterEffect, gen: number): void {
    this.deadLetters = this.deadLetters.then(() => this.carryOut(e, gen));
  }

  /** One dead-letter, retried until done or this replica stops leading. */
  private async carryOut(e: DeadLetterEffect, gen: number): Promise<void> {
    const store = this.app?.store;
    const record = e.record ?? (store === undefined ? undefined : await readRecord(store, e.queue, e.msgId));
    if (record === undefined) return; // the source queue was deleted meanwhile
    const copy = deadLetterMessage(record, e);
    const deaths = copy.message.properties.headers?.['x-death'];
    if (!Array.isArray(deaths) || deaths.length === 0) this.env.fail(new Error(`dead-letter copy of ${e.queue}:${e.msgId} has no x-death`));
    for (let attempt = 0; ; attempt++) {
      if (!this.live || this.generation !== gen) return;
      const target = this.app?.machine.queueId('/', 'dead');
      let copied = target === undefined;
      if (target === undefined) {
        this.env.unroutedDeadLetter(e.queue, e.msgId);
      } else {
        const r = await this.propose([{
          kind: 'enqueue', queues: [target], exchange: copy.exchange, routingKey: copy.routingKey,
          header: recordHeader(record), body: recordBody(record), session: deadLetterSession(this.env.group, e.queue),
          seq: e.seq, nowMs: this.env.clock(),
        }]);
        copied = !(r instanceof Error) && copiedOk(r[0]);
      }
      if (copied) {
        const done = await this.propose([{ kind: 'deadLettered', queue: e.queue, msgIds: [e.msgId], nowMs: this.env.clock() }]);
        if (!(done instanceof Error)) return;
      }
      await this.pause(5 + Math.min(attempt, 10) * 5);
    }
  }

  private pause(steps: number): Promise<void> {
    return new Promise((resolve) => this.env.after(steps, resolve));
  }

  /** Per step while this replica leads: a tick when a deadline is due on this process's clock. */
  step(): void {
    const app = this.app;
    if (app === undefined || !this.live || this.tickInFlight) return;
    const due = app.machine.nextDeadlineMs();
    if (due === undefined || due > this.env.clock()) return;
    this.tickInFlight = true;
    void this.propose([{ kind: 'tick', nowMs: this.env.clock() }]).then(() => {
      this.tickInFlight = false;
    });
  }
}

/** Copies of a queue enqueued: accepted, a duplicate of an earlier attempt, or the queue is gone. */
function copiedOk(r: CommandResult | undefined): boolean {
  return r !== undefined && (r.kind === 'duplicate' || (r.kind === 'enqueued' && r.outcomes[0] !== 'rejected'));
}

function recordBody(record: Uint8Array): Uint8Array {
  return decodeRecord(record).body;
}

function recordHeader(record: Uint8Array): Uint8Array {
  return decodeRecord(record).header;
}
