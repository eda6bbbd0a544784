// The metadata Raft group's application: the metadata state machine (src/meta) applied in log
// order, its durable records kept as the group's keys (DESIGN §2, "Metadata group").
//
// What is durable when. Applying a batch of entries changes the machine in memory; the records
// that changed are then written into the apply batch, which the driver commits together with the
// group's applied index. So after a restart the keys are exactly the records as of the durable
// applied index, and the entries after it are applied again from the log. Only durable state is
// written: vhosts, users, permissions, durable exchanges, durable non-exclusive queues and the
// bindings between durable ends. Transient queues, exchanges and bindings live only in memory (and
// in the log tail, which is why the node purges them after a restart: see `transient.purge`).
//
// Listeners (listen()) see every applied entry with its index and command bytes, and every reload:
// the cluster's Watch service (src/cluster/meta-watch.ts) streams them to frontends' caches.
//
// Keys (relative to the group's prefix), values are src/meta/codec.ts JSON:
//   init                      written once: the keys, not the defaults, are the state
//   v/<vhost>                 a vhost
//   u/<user>                  UserRecord
//   p/<user>\0<vhost>         PermissionRecord
//   x/<vhost>\0<exchange>     ExchangeRecord (durable)
//   q/<vhost>\0<queue>        QueueRecord (durable, not exclusive)
//   b/<binding id>            BindingRecord (durable source and destination)
//   s                         SessionsSnapshot: the open frontend leases and the next lease number
import { AmqpError } from '../amqp/errors.js';
import { decodeMeta, encodeMeta } from '../meta/codec.js';
import { MetaMachine, type MetaSnapshot } from '../meta/machine.js';
import type { SessionsSnapshot } from '../meta/sessions.js';
import type {
  BindingRecord, ExchangeRecord, MetaCommand, MetaResult, PermissionRecord, QueueRecord, UserRecord,
} from '../meta/types.js';
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

const INIT_KEY = 'init';
const SESSIONS_KEY = 's';

export class MetaGroupApp implements GroupApp<MetaOutcome | undefined> {
  private current: MetaMachine;
  /** The records as written to the keys: key → encoded value (as a string, for cheap comparison). */
  private persisted = new Map<string, string>();
  private leader = false;
  private applied = 0;
  private readonly listeners = new Set<MetaApplyListener>();

  constructor(
    /** The state of a brand-new broker (default vhost and user). */
    private readonly initial: () => MetaMachine,
    private readonly onRole: (role: RoleInfo) => void = () => {},
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

  /** The index of the last entry applied to `machine` (every entry counts, commands or not). */
  get appliedIndex(): number {
    return this.applied;
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
    this.current = persisted.has(INIT_KEY) ? MetaMachine.restore(snapshotFrom(persisted)) : this.initial();
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
      const cmd = decodeMeta<MetaCommand>(e.data);
      try {
        results.push(this.current.apply(cmd));
      } catch (err) {
        // The machine validates before it mutates: a refused command changed nothing on any replica.
        if (!(err instanceof AmqpError)) throw err;
        results.push(err);
      }
    }
    this.writeChanges(batch);
    for (const l of this.listeners) l.applied(seen, this.applied);
    return results;
  }

  roleChanged(role: RoleInfo): void {
    this.leader = role.isLeader;
    this.onRole(role);
  }

  /** Puts the records that changed since the last write and deletes the ones that went. */
  private writeChanges(batch: ApplyBatch): void {
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

/** The durable records of a state, keyed as stored. */
function recordsOf(s: MetaSnapshot): Map<string, string> {
  const out = new Map<string, string>();
  const put = (key: string, value: unknown): void => {
    out.set(key, Buffer.from(encodeMeta(value)).toString('utf8'));
  };
  put(INIT_KEY, 1);
  for (const v of s.vhosts) put(`v/${v}`, v);
  for (const u of s.users) put(`u/${u.name}`, u);
  for (const p of s.permissions) put(`p/${p.user}\0${p.vhost}`, p);
  const durableX = new Set<string>();
  for (const x of s.exchanges) {
    if (!x.durable) continue;
    durableX.add(`${x.vhost}\0${x.name}`);
    put(`x/${x.vhost}\0${x.name}`, x);
  }
  const durableQ = new Set<string>();
  for (const q of s.queues) {
    if (!q.durable || q.exclusiveOwner !== undefined) continue;
    durableQ.add(`${q.vhost}\0${q.name}`);
    put(`q/${q.vhost}\0${q.name}`, q);
  }
  for (const b of s.bindings) {
    const dest = `${b.vhost}\0${b.destination}`;
    const durableDest = b.destinationKind === 'queue' ? durableQ.has(dest) : durableX.has(dest);
    if (!durableX.has(`${b.vhost}\0${b.source}`) || !durableDest) continue;
    const args = Buffer.from(encodeMeta({ arguments: b.arguments })).toString('base64');
    put(`b/${b.vhost}\0${b.source}\0${b.destinationKind}\0${b.destination}\0${b.routingKey}\0${args}`, b);
  }
  if (s.sessions !== undefined && s.sessions.nextLease > 1) put(SESSIONS_KEY, s.sessions);
  return out;
}

function snapshotFrom(records: ReadonlyMap<string, string>): MetaSnapshot {
  const vhosts: string[] = [];
  const users: UserRecord[] = [];
  const permissions: PermissionRecord[] = [];
  const exchanges: ExchangeRecord[] = [];
  const queues: QueueRecord[] = [];
  const bindings: BindingRecord[] = [];
  let sessions: SessionsSnapshot | undefined;
  for (const [key, value] of records) {
    if (key === SESSIONS_KEY) {
      sessions = decodeMeta<SessionsSnapshot>(Buffer.from(value));
      continue;
    }
    const v = decodeMeta<unknown>(Buffer.from(value));
    switch (key.slice(0, 2)) {
      case 'v/': vhosts.push(v as string); break;
      case 'u/': users.push(v as UserRecord); break;
      case 'p/': permissions.push(v as PermissionRecord); break;
      case 'x/': exchanges.push(v as ExchangeRecord); break;
      case 'q/': queues.push(v as QueueRecord); break;
      case 'b/': bindings.push(v as BindingRecord); break;
      default: break;
    }
  }
  return { vhosts, users, permissions, exchanges, queues, bindings, ...(sessions ? { sessions } : {}) };
}
