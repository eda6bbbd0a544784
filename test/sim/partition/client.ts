// The simulated clients of one partition group (partition mode): what frontends would propose.
//   publishers  sessions publishing with confirms: enqueues with (session, seq), batched per step
//               into one entry, retried (same seq) whenever an attempt failed or the leader (node,
//               term) changed — then every unconfirmed seq is re-proposed, in order, before new
//               ones, so seq n + 1 never commits before seq n (docs/partitions.md "Deduplication")
//   consumers   checkouts with prefetch; deliveries from the leader's owner are held and settled
//               later (mostly acked, some returned or discarded); a delivery of a message the
//               consumer holds or is settling, with the same delivery count, is a new leader's
//               re-issue of one it already has, and dropped (a higher count is a redelivery
//               after a return, a new delivery)
//   admin       declares (TTL, max-length, overflow, delivery limit, DLX, x-expires), purge,
//               delete + redeclare, basic.get, cancel, sessionDown, ticks with the leader's clock
// Everything is proposed to the replica that leads (by the world's view), through its driver.
import { encodeTable, type FieldTable } from '../../../src/amqp/table.js';
import { encodeBatch } from '../../../src/partition/codec.js';
import type { PartitionResult } from '../../../src/partition/app.js';
import type { CommandResult, DeliverEffect, EnqueueCmd, PartitionCommand } from '../../../src/partition/types.js';
import type { Replica } from '../replica.js';

export interface QueueSpec { readonly name: string; readonly args: FieldTable }

export const QUEUES: readonly QueueSpec[] = [
  { name: 'plain', args: {} },
  { name: 'ttl', args: { 'x-message-ttl': 60, 'x-dead-letter-exchange': 'dlx' } },
  { name: 'maxlen', args: { 'x-max-length': 4, 'x-dead-letter-exchange': 'dlx' } },
  { name: 'reject', args: { 'x-max-length': 3, 'x-overflow': 'reject-publish' } },
  { name: 'limit', args: { 'x-delivery-limit': 1, 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'dead' } },
  { name: 'temp', args: { 'x-max-length-bytes': 120 } },
  { name: 'exp', args: { 'x-expires': 300 } },
  { name: 'dead', args: {} },
];
/** Entries a client may have unanswered. */
const WINDOW = 3;

/** What the clients do. The default is the random workload; scenario tests use narrow ones. */
export interface ClientProfile {
  readonly queues: readonly QueueSpec[];
  /** Where publishes go (picked at random, duplicates weigh). */
  readonly targets: readonly string[];
  /** Consumers kept registered: queue, prefetch, noAck. */
  readonly consumers: readonly (readonly [string, number, boolean])[];
  /** Purges, deletes, gets, cancels, session drops, ticks, redeclares. */
  readonly admin: boolean;
  /** Share of settlements that are returns and discards (the rest are acks). */
  readonly nackShare: number;
  /** Chance per step that a publisher publishes (1-3 messages); its unconfirmed limit. */
  readonly publishRate: number;
  readonly maxUnconfirmed: number;
  /** Chance per step that a consumer settles some of what it holds. */
  readonly settleRate: number;
  /** Chance per step that the client skips its turn (besides a full window). */
  readonly idleRate: number;
  /** Share of publishes with a per-message TTL (expiration). */
  readonly messageTtlShare: number;
  /** Consumers cancel when the clients wind down (else they keep consuming until queues drain). */
  readonly cancelWhenDone: boolean;
}

export const RANDOM_PROFILE: ClientProfile = {
  queues: QUEUES,
  targets: ['plain', 'plain', 'ttl', 'maxlen', 'reject', 'limit', 'temp', 'exp'],
  consumers: [['plain', 5, false], ['ttl', 2, false], ['maxlen', 1, false], ['limit', 3, false], ['temp', 0, false], ['dead', 10, false], ['plain', 0, true]],
  admin: true,
  nackShare: 0.25,
  publishRate: 0.4,
  maxUnconfirmed: 16,
  settleRate: 0.25,
  idleRate: 0.4,
  messageTtlShare: 0.1,
  cancelWhenDone: true,
};

export interface ClientEnv {
  readonly group: number;
  rand(): number;
  /** The replica to propose to: the leader the world sees (highest term), if any. */
  target(): Replica | undefined;
  /** Process `id`'s clock. */
  clock(id: number): number;
  kick(): void;
  log(line: string): void;
}

type Done = (r: CommandResult | Error) => void;

export interface Consumer {
  readonly session: string;
  readonly tag: string;
  readonly queueName: string;
  queue: number;
  readonly prefetch: number;
  readonly noAck: boolean;
  /** A getter holds basic.get messages; it is no consumer of the queue. */
  readonly getter: boolean;
  state: 'registering' | 'active' | 'cancelling' | 'cancelled' | 'gone';
  readonly held: Map<number, { redelivered: boolean; deliveryCount: number }>;
  /** msgId → the delivery count of the delivery being settled. */
  readonly settling: Map<number, number>;
  readonly acked: Set<number>;
  /**
   * Messages whose return had an unknown outcome (the attempt failed, the entry may still have
   * committed). Settles name msgIds, not deliveries: a later ack of such a message may settle the
   * redelivery that committed return made, while that redelivery is still on its way here. Its
   * arrival after the ack's answer is then no lost ack.
   */
  readonly maybeReturned: Set<number>;
}

interface Publish { readonly seq: number; readonly cmd: EnqueueCmd }

export interface Publisher {
  readonly session: string;
  nextSeq: number;
  readonly unconfirmed: Map<number, Publish>;
  /** seq → the result that confirmed it ('enqueued' with outcomes, or 'duplicate'). */
  readonly confirmed: Map<number, CommandResult>;
  /** An attempt failed since the last full re-proposal, or the target changed. */
  retry: boolean;
  target: string;
}

export interface ClientStats {
  published: number;
  attempts: number;
  confirmed: number;
  delivered: number;
  duplicateDeliveries: number;
  deliveredAfterAck: number;
  acks: number;
  returns: number;
  discards: number;
}

export class PartitionClient {
  readonly queueIds = new Map<string, number>();
  private readonly declaring = new Set<string>();
  readonly publishers: Publisher[];
  readonly consumers = new Map<string, Consumer>();
  /** Sessions whose sessionDown is not committed yet. */
  readonly pendingDowns = new Set<string>();
  private nextSession = 1;
  private nextTag = 1;
  readonly stats: ClientStats = {
    published: 0, attempts: 0, confirmed: 0, delivered: 0, duplicateDeliveries: 0, deliveredAfterAck: 0, acks: 0, returns: 0, discards: 0,
  };
  readonly problems: string[] = [];
  /** Sees every delivery a consumer takes (scenario tests). */
  onDelivery: ((c: Consumer, e: DeliverEffect) => void) | undefined;

  constructor(private readonly env: ClientEnv, readonly profile: ClientProfile = RANDOM_PROFILE) {
    this.publishers = [0, 1].map((i) => ({
      session: `g${env.group}.pub${i}`, nextSeq: 1, unconfirmed: new Map(), confirmed: new Map(), retry: false, target: '',
    }));
  }

  /** Every session whose dedupe entry the machine may hold. */
  sessions(): string[] {
    return this.publishers.map((p) => p.session);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.env.rand() * xs.length)]!;
  }

  /** Commands asked for since the last flush: one entry per step, as a frontend batches a turn. */
  private turn: { cmd: PartitionCommand; done: Done }[] = [];
  /** Entries proposed and not answered yet (the client's window). */
  private inFlight = 0;

  /** Where this step's entry goes, as "node/incarnation/term" (publishers retry when it changes). */
  private targetKey(rep: Replica | undefined): string {
    return rep === undefined ? '' : `${rep.id}/${rep.incarnation}/${rep.node?.basicStatus().term ?? 0}`;
  }

  /** Proposes this turn's commands as one entry to `rep`; each callback gets its command's result. */
  private flush(rep: Replica | undefined): void {
    const turn = this.turn;
    this.turn = [];
    if (turn.length === 0) return;
    const driver = rep?.driver;
    if (rep === undefined || driver === null || driver === undefined) {
      for (const t of turn) t.done(new Error('no replica'));
      return;
    }
    this.env.kick();
    this.inFlight++;
    const nowMs = this.env.clock(rep.id);
    const cmds = turn.map((t) => (t.cmd.kind === 'enqueue' ? t.cmd : { ...t.cmd, nowMs }));
    driver.propose<PartitionResult>(encodeBatch(cmds)).then((c) => {
      this.inFlight--;
      turn.forEach((t, i) => t.done(c.result[i] ?? new Error('no result')));
    }, (err: unknown) => {
      this.inFlight--;
      const e = err instanceof Error ? err : new Error(String(err));
      for (const t of turn) t.done(e);
    });
  }

  private ask(cmd: PartitionCommand, done: Done): void {
    this.turn.push({ cmd, done });
  }

  // ---- one step -------------------------------------------------------------------------------

  step(active: boolean): void {
    // Flow control: a frontend with this many entries unanswered waits (and so do its retries).
    if (this.inFlight >= WINDOW || this.env.rand() < this.profile.idleRate) return;
    const rep = this.env.target();
    if (rep === undefined) return; // no leader known: a frontend waits for one
    const target = this.targetKey(rep);
    this.declareMissing(active);
    for (const p of this.publishers) this.publish(p, active, target);
    for (const c of this.consumers.values()) this.settleSome(c, active);
    // Winding down: consumers stop (basic.cancel) and ack what they hold, so the work is bounded.
    if (!active && this.profile.cancelWhenDone) for (const c of this.live()) this.cancel(c);
    for (const s of this.pendingDowns) this.sessionDown(s);
    if (active) {
      this.ensureConsumers();
      if (this.profile.admin) this.admin();
    }
    this.flush(rep);
  }

  private admin(): void {
    const r = this.env.rand();
    if (r < 0.004) this.cancelOne();
    else if (r < 0.007) this.dropSession();
    else if (r < 0.011) this.purge(this.pick(['plain', 'ttl', 'dead', 'temp']));
    else if (r < 0.014) this.deleteQueue('temp');
    else if (r < 0.024) this.get(this.pick(['plain', 'reject', 'exp']));
    else if (r < 0.04) this.ask({ kind: 'tick', nowMs: 0 }, () => undefined);
    else if (r < 0.046) this.redeclare('exp');
  }

  private declareMissing(active: boolean): void {
    for (const q of this.profile.queues) {
      if (this.queueIds.has(q.name) || this.declaring.has(q.name)) continue;
      if (!active && q.name !== 'dead' && this.profile.admin) continue;
      this.redeclare(q.name);
    }
  }

  private redeclare(name: string): void {
    const spec = this.profile.queues.find((q) => q.name === name)!;
    if (this.declaring.has(name)) return;
    this.declaring.add(name);
    const args = Object.keys(spec.args).length === 0 ? new Uint8Array(0) : encodeTable(spec.args);
    this.ask({ kind: 'declare', vhost: '/', name, arguments: args, nowMs: 0 }, (r) => {
      this.declaring.delete(name);
      if (r instanceof Error) return;
      if (r.kind !== 'declared') {
        this.problems.push(`declare ${name}: ${JSON.stringify(r)}`);
        return;
      }
      this.queueIds.set(name, r.queue);
    });
  }

  // ---- publishing -------------------------------------------------------------------------------

  private publish(p: Publisher, active: boolean, target: string): void {
    const fresh: Publish[] = [];
    if (active && p.unconfirmed.size < this.profile.maxUnconfirmed && this.env.rand() < this.profile.publishRate) {
      const n = 1 + Math.floor(this.env.rand() * 3);
      for (let i = 0; i < n; i++) {
        const m = this.newPublish(p);
        if (m !== undefined) fresh.push(m);
      }
    }
    const resend = (p.retry || target !== p.target) && p.unconfirmed.size > 0;
    const batch = resend ? [...p.unconfirmed.values()].sort((a, b) => a.seq - b.seq) : [];
    for (const m of fresh) p.unconfirmed.set(m.seq, m);
    batch.push(...fresh);
    if (batch.length === 0) return;
    p.retry = false;
    p.target = target;
    this.stats.attempts += batch.length;
    for (const m of batch) this.ask(m.cmd, (r) => this.confirmed(p, m, r));
  }

  private newPublish(p: Publisher): Publish | undefined {
    const t = this.profile.targets;
    const names = this.env.rand() < 0.2 ? [this.pick(t), this.pick(t)] : [this.pick(t)];
    const queues = [...new Set(names.map((n) => this.queueIds.get(n)).filter((q): q is number => q !== undefined))];
    if (queues.length === 0) return undefined;
    const seq = p.nextSeq++;
    const rep = this.env.target();
    const body = `${p.session}/${seq}/${'x'.repeat(Math.floor(this.env.rand() * 40))}`;
    const ttl = this.env.rand() < this.profile.messageTtlShare ? 20 + Math.floor(this.env.rand() * 150) : undefined;
    this.stats.published++;
    return {
      seq,
      cmd: {
        kind: 'enqueue', queues, exchange: 'amq.direct', routingKey: names[0]!, header: HEADER, body: new TextEncoder().encode(body),
        session: p.session, seq, expirationMs: ttl, nowMs: rep === undefined ? 0 : this.env.clock(rep.id),
      },
    };
  }

  private confirmed(p: Publisher, m: Publish, r: CommandResult | Error): void {
    if (r instanceof Error) {
      if (p.unconfirmed.has(m.seq)) p.retry = true;
      return;
    }
    if (r.kind !== 'enqueued' && r.kind !== 'duplicate') {
      this.problems.push(`enqueue ${p.session}/${m.seq} answered ${JSON.stringify(r)}`);
      return;
    }
    if (r.kind === 'enqueued') r.outcomes.forEach((o, i) => { if (o === 'noQueue') this.forget(m.cmd.queues[i]!); });
    if (!p.unconfirmed.delete(m.seq)) return; // an older attempt answering late
    p.confirmed.set(m.seq, r);
    this.stats.confirmed++;
  }

  // ---- consumers --------------------------------------------------------------------------------

  private ensureConsumers(): void {
    for (const [name, prefetch, noAck] of this.profile.consumers) {
      const queue = this.queueIds.get(name);
      if (queue === undefined) continue;
      const has = [...this.consumers.values()].some((c) => c.queueName === name && c.noAck === noAck && !c.getter && (c.state === 'active' || c.state === 'registering'));
      if (!has && this.env.rand() < 0.1) this.checkout(name, queue, prefetch, noAck);
    }
  }

  private newConsumer(queueName: string, queue: number, prefetch: number, noAck: boolean, getter: boolean): Consumer {
    const c: Consumer = {
      session: `g${this.env.group}.s${this.nextSession++}`, tag: `${getter ? 'get' : 'ctag'}${this.nextTag++}`, queueName, queue, prefetch,
      noAck, getter, state: getter ? 'active' : 'registering', held: new Map(), settling: new Map(), acked: new Set(), maybeReturned: new Set(),
    };
    this.consumers.set(`${c.session}\0${c.tag}`, c);
    return c;
  }

  private checkout(name: string, queue: number, prefetch: number, noAck: boolean): void {
    const c = this.newConsumer(name, queue, prefetch, noAck, false);
    const attempt = (): void => {
      if (c.state !== 'registering') return;
      this.ask({ kind: 'checkout', queue, session: c.session, consumer: c.tag, prefetch, priority: 0, noAck, nowMs: 0 }, (r) => {
        if (r instanceof Error) {
          attempt();
          return;
        }
        if (c.state === 'registering') c.state = r.kind === 'ok' ? 'active' : 'cancelled';
      });
    };
    attempt();
  }

  /** A delivery from the leader's owner. */
  deliver(e: DeliverEffect, body: string): 'taken' | 'cancelled' | 'unknown' {
    const c = this.consumers.get(`${e.session}\0${e.consumer}`);
    if (c === undefined || c.state === 'gone' || c.queue !== e.queue) return 'unknown';
    if (!body.startsWith('g')) this.problems.push(`delivery ${e.queue}:${e.msgId} has a foreign body ${body.slice(0, 20)}`);
    if (c.held.get(e.msgId)?.deliveryCount === e.deliveryCount || c.settling.get(e.msgId) === e.deliveryCount) {
      this.stats.duplicateDeliveries++;
      return 'taken';
    }
    if (c.acked.has(e.msgId) && !c.maybeReturned.has(e.msgId)) {
      this.stats.deliveredAfterAck++;
      this.problems.push(`${c.session}/${c.tag} got ${e.queue}:${e.msgId} (redelivered=${e.redelivered}) again after acking it`);
    }
    if (c.state === 'cancelling' || c.state === 'cancelled') return 'cancelled';
    this.stats.delivered++;
    this.onDelivery?.(c, e);
    if (!e.noAck) c.held.set(e.msgId, { redelivered: e.redelivered, deliveryCount: e.deliveryCount });
    return 'taken';
  }

  consumerCancelled(session: string, consumer: string, queue: number): void {
    const c = this.consumers.get(`${session}\0${consumer}`);
    if (c === undefined || c.queue !== queue || c.state === 'gone') return;
    c.state = 'cancelled';
    c.held.clear(); // its queue was deleted, and the messages with it
  }

  private settleSome(c: Consumer, active: boolean): void {
    if (c.state === 'gone' || c.held.size === 0) return;
    if (active && this.env.rand() > this.profile.settleRate) return;
    const ids = [...c.held.keys()].slice(0, active ? 1 + Math.floor(this.env.rand() * 3) : c.held.size);
    const r = this.env.rand();
    const nack = this.profile.nackShare;
    const kind = !active || r >= nack ? 'settle' : r < nack / 2 ? 'return' : 'discard';
    const counts = ids.map((id) => c.held.get(id)!.deliveryCount);
    ids.forEach((id, i) => {
      c.held.delete(id);
      c.settling.set(id, counts[i]!);
    });
    this.ask({ kind, queue: c.queue, session: c.session, consumer: c.tag, msgIds: ids, nowMs: 0 }, (res) => {
      ids.forEach((id, i) => {
        if (c.settling.get(id) === counts[i]) c.settling.delete(id);
        if (res instanceof Error) {
          // Unknown outcome: settle again later (unless it was delivered anew meanwhile).
          if (c.state !== 'gone' && !c.held.has(id)) c.held.set(id, { redelivered: false, deliveryCount: counts[i]! });
          if (kind === 'return') c.maybeReturned.add(id);
        } else if (kind === 'settle') {
          c.acked.add(id);
        }
      });
      if (res instanceof Error) return;
      if (kind === 'settle') this.stats.acks += ids.length;
      else if (kind === 'return') this.stats.returns += ids.length;
      else this.stats.discards += ids.length;
    });
  }

  private live(): Consumer[] {
    return [...this.consumers.values()].filter((c) => c.state === 'active' && !c.getter);
  }

  private cancelOne(): void {
    const cs = this.live();
    if (cs.length > 0) this.cancel(this.pick(cs));
  }

  private cancel(c: Consumer): void {
    c.state = 'cancelling';
    const attempt = (): void => {
      this.ask({ kind: 'cancel', queue: c.queue, session: c.session, consumer: c.tag, nowMs: 0 }, (r) => {
        if (r instanceof Error) attempt();
        else if (c.state === 'cancelling') c.state = 'cancelled';
      });
    };
    attempt();
  }

  private dropSession(): void {
    const cs = this.live();
    if (cs.length > 0) this.dropConsumerSession(this.pick(cs).session);
  }

  /** A frontend session dies: its consumers are gone, the messages they held come back. */
  dropConsumerSession(session: string): void {
    for (const c of this.consumers.values()) {
      if (c.session !== session) continue;
      c.state = 'gone';
      c.held.clear();
    }
    this.pendingDowns.add(session);
  }

  private readonly downsInFlight = new Set<string>();

  private sessionDown(session: string): void {
    if (this.downsInFlight.has(session)) return;
    this.downsInFlight.add(session);
    this.ask({ kind: 'sessionDown', session, nowMs: 0 }, (r) => {
      this.downsInFlight.delete(session);
      if (r instanceof Error) return;
      this.pendingDowns.delete(session);
      for (const [k, c] of this.consumers) if (c.session === session) this.consumers.delete(k);
    });
  }

  private purge(name: string): void {
    const queue = this.queueIds.get(name);
    if (queue !== undefined) this.ask({ kind: 'purge', queue, nowMs: 0 }, () => undefined);
  }

  private deleteQueue(name: string): void {
    const queue = this.queueIds.get(name);
    if (queue === undefined) return;
    this.ask({ kind: 'delete', queue, nowMs: 0 }, (r) => {
      if (!(r instanceof Error) && this.queueIds.get(name) === queue) this.queueIds.delete(name);
    });
  }

  /** A queue the owner deleted (x-expires) or that answered noQueue: declare it again later. */
  forget(queue: number): void {
    for (const [name, id] of this.queueIds) if (id === queue) this.queueIds.delete(name);
  }

  private get(name: string): void {
    const queue = this.queueIds.get(name);
    if (queue === undefined) return;
    const g = this.newConsumer(name, queue, 0, false, true);
    this.ask({ kind: 'get', queue, session: g.session, consumer: g.tag, noAck: false, nowMs: 0 }, (r) => {
      if (r instanceof Error || r.kind !== 'got' || r.message === undefined) {
        if (r instanceof Error) {
          // Unknown outcome: a message may be checked out to this getter; its session goes down.
          g.state = 'gone';
          this.pendingDowns.add(g.session);
        } else {
          this.consumers.delete(`${g.session}\0${g.tag}`);
        }
        return;
      }
      this.stats.delivered++;
      g.held.set(r.message.msgId, { redelivered: r.message.redelivered, deliveryCount: r.message.deliveryCount });
    });
  }

  /** Why the clients are not done (quiesced phase): unconfirmed publishes, held messages, pending downs. */
  pending(): string | undefined {
    for (const p of this.publishers) if (p.unconfirmed.size > 0) return `${p.session} has ${p.unconfirmed.size} unconfirmed publishes`;
    for (const c of this.consumers.values()) {
      if (c.state !== 'gone' && c.held.size + c.settling.size > 0) return `${c.session}/${c.tag} holds ${c.held.size + c.settling.size} messages`;
      if (c.state === 'registering' || c.state === 'cancelling') return `${c.session}/${c.tag} is ${c.state}`;
    }
    if (this.pendingDowns.size > 0) return `sessionDown pending for ${[...this.pendingDowns].join(', ')}`;
    if (this.profile.queues.some((q) => q.name === 'dead') && !this.queueIds.has('dead')) return 'the dead-letter queue is not declared';
    return undefined;
  }
}

/** A content header: class 60, weight 0, body size 0 (unchecked here), no properties. */
const HEADER = new Uint8Array([0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
