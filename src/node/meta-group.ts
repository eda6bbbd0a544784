// The metadata Raft group's application: the metadata state machine (src/meta) applied in log
// order, its records kept as the group's keys (DESIGN §2, "Metadata group"; the keys and which
// records are stored: src/node/meta-records.ts).
//
// What is stored when. Applying a batch of entries changes the machine in memory; the records
// that changed are then written into the apply batch, which the driver commits together with the
// group's applied index. So after a restart the keys are exactly the records as of the durable
// applied index, and the entries after it are applied again from the log. A command that names the
// records it changes (changedKeys) writes just those; one that may cascade (a delete, a purge, a
// batch) compares the whole state with the keys.
//
// Listeners (listen()) see every applied entry with its index and command bytes, and every reload:
// the cluster's Watch service (src/cluster/meta-watch.ts) streams them to frontends' caches.
import type { AmqpError } from '../amqp/errors.js';
import { applyCommand } from '../meta/apply-entry.js';
import { MetaMachine } from '../meta/machine.js';
import type { MetaCommand, MetaResult } from '../meta/types.js';
import { changedKeys, INIT_KEY, recordsOf, snapshotFrom, type KeyRead } from './meta-records.js';
import type { ApplyBatch, AppReader, GroupApp, RecoverInfo, RoleInfo } from '../raft/node/app.js';
import { EntryType, type Entry } from '../raft/core/types.js';

/** What a proposer of a metadata command gets back: the machine's result, or the AMQP error it threw (nothing changed). */
export type MetaOutcome = MetaResult | AmqpError;

/** One applied log entry as a watcher sees it: a metadata command's bytes, or none (no-op, membership change). */
export interface AppliedEntry {
  readonly index: number;
  /** encodeMeta(MetaCommand), exactly the entry's data; undefined for entries that are not commands. */
  readonly command?: Uint8Array;
}

/**
 * Follows what the group applies (the cluster's Watch service). Called synchronously from apply()
 * and recover(), so `machine` read inside a call is exactly the state as of the index given.
 */
export interface MetaApplyListener {
  /** Entries applied, in log order (refused commands included: applying them again refuses them again). */
  applied(entries: readonly AppliedEntry[], appliedIndex: number): void;
  /** The state was reloaded from the keys (start, or a leader's snapshot): entries up to `appliedIndex` are only in the machine now. */
  recovered(appliedIndex: number): void;
}


export class MetaGroupApp implements GroupApp<MetaOutcome | undefined> {
  private current: MetaMachine;
  /** The records as written to the keys: key → encoded value (as a string, for cheap comparison). */
  private persisted = new Map<string, string>();
  private leader = false;
  private applied = 0;
  /** The term of the first leader this process saw (0: none yet); see src/cluster/cluster-run.ts. */
  private firstLeader = 0;
  private readonly listeners = new Set<MetaApplyListener>();

  constructor(
    /** The state of a brand-new broker (default vhost and user). */
    private readonly initial: () => MetaMachine,
    private readonly onRole: (role: RoleInfo) => void = () => {},
    /** A command met a defect (src/meta/apply-entry.ts); the group goes on, answering it 541. */
    private readonly onDefect: (err: unknown, index: number) => void = () => {},
  ) {
    this.current = initial();
  }

  /** The applied state; replaced on recover(), so callers read it through this getter. */
  get machine(): MetaMachine {
    return this.current;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** The term of the first leader of the group this process saw, itself or another (0: none yet). */
  get firstLeaderTerm(): number {
    return this.firstLeader;
  }

  /** The index of the last entry applied to `machine` (every entry counts, commands or not). */
  get appliedIndex(): number {
    return this.applied;
  }

  /** Resolves once `index` is applied here (at once if it is). */
  waitFor(index: number): Promise<void> {
    if (this.applied >= index) return Promise.resolve();
    return new Promise((resolve) => {
      const reached = (at: number): void => {
        if (at < index) return;
        stop();
        resolve();
      };
      const stop = this.listen({ applied: (_, at) => reached(at), recovered: reached });
    });
  }

  /** Starts following applied entries; returns the function that stops it. */
  listen(listener: MetaApplyListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async recover(info: RecoverInfo): Promise<void> {
    const persisted = new Map<string, string>();
    for await (const [key, value] of (info.store as AppReader).iterate()) {
      persisted.set(Buffer.from(key).toString('utf8'), Buffer.from(value).toString('utf8'));
    }
    this.persisted = persisted;
    const fresh = !persisted.has(INIT_KEY);
    this.current = fresh ? this.initial() : MetaMachine.restore(snapshotFrom(persisted));
    // A fresh group's defaults (the first vhost, user, exchanges) are written with its first batch.
    this.changed = fresh ? undefined : new Map();
    this.applied = info.appliedIndex;
    for (const l of this.listeners) l.recovered(this.applied);
  }

  apply(entries: readonly Entry[], batch: ApplyBatch): Array<MetaOutcome | undefined> {
    const results: Array<MetaOutcome | undefined> = [];
    const seen: AppliedEntry[] = [];
    for (const e of entries) {
      this.applied = e.index;
      if (e.type !== EntryType.Normal || e.data.length === 0) {
        results.push(undefined);
        seen.push({ index: e.index });
        continue;
      }
      seen.push({ index: e.index, command: e.data });
      const outcome = applyCommand(this.current, e.data);
      if (outcome.kind === 'applied') {
        results.push(outcome.result);
        this.noteChanged(outcome.command, outcome.result);
      } else {
        results.push(outcome.error);
        if (outcome.kind === 'failed') {
          // A defect met part way may have changed anything: compare the whole state with the keys.
          this.changed = undefined;
          this.onDefect(outcome.cause, e.index);
        }
      }
    }
    this.writeChanges(batch);
    for (const l of this.listeners) l.applied(seen, this.applied);
    return results;
  }

  roleChanged(role: RoleInfo): void {
    this.leader = role.isLeader;
    if (this.firstLeader === 0 && role.leader !== 0) this.firstLeader = role.term;
    this.onRole(role);
  }

  /** Keys changed by the commands applied since the last write; undefined: compare the whole state. */
  private changed: Map<string, KeyRead> | undefined = new Map();

  private noteChanged(cmd: MetaCommand, result: MetaResult): void {
    if (this.changed === undefined) return;
    const keys = changedKeys(cmd, result);
    if (keys === undefined) this.changed = undefined;
    else for (const [k, read] of keys) this.changed.set(k, read);
  }

  /** Puts the records that changed since the last write and deletes the ones that went. */
  private writeChanges(batch: ApplyBatch): void {
    const changed = this.changed;
    this.changed = new Map();
    if (changed !== undefined) {
      for (const [key, read] of changed) {
        const value = read(this.current);
        if (value === this.persisted.get(key)) continue;
        if (value === undefined) {
          batch.del(Buffer.from(key));
          this.persisted.delete(key);
        } else {
          batch.put(Buffer.from(key), Buffer.from(value));
          this.persisted.set(key, value);
        }
      }
      return;
    }
    const next = recordsOf(this.current.snapshot());
    for (const [key, value] of next) {
      if (this.persisted.get(key) !== value) batch.put(Buffer.from(key), Buffer.from(value));
    }
    for (const key of this.persisted.keys()) {
      if (!next.has(key)) batch.del(Buffer.from(key));
    }
    this.persisted = next;
  }
}
