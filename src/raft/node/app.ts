// The application-facing contract of a Raft group (one partition's state machine, or the
// metadata group). The driver (group.ts) calls it; the application never calls the core.
//
// Where the state lives. A group's application state is a set of keys in the SAME LevelDB as its
// Raft log, under the group's prefix `app/<u32 BE group>/` (docs/raft.md, "Storage layout"). The
// application sees keys relative to that prefix (a partition machine might use
// `q/<queue>/<seq>` for message bodies) and touches nothing else. Its writes are committed in one
// atomic batch with `applied/<group>` = the index of the last entry applied, so after a restart
// the state on disk is exactly "every entry ≤ appliedIndex applied once" and the driver resumes
// after it. In-memory indexes must be rebuildable from the keys (recover()).
//
// Snapshots are the keys themselves: a lagging follower is sent the leader's key range (read
// through a LevelDB snapshot) in chunks and the driver replaces the follower's range with it; the
// application is then told to recover() from its store. So there is no snapshot/restore
// serialisation to write: whatever is in the keys IS the snapshot.
import type { Entry, NodeId, SnapshotMeta } from '../core/types.js';
import type { AppReader } from '../storage/store.js';

// The application's read view (AppReader: get / iterate over an AppKeyRange of its own keys) is
// defined with the stores that implement it; it sees every write of every entry applied here,
// including writes whose batch is still on its way to disk.
export type { AppKeyRange, AppReader } from '../storage/store.js';

/**
 * The writes of one apply() call. Committed atomically with the applied index, in the same LevelDB
 * batch as the Raft log writes of the same Ready (no fsync of its own: the log is the durable
 * record and the entries can be re-applied). Reads through the batch see its own earlier writes.
 */
export interface ApplyBatch extends AppReader {
  /**
   * `fresh`: the key does not exist (never written, or deleted): the driver holds writes back for a
   * while (write-behind), and a fresh put deleted before it was written is never written at all.
   * The batch keeps `key` and `value` (no copy): they must not be modified afterwards. A value may
   * be a view into a larger buffer (a record inside a log entry); it keeps that buffer alive only
   * until the write is in the store, which is never later than the entry leaves the log.
   */
  put(key: Uint8Array, value: Uint8Array, fresh?: boolean): void;
  del(key: Uint8Array): void;
  /**
   * put() and del() with the key given as its latin1 string, one char per key byte (for a key k:
   * Buffer.from(k).toString('latin1'), and back Buffer.from(s, 'latin1')); the same key as its bytes,
   * so putLatin1(s) and del(k) of the same key are writes of one key. The driver indexes writes by
   * that string and builds key bytes only for writes that reach the store: a caller that can make
   * the string more cheaply than the bytes (from numbers) saves building either for the writes a
   * later delete cancels (a message acknowledged within the write-behind window).
   */
  putLatin1(key: string, value: Uint8Array, fresh?: boolean): void;
  delLatin1(key: string): void;
}

/** The replica's role, reported on every change of term or leader and once at start. */
export interface RoleInfo {
  readonly term: number;
  /** The leader this replica knows of; 0 when none. */
  readonly leader: NodeId;
  /** This replica leads `term`. Its applied state may still lag the commit index. */
  readonly isLeader: boolean;
}

/** How the application's state was (re)loaded. */
export interface RecoverInfo {
  /** Every entry ≤ appliedIndex is reflected in the store; later entries arrive via apply(). */
  readonly appliedIndex: number;
  readonly store: AppReader;
  /** 'start': the driver opened the group; 'snapshot': a leader's snapshot replaced every key. */
  readonly reason: 'start' | 'snapshot';
  /** The installed snapshot (reason 'snapshot' only). */
  readonly snapshot?: SnapshotMeta;
}

/** What the proposer receives once its entry is committed and applied on the proposing node. */
export interface Applied<R> {
  readonly index: number;
  readonly term: number;
  readonly result: R;
}

/**
 * One group's state machine. All calls for a group are serialised by its driver: a call returning
 * a promise is awaited before the next call, and nothing else of the group happens meanwhile.
 */
export interface GroupApp<R = unknown> {
  /**
   * (Re)load in-memory state from `store`: once at start (before anything else), and after every
   * snapshot install. Entries ≤ info.appliedIndex are never passed to apply() again.
   */
  recover(info: RecoverInfo): void | Promise<void>;
  /**
   * Applies committed entries, in log order, each exactly once (across restarts too). Normal
   * entries with empty data are a new leader's no-op; ConfChange entries are informational (the
   * core already applied the membership). Writes go into `batch`. Returns one result per entry
   * (same length and order); the result of an entry proposed through this replica's propose()
   * resolves that proposal, the others are dropped. Must be deterministic: every replica applies
   * the same entries to the same state. Throwing is fatal for the group (storage/invariant bug).
   */
  apply(entries: readonly Entry[], batch: ApplyBatch): readonly R[] | Promise<readonly R[]>;
  /**
   * Term or role changed (Ra's state_enter): also called once at start, after recover(). Use it to
   * arm leader-only timers and effects on election and to disarm them on losing leadership. Called
   * after the Ready that carried the change was made durable. Must not throw.
   */
  roleChanged?(role: RoleInfo): void;
}
