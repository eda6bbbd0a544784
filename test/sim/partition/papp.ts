// A replica's application in partition mode: the production PartitionApp (src/partition/app.ts)
// over a PartitionMachine that tracks outcomes, with the simulator's instruments around it:
//   - the Raft hash chain of app.ts (state-machine safety, as in keys mode), kept under one extra
//     key (`sim/chain`, outside the partition's key ranges) so it travels with restarts and
//     snapshots;
//   - an AccountingChecker per incarnation (src/partition/invariants.ts), fed every ApplyOutput
//     and checked against the machine after every apply; after a recover it starts from what the
//     keys hold (present = ready + checked out);
//   - the group's ledger (ledger.ts): state digests by applied index (replica agreement, also
//     right after recovering from keys), enqueue results, message ends.
import type { Entry } from '../../../src/raft/core/index.js';
import { EntryType } from '../../../src/raft/core/index.js';
import type { AppReader, ApplyBatch, RecoverInfo, RoleInfo } from '../../../src/raft/node/app.js';
import { PartitionApp, type PartitionResult } from '../../../src/partition/app.js';
import { decodeBatch } from '../../../src/partition/codec.js';
import { AccountingChecker } from '../../../src/partition/invariants.js';
import { PartitionMachine, type ApplyOptions, type EntryInput } from '../../../src/partition/machine.js';
import { MemoryAppStore } from '../../../src/partition/memory.js';
import type { ApplyOutput, EnqueueCmd, PartitionEffect } from '../../../src/partition/types.js';
import { applyEntry, decodeApp, encodeApp, GENESIS, type AppState } from '../app.js';
import type { GroupChecker } from '../checker.js';
import type { SimGroupApp } from '../replica.js';
import type { SimLogStore } from '../disk.js';
import type { GroupLedger } from './ledger.js';

const CHAIN_KEY = new TextEncoder().encode('sim/chain');

/** The machine with a hook on every apply's output (the checks run before effects are handed out). */
class TrackedMachine extends PartitionMachine {
  onOutput: ((inputs: readonly EntryInput[], out: ApplyOutput) => void) | undefined;

  override apply(entries: readonly EntryInput[], batch: ApplyBatch, opts?: ApplyOptions): ApplyOutput | Promise<ApplyOutput> {
    // The checks account every replica's effects and results: a follower builds them here too
    // (reading no records for its effects, as PartitionApp asks), and PartitionApp then gets only
    // what it asked for (a proposer answered from a result it said nobody waits for fails).
    const out = super.apply(entries, batch, { ...opts, effects: true, results: true });
    const hook = (o: ApplyOutput): ApplyOutput => {
      this.onOutput?.(entries, o);
      if (opts?.results !== false && opts?.effects !== false) return o;
      return {
        ...o, results: opts.results === false ? o.results.map(() => []) : o.results, effects: opts.effects === false ? [] : o.effects,
      };
    };
    return out instanceof Promise ? out.then(hook) : hook(out);
  }
}

export interface PartitionAppEnv {
  readonly id: number;
  readonly group: number;
  readonly checker: GroupChecker;
  readonly ledger: GroupLedger;
  log(line: string): void;
  /** Effects while this replica leads (PartitionApp's onEffects). */
  effects(fx: readonly PartitionEffect[]): void;
  /** This replica stopped leading. */
  demoted(): void;
}

export class SimPartitionApp extends PartitionApp implements SimGroupApp {
  private chain: AppState = GENESIS;
  private accounting = new AccountingChecker();
  /** Index of each entry data of the apply() call in progress (PartitionApp may split the call). */
  private current = new Map<Uint8Array, number>();
  /** An apply() is in progress (its writes are not submitted yet). */
  applying = false;
  /** recover() finished: the machine reflects the keys. */
  private recovered = false;
  store: AppReader | undefined;

  constructor(private readonly env: PartitionAppEnv) {
    const machine = new TrackedMachine({ trackOutcomes: true });
    super(machine, (fx) => env.effects(fx));
    machine.onOutput = (inputs, out) => this.observe(inputs, out);
  }

  get appliedIndex(): number {
    return this.chain.applied;
  }

  private get who(): string {
    return `n${this.env.id}`;
  }

  override async recover(info: RecoverInfo): Promise<void> {
    this.recovered = false;
    this.store = info.store;
    await super.recover(info);
    const raw = await info.store.get(CHAIN_KEY);
    this.chain = raw === undefined ? GENESIS : decodeApp(raw);
    if (this.chain.applied !== info.appliedIndex) {
      throw new Error(`n${this.env.id}: partition keys at ${this.chain.applied} but applied index ${info.appliedIndex} (${info.reason})`);
    }
    if (info.reason === 'snapshot') {
      this.env.checker.apply(this.chain.applied, this.chain.hash, this.env.id);
      this.env.log(`installed snapshot @${info.appliedIndex}`);
    }
    this.accounting = seeded(this.machine);
    this.accounting.checkMachine(this.machine);
    this.env.ledger.digest(info.appliedIndex, this.machine, `${this.who} (recovered from keys, ${info.reason})`);
    this.recovered = true;
  }

  private ledTerm = 0;

  override roleChanged(role: RoleInfo): void {
    const was = this.ledTerm;
    this.ledTerm = role.isLeader ? role.term : 0;
    // Before the resume a re-election may hand out: the owner's older work stops first.
    if (was !== 0 && was !== this.ledTerm) this.env.demoted();
    super.roleChanged(role);
  }

  override apply(entries: readonly Entry[], batch: ApplyBatch): PartitionResult[] | Promise<PartitionResult[]> {
    for (const e of entries) {
      if (e.index !== this.chain.applied + 1) throw new Error(`n${this.env.id} applies ${e.index} after ${this.chain.applied}`);
      this.chain = applyEntry(this.chain, e);
      this.env.checker.apply(e.index, this.chain.hash, this.env.id);
      if (e.type === EntryType.Normal && e.data.length > 0) this.env.checker.acked(e.index);
    }
    batch.put(CHAIN_KEY, encodeApp(this.chain));
    this.current = new Map(entries.map((e) => [e.data, e.index]));
    this.applying = true;
    const out = super.apply(entries, batch);
    const done = (r: PartitionResult[]): PartitionResult[] => {
      this.applying = false;
      this.env.ledger.digest(this.chain.applied, this.machine, this.who);
      return r;
    };
    return out instanceof Promise ? out.then(done) : done(out);
  }

  /** Runs inside the machine's apply, before PartitionApp hands the effects to the owner. */
  private observe(inputs: readonly EntryInput[], out: ApplyOutput): void {
    const enqueues: { index: number; cmd: EnqueueCmd; result: PartitionResult[number] }[] = [];
    inputs.forEach((input, i) => {
      if (!(input instanceof Uint8Array) || input.length === 0) return;
      const index = this.current.get(input);
      if (index === undefined) throw new Error('sim: an applied input that is no entry of this call');
      decodeBatch(input).forEach((cmd, j) => {
        if (cmd.kind === 'enqueue') enqueues.push({ index, cmd, result: out.results[i]![j]! });
      });
    });
    this.env.ledger.observe(enqueues, out);
    this.accounting.observe(out);
    this.accounting.checkMachine(this.machine);
  }

  /**
   * Records on disk == present messages + dead-letters in flight, on a frozen copy of what reads
   * see now. Only when that copy reflects exactly the machine's applied state.
   */
  checkStore(disk: SimLogStore): Promise<void> | undefined {
    if (!this.recovered || this.applying || disk.installing || disk.submittedApplied !== this.chain.applied) return undefined;
    const copy = new MemoryAppStore();
    for (const [k, v] of disk.appEntriesNow()) copy.entries.set(Buffer.from(k).toString('hex'), [k, v]);
    return this.accounting.checkStore(this.machine, copy);
  }
}

/** A checker that starts from the machine's present messages (a restart forgets the history). */
function seeded(m: PartitionMachine): AccountingChecker {
  const c = new AccountingChecker();
  const stored: { queue: number; msgId: number }[] = [];
  const effects: PartitionEffect[] = [];
  for (const queue of m.queueIds()) {
    for (const msgId of m.readyIds(queue)) stored.push({ queue, msgId });
    for (const h of m.checkedOut(queue)) {
      stored.push({ queue, msgId: h.msgId });
      // Handed out before the restart: a later settle of it is legitimate.
      effects.push({
        kind: 'deliver', queue, session: h.session, consumer: h.consumer, msgId: h.msgId, redelivered: h.redelivered,
        deliveryCount: h.deliveryCount, noAck: false, record: undefined,
      });
    }
  }
  c.observe({ results: [], effects, stored, outcomes: [] });
  return c;
}
