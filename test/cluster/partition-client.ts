// The test client of partition-3proc.test.ts, playing the frontend of a partition whose three
// replicas are partition-node.ts processes: it follows the leader, publishes with confirms,
// consumes and acks, and keeps the accounts the test checks. What it does on a leader change is
// what the production frontend must do (docs/partitions.md, "resume-after-election"):
//
//   - requests that failed (not leader, dropped, timed out) or whose node died have an unknown
//     outcome: they are sent again, with backoff, to the leader, found by asking every live node;
//   - publishing: one enqueue entry in flight per publisher session, holding every unconfirmed seq
//     in order followed by new ones, and the same (session, seq) on every retry. A committed entry
//     then always makes the committed seqs a prefix, so the partition's deduplication ("seq at or
//     below the highest applied is a duplicate") is exact: a retry is stored at most once and
//     never answered duplicate for a seq that was not stored;
//   - consumers stay registered: they are replicated state, the new leader hands their
//     deliveries out (the resume re-hands every checked-out message). A delivery the consumer
//     already has — same msgId AND same deliveryCount — is dropped, not given to the application
//     again; its ack, if one was sent and not confirmed, is sent again (settles are idempotent);
//   - a consumer whose session was on the dead node is gone: the frontend that replaces it
//     proposes sessionDown for that session (its messages come back redelivered) and registers a
//     new consumer in a new session.
import type { NodeProc } from './proc.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export type Reply = { readonly ok: true; readonly words: readonly string[] } | { readonly ok: false; readonly why: string };

export interface Consumer {
  readonly session: string;
  readonly tag: string;
  /** msgId → deliveryCount of what this consumer's application got. */
  readonly seen: Map<number, number>;
  /** Delivered, ack not sent yet. */
  readonly held: Set<number>;
  /** Ack sent, not confirmed. */
  readonly settling: Set<number>;
  live: boolean;
}

export interface Delivery { readonly consumer: string; readonly msgId: number; readonly deliveryCount: number; readonly redelivered: boolean }

export class Frontend {
  leader: NodeProc | undefined;
  private finding: Promise<NodeProc> | undefined;
  private nextRid = 1;
  private readonly pending = new Map<number, { node: NodeProc; done: (r: Reply) => void }>();
  /** Leaders seen, as "term:node" (elections, counted by the client). */
  readonly leadersSeen = new Set<string>();
  readonly problems: string[] = [];
  queue = 0;
  /** Failovers so far (the test bumps it at each kill); settles and confirms are counted per epoch. */
  epoch = 0;

  // publishing
  readonly pubSession = 'pub';
  nextSeq = 1;
  /** Every seq below this is confirmed. */
  confirmedBelow = 1;
  /** Seqs 1..publishLimit are published (the test lowers it once the kills are done). */
  publishLimit = Number.MAX_SAFE_INTEGER;
  publishEntryMax = 50;
  publishRatePerSec = 1_000;
  /** Seqs answered duplicate: a retried entry whose first attempt had committed. */
  duplicateConfirms = 0;
  readonly confirmGapMs: number[] = [0];
  private lastConfirmAt = Date.now();
  retriedPublishes = 0;
  private readonly sentWaiters: (() => void)[] = [];

  // consuming
  consumer: Consumer | undefined;
  private nextConsumer = 1;
  pauseAcks = false;
  private flushing = false;
  /** msgId → the seq in its body (one body per msgId: a seq stored twice would have two msgIds). */
  readonly seqOfMsg = new Map<number, number>();
  readonly msgsOfSeq = new Map<number, Set<number>>();
  /** Every delivery the application got (re-handed ones dropped), by msgId. */
  readonly deliveries = new Map<number, Delivery[]>();
  /** msgIds whose ack committed. */
  readonly acked = new Set<number>();
  rehanded = 0;
  duplicates = 0;
  redelivered = 0;
  toGoneConsumer = 0;
  /** Per epoch: messages whose ack was first sent in it and committed. */
  readonly ackedInEpoch: number[] = [0];

  constructor(readonly nodes: readonly NodeProc[]) {
    for (const n of nodes) {
      n.onReply = (line) => this.line(n, line);
      n.onExit = () => {
        for (const [rid, p] of this.pending) {
          if (p.node !== n) continue;
          this.pending.delete(rid);
          p.done({ ok: false, why: 'node died' });
        }
        if (this.leader === n) this.leader = undefined;
      };
    }
  }

  // ---- requests -----------------------------------------------------------------------------

  private line(node: NodeProc, line: string): void {
    const words = line.split(' ');
    const kind = words[0];
    if (kind === 'd') {
      this.delivered(words);
      return;
    }
    if (kind === 'k') {
      this.problems.push(`n${node.id}: consumer cancelled: ${line}`);
      return;
    }
    const rid = Number(words[1]);
    const p = this.pending.get(rid);
    if (p === undefined) return;
    this.pending.delete(rid);
    if (kind === 'r') p.done({ ok: true, words: words.slice(2) });
    else p.done({ ok: false, why: line });
  }

  private request(node: NodeProc, cmd: string, args: string): Promise<Reply> {
    const rid = this.nextRid++;
    return new Promise((resolve) => {
      if (!node.alive) {
        resolve({ ok: false, why: 'node down' });
        return;
      }
      this.pending.set(rid, { node, done: resolve });
      node.send(`${cmd} ${rid} ${args}`);
    });
  }

  /** Sends to the leader until a committed answer comes back (with backoff between attempts). */
  async call(cmd: string, args: string, stillWanted: () => boolean = () => true): Promise<readonly string[] | undefined> {
    for (let attempt = 0; ; attempt++) {
      if (!stillWanted()) return undefined;
      const node = await this.leaderNow();
      const r = await this.request(node, cmd, args);
      if (r.ok) return r.words;
      this.lostLeader(node);
      await sleep(Math.min(1_000, 20 * 2 ** attempt));
    }
  }

  private lostLeader(node: NodeProc): void {
    if (this.leader === node) this.leader = undefined;
  }

  leaderNow(): Promise<NodeProc> {
    if (this.leader?.alive) return Promise.resolve(this.leader);
    this.finding ??= this.findLeader().finally(() => { this.finding = undefined; });
    return this.finding;
  }

  private async findLeader(): Promise<NodeProc> {
    const deadline = Date.now() + 60_000;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      for (const n of this.nodes.filter((x) => x.alive)) {
        const s = await n.status();
        if (s.leader === n.id && n.alive) {
          this.leader = n;
          this.leadersSeen.add(`${s.term}:${n.id}`);
          return n;
        }
      }
      await sleep(Math.min(200, 20 * 2 ** attempt));
    }
    throw new Error('no leader within 60 s');
  }

  // ---- publishing ---------------------------------------------------------------------------

  /** Publishes seqs 1..publishLimit and waits for their confirms; one entry in flight (see the header). */
  async publish(): Promise<void> {
    const startedMs = Date.now();
    for (let attempt = 0; this.confirmed < this.publishLimit;) {
      // The load: publishRatePerSec on average, at most publishEntryMax new messages per entry.
      const due = Math.floor(((Date.now() - startedMs) * this.publishRatePerSec) / 1000) - (this.nextSeq - 1);
      const newOnes = Math.max(0, Math.min(this.publishEntryMax, this.publishLimit - (this.nextSeq - 1), due));
      if (newOnes === 0 && this.unconfirmed === 0) {
        await sleep(Math.ceil(1000 / this.publishRatePerSec));
        continue;
      }
      this.nextSeq += newOnes;
      const from = this.confirmedBelow;
      const to = this.nextSeq - 1;
      const node = await this.leaderNow();
      const reply = this.request(node, 'p', `${this.queue} ${this.pubSession} ${from} ${to}`);
      for (const w of this.sentWaiters.splice(0)) w();
      const r = await reply;
      if (!r.ok) {
        this.lostLeader(node);
        this.retriedPublishes += to - from + 1;
        await sleep(Math.min(1_000, 20 * 2 ** attempt++));
        continue;
      }
      attempt = 0;
      if (r.words[0] !== 'enqueued') this.problems.push(`publish ${from}..${to}: ${r.words.join(' ')}`);
      this.duplicateConfirms += Number(r.words[2] ?? 0);
      this.confirmedBelow = to + 1;
      const now = Date.now();
      this.confirmGapMs[this.epoch] = Math.max(this.confirmGapMs[this.epoch] ?? 0, now - this.lastConfirmAt);
      this.lastConfirmAt = now;
    }
  }

  /** Resolves right after the publisher sent its next entry (the test kills the leader then). */
  nextPublishSent(): Promise<void> {
    return new Promise((resolve) => this.sentWaiters.push(resolve));
  }

  get confirmed(): number {
    return this.confirmedBelow - 1;
  }

  /** Seqs sent and not confirmed. */
  get unconfirmed(): number {
    return this.nextSeq - this.confirmedBelow;
  }

  // ---- consuming ----------------------------------------------------------------------------

  /** Registers a new consumer in a new session (retried until committed). */
  async consume(prefetch: number): Promise<Consumer> {
    const n = this.nextConsumer++;
    const c: Consumer = { session: `fe${n}`, tag: `ctag${n}`, seen: new Map(), held: new Set(), settling: new Set(), live: true };
    this.consumer = c;
    await this.call('c', `${this.queue} ${c.session} ${c.tag} ${prefetch}`);
    return c;
  }

  /** The consumer's frontend session died with a node: the session goes down, its messages come back. */
  async dropSession(c: Consumer): Promise<void> {
    c.live = false;
    await this.call('x', c.session);
  }

  private delivered(words: string[]): void {
    const [, queue, msgIdS, dcS, redS, session, tag, bodyId] = words;
    const msgId = Number(msgIdS);
    const deliveryCount = Number(dcS);
    const redelivered = redS === '1';
    const seq = Number(bodyId!.split('/')[1]);
    const current = this.consumer;
    const c = current !== undefined && current.session === session && current.tag === tag ? current : undefined;
    if (Number(queue) !== this.queue || c === undefined || !c.live) {
      // A consumer the frontend no longer has (its session is going down: the message comes back).
      this.toGoneConsumer++;
      return;
    }
    const known = this.seqOfMsg.get(msgId);
    if (known !== undefined && known !== seq) this.problems.push(`msg ${msgId} carries seq ${seq}, earlier ${known}`);
    this.seqOfMsg.set(msgId, seq);
    const ids = this.msgsOfSeq.get(seq) ?? new Set();
    ids.add(msgId);
    this.msgsOfSeq.set(seq, ids);
    if (this.acked.has(msgId)) this.problems.push(`msg ${msgId} delivered (count ${deliveryCount}) after its ack committed`);
    if (c.seen.get(msgId) === deliveryCount) {
      this.rehanded++; // the resume of a new leader: this consumer has it (held, or its ack pending)
      return;
    }
    const before = this.deliveries.get(msgId) ?? [];
    if (before.length > 0) {
      this.duplicates++;
      const maxCount = Math.max(...before.map((d) => d.deliveryCount));
      if (!redelivered && deliveryCount <= maxCount) {
        this.problems.push(`msg ${msgId} delivered again without redelivered or a higher count: ${JSON.stringify([...before, { deliveryCount, redelivered }])}`);
      }
    }
    if (redelivered) this.redelivered++;
    before.push({ consumer: `${session}/${tag}`, msgId, deliveryCount, redelivered });
    this.deliveries.set(msgId, before);
    c.seen.set(msgId, deliveryCount);
    c.held.add(msgId);
    this.scheduleAcks();
  }

  /** Acks what the consumer holds, once per event-loop turn. */
  scheduleAcks(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      const c = this.consumer;
      if (c === undefined || !c.live || this.pauseAcks || c.held.size === 0) return;
      const ids = [...c.held];
      c.held.clear();
      for (const id of ids) c.settling.add(id);
      void this.ack(c, ids);
    });
  }

  private async ack(c: Consumer, ids: number[]): Promise<void> {
    const epoch = this.epoch;
    const r = await this.call('a', `${this.queue} ${c.session} ${c.tag} ${ids.join(',')}`, () => c.live);
    if (r === undefined) return; // the session died with a node: its messages come back
    if (r[0] !== 'ok') this.problems.push(`ack answered ${r.join(' ')}`);
    for (const id of ids) {
      c.settling.delete(id);
      this.acked.add(id);
    }
    this.ackedInEpoch[epoch] = (this.ackedInEpoch[epoch] ?? 0) + ids.length;
  }
}
