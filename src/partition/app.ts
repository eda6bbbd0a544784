// The partition machine as a Raft group application (src/raft/node/app.ts GroupApp): results go
// back to proposers through the driver; effects are handed to `onEffects` on the leader only, and
// a replica that becomes leader first gets the effects it must redo (resumeEffects), as Ra's
// state_enter. Followers skip the record reads that only effects and results need.
//
// When a new leader resumes: only once it has applied an entry of its own term. Until then its
// state may lag entries committed in earlier terms (a settle acknowledged by the old leader), and
// effects computed from it would hand a consumer again a message it already acked (found by the
// simulator in partition mode: `npm run sim -- --app partition`, test/sim/partition.test.ts). So
// while a leader applies entries of earlier terms it hands out only what resumeEffects cannot
// rebuild (consumer cancellations); deliveries and dead-letters of those entries are covered by the
// resume (noAck deliveries of them are at most once: the old leader handed them out, or nobody).
// A resume inside an apply carries the records (read from the apply's batch), and so do the
// effects of the rest of that apply: the owner reads records from the store, which does not have
// this apply's writes yet (a message stored by the first part and delivered or dead-lettered by
// the second would be read as gone; simulator, partition mode, seed 18).
import { EntryType, type Entry } from '../raft/core/types.js';
import type { AppReader, ApplyBatch, GroupApp, RecoverInfo, RoleInfo } from '../raft/node/app.js';
import { PartitionMachine } from './machine.js';
import { readRecord } from './read.js';
import type { ApplyOutput, CommandResult, PartitionEffect } from './types.js';

const NO_COMMANDS: readonly never[] = [];

export type PartitionResult = readonly CommandResult[];

/**
 * Which effects of an apply reach the owner: all, none, only consumer cancellations (entries of
 * earlier terms), or what resumeEffects does not rebuild (cancellations, noAck deliveries).
 */
type Handing = 'all' | 'uncovered' | 'cancellations' | 'none';

export class PartitionApp implements GroupApp<PartitionResult> {
  private leader = false;
  /** The term this replica leads (0 when it does not). */
  private leaderTerm = 0;
  /** The term of the last entry applied. */
  private appliedTerm = 0;
  /** Leading, and no entry of its own term applied yet: the resume waits for it. */
  private resumePending = false;
  /**
   * Terms another replica led (ascending, none below the last applied entry's): no proposer can
   * wait here for an entry of one of them, as the driver answers a proposal only with the result
   * of an entry of the term it was proposed in, by this replica leading. Entries of every other
   * term get results: a replica may apply its own term's first entries before it is told it leads.
   */
  private readonly othersTerms: number[] = [];

  constructor(
    readonly machine: PartitionMachine,
    /** Called with each apply's effects while this replica leads (after the apply returned). */
    private readonly onEffects: (effects: readonly PartitionEffect[]) => void,
  ) {}

  get isLeader(): boolean { return this.leader; }

  /**
   * Leads and has applied an entry of its own term, so its state holds everything committed before
   * it was elected: requests may be answered from it. A new leader that has not yet (its no-op is
   * still on its way) could find a queue declared just before the election missing.
   */
  get serving(): boolean { return this.leader && !this.resumePending; }

  recover(info: RecoverInfo): Promise<void> {
    return this.machine.recover(info.store);
  }

  apply(entries: readonly Entry[], batch: ApplyBatch): PartitionResult[] | Promise<PartitionResult[]> {
    if (!this.resumePending) return this.applyRange(entries, batch, this.leader ? 'all' : 'none');
    const k = entries.findIndex((e) => e.term >= this.leaderTerm);
    if (k < 0) return this.applyRange(entries, batch, 'cancellations');
    // Entries before k are every entry committed before this term. The resume comes after the
    // whole call, so it reflects this term's entries too (a settle among them is not re-issued),
    // and it covers their deliveries and dead-letters, in order (a dead-letter of this term handed
    // before an older one still in flight would overtake it in its target's deduplication).
    const rest = async (first: PartitionResult[]): Promise<PartitionResult[]> => {
      const second = await this.applyRange(entries.slice(k), batch, 'uncovered', batch);
      await this.resume(batch);
      return [...first, ...second];
    };
    const first = this.applyRange(entries.slice(0, k), batch, 'cancellations');
    return first instanceof Promise ? first.then(rest) : rest(first);
  }

  private applyRange(
    entries: readonly Entry[], batch: ApplyBatch, handing: Handing, recordsFrom?: AppReader,
  ): PartitionResult[] | Promise<PartitionResult[]> {
    if (entries.length === 0) return [];
    const results = this.mayBeAwaited(entries);
    this.appliedTerm = entries[entries.length - 1]!.term;
    const others = this.othersTerms;
    while (others.length > 0 && others[0]! < this.appliedTerm) others.shift();
    // ConfChange entries are informational here: no commands.
    const inputs = entries.map((e) => (e.type === EntryType.Normal ? e.data : NO_COMMANDS));
    // Only a leader hands effects out (done()); a follower does not build them.
    const out = this.machine.apply(inputs, batch, { effects: this.leader, readRecords: this.leader, results });
    if (recordsFrom !== undefined) {
      return Promise.resolve(out).then(async (o) => {
        const effects = await Promise.all(o.effects.map((e) => withRecord(e, recordsFrom)));
        return this.done({ ...o, effects }, handing);
      });
    }
    return out instanceof Promise ? out.then((o) => this.done(o, handing)) : this.done(out, handing);
  }

  /** Whether a proposer on this replica may be waiting for the result of one of `entries`. */
  private mayBeAwaited(entries: readonly Entry[]): boolean {
    for (const e of entries) if (!this.othersTerms.includes(e.term)) return true;
    return false;
  }

  roleChanged(role: RoleInfo): void {
    const others = this.othersTerms;
    if (!role.isLeader && role.leader !== 0 && role.term > (others[others.length - 1] ?? 0)) others.push(role.term);
    const wasTerm = this.leaderTerm;
    this.leader = role.isLeader;
    this.leaderTerm = role.isLeader ? role.term : 0;
    if (!role.isLeader) {
      this.resumePending = false;
      return;
    }
    if (wasTerm === role.term) return;
    this.resumePending = true;
    if (this.appliedTerm >= role.term) void this.resume(undefined);
  }

  /** Hands out what a new leader redoes; inside an apply, with records read from its `batch`. */
  private async resume(batch: AppReader | undefined): Promise<void> {
    this.resumePending = false;
    let fx = this.machine.resumeEffects();
    if (batch !== undefined) fx = await Promise.all(fx.map((e) => withRecord(e, batch)));
    if (fx.length > 0) this.onEffects(fx);
  }

  private done(o: ApplyOutput, handing: Handing): PartitionResult[] {
    if (this.leader && handing !== 'none' && o.effects.length > 0) {
      const fx = handing === 'all' ? o.effects : o.effects.filter((e) => e.kind === 'consumerCancelled'
        || (handing === 'uncovered' && e.kind === 'deliver' && e.noAck));
      if (fx.length > 0) this.onEffects(fx);
    }
    return o.results;
  }
}

async function withRecord(e: PartitionEffect, batch: AppReader): Promise<PartitionEffect> {
  if ((e.kind !== 'deliver' && e.kind !== 'deadLetter') || e.record !== undefined) return e;
  return { ...e, record: await readRecord(batch, e.queue, e.msgId) };
}
