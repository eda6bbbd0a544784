// Queue figures on a frontend (issue 8): the owners hold the queues, so a frontend's management API
// and /metrics read a cache of what the owners answered to warren.v1.Owner/QueueStats. Every owner
// is asked for everything it serves (an empty request): the queues of the partitions it leads and
// the transient queues homed on it. A durable queue's figures therefore come from its partition's
// leader, and whichever owner answered for a partition is, as of its applied state, that leader.
//
// The cache is refreshed in the background (every `intervalMs`) and on demand: `refresh()` waits,
// at most `waitMs`, for a round that started after it was called, so an operator who published
// and then looks sees the message. `stats()` / `list()` answer synchronously from the cache.
// Only the rounds asked for on demand carry the durable queues' bytes on disk (the owner estimates
// them per queue from LevelDB, so a background round does not ask; a queue keeps its last figure).
import type { NodeJson, PartitionInfo } from '../admin/source.js';
import type { OwnerAddress } from '../config.js';
import type { Logger } from '../log.js';
import type { QueueRef, QueueStats } from '../owner/api.js';
import { partitionOf } from '../owner/durable.js';
import type { OwnerStats } from '../owner/router.js';
import { u64 } from '../partition/codec.js';
import type { warren } from '../proto/owner.js';
import type { BidiMethod } from '../rpc/bidi.js';
import { OWNER } from '../rpc/contracts.js';
import { RpcChannel } from '../rpc/server.js';
import { fromWire } from './wire.js';

/** One queue's figures as one owner reported them. */
export interface OwnerEntry {
  readonly ref: QueueRef;
  /** 1..P: a durable queue's partition; 0: a transient queue. */
  readonly partition: number;
  readonly stats: QueueStats;
  /** A durable queue: approximate bytes of its records on its leader's disk (0 for a transient queue). */
  readonly diskBytes: number;
}

/** One owner's last successful answer. */
export interface OwnerAnswer {
  /** When it arrived (ms). */
  readonly at: number;
  readonly entries: readonly OwnerEntry[];
}

/** A durable queue's Raft group as a quorum queue shows it: owner ids. */
export interface QueueReplication {
  readonly partition: number;
  /** The owner that answered for the queue's partition (0: none recently). */
  readonly leader: number;
  /** The partition's replicas, preferred leader first. */
  readonly members: readonly number[];
  /** Members whose owner answered recently. */
  readonly online: readonly number[];
}

/** The merged view of every owner's answer. */
export interface MergedFigures {
  readonly queues: ReadonlyMap<string, { readonly entry: OwnerEntry; readonly owner: number }>;
  /** Partition → the owner whose freshest answer included a queue of it. */
  readonly leaders: ReadonlyMap<number, number>;
  /** Owners that answered within the staleness window. */
  readonly online: ReadonlySet<number>;
}

export function queueKey(q: QueueRef): string {
  return `${q.vhost}\u0000${q.name}`;
}

/**
 * Merges the owners' answers no older than `staleMs`. A queue two owners reported (a leader
 * change between their answers) takes the newer answer; so does a partition's leader.
 */
export function mergeAnswers(answers: ReadonlyMap<number, OwnerAnswer>, now: number, staleMs: number): MergedFigures {
  const fresh = [...answers].filter(([, a]) => now - a.at <= staleMs).sort((x, y) => x[1].at - y[1].at);
  const queues = new Map<string, { entry: OwnerEntry; owner: number }>();
  const leaders = new Map<number, number>();
  for (const [owner, a] of fresh) {
    for (const entry of a.entries) {
      queues.set(queueKey(entry.ref), { entry, owner });
      if (entry.partition !== 0) leaders.set(entry.partition, owner);
    }
  }
  return { queues, leaders, online: new Set(fresh.map(([id]) => id)) };
}

export interface QueueFiguresOptions {
  readonly owners: readonly OwnerAddress[];
  readonly partitions: number;
  /** The owners holding partition p, preferred leader first (the placement ring). */
  readonly replicas: (partition: number) => readonly number[];
  readonly log: Logger;
  /** Background refresh period; default 1 s. */
  readonly intervalMs?: number;
  /** Deadline of one QueueStats call; default 1 s. */
  readonly attemptMs?: number;
  /** An answer older than this is dropped and its owner no longer counted online; default 3 periods. */
  readonly staleMs?: number;
}

const DEFAULT_INTERVAL_MS = 1_000;
const DEFAULT_ATTEMPT_MS = 1_000;
/** What the management API waits for fresh figures before answering from the cache. */
export const DEFAULT_REFRESH_WAIT_MS = 500;

export class QueueFigures implements OwnerStats {
  private readonly channels = new Map<number, RpcChannel>();
  private readonly answers = new Map<number, OwnerAnswer>();
  private merged: MergedFigures = { queues: new Map(), leaders: new Map(), online: new Set() };
  private readonly intervalMs: number;
  private readonly attemptMs: number;
  private readonly staleMs: number;
  private inflight: { readonly done: Promise<void>; readonly disk: boolean } | undefined;
  private queued: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: QueueFiguresOptions) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.attemptMs = opts.attemptMs ?? DEFAULT_ATTEMPT_MS;
    this.staleMs = opts.staleMs ?? 3 * this.intervalMs;
    for (const o of opts.owners) this.channels.set(o.id, new RpcChannel(o.address));
  }

  /** Starts the background refresh (the first round at once). */
  start(): this {
    void this.round(false);
    this.timer = setInterval(() => {
      if (this.inflight === undefined) void this.round(false);
    }, this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Resolves once a round started after this call has finished, or after `waitMs`, whichever is first. */
  refresh(waitMs = DEFAULT_REFRESH_WAIT_MS): Promise<void> {
    if (this.closed) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => { timer = setTimeout(r, waitMs); });
    return Promise.race([this.freshRound(), timeout]).finally(() => clearTimeout(timer));
  }

  /**
   * A round with disk figures that starts no earlier than now: the next one when one is already
   * under way (shared by every caller meanwhile).
   */
  private freshRound(): Promise<void> {
    const current = this.inflight;
    if (current === undefined) return this.round(true);
    this.queued ??= current.done.then(() => {
      this.queued = undefined;
      const next = this.inflight;
      return next !== undefined && next.disk ? next.done : this.round(true);
    });
    return this.queued;
  }

  /** Asks every owner; `disk`: with the durable queues' bytes on disk (what the management API shows). */
  private round(disk: boolean): Promise<void> {
    const done = Promise.all([...this.channels].map(([id, ch]) => this.ask(id, ch, disk))).then(() => {
      this.merged = mergeAnswers(this.answers, Date.now(), this.staleMs);
    });
    const r = {
      disk,
      done: done.finally(() => {
        if (this.inflight === r) this.inflight = undefined;
      }),
    };
    this.inflight = r;
    return r.done;
  }

  private async ask(id: number, ch: RpcChannel, disk: boolean): Promise<void> {
    // Unreachable or restarting: its figures age out after staleMs (and it stops counting as online).
    const res = await this.fromOwner(id, ch, OWNER.queueStats, { disk }, 'queue stats');
    if (res === undefined) return;
    let entries = (res.entries ?? []).map(toEntry);
    if (!disk) {
      // Without disk figures: each queue keeps the one this owner gave last.
      const known = new Map((this.answers.get(id)?.entries ?? []).map((e) => [queueKey(e.ref), e.diskBytes]));
      entries = entries.map((e) => ({ ...e, diskBytes: known.get(queueKey(e.ref)) ?? 0 }));
    }
    this.answers.set(id, { at: Date.now(), entries });
  }

  /** One owner's answer to a figures request, or undefined (logged at debug) when it did not give one in time. */
  private async fromOwner<Req, Res extends { error?: warren.v1.Error.$Properties | null }>(
    id: number, ch: RpcChannel, method: BidiMethod<Req, Res>, req: Req, what: string,
  ): Promise<Res | undefined> {
    try {
      const res = await ch.unary(method, req, this.attemptMs);
      const err = fromWire(res.error);
      if (err !== undefined) throw err;
      return res;
    } catch (err) {
      this.opts.log.debug({ err, owner: id }, `${what} unavailable`);
      return undefined;
    }
  }

  // ---- OwnerStats ----------------------------------------------------------------------------

  stats(q: QueueRef): QueueStats | undefined {
    return this.merged.queues.get(queueKey(q))?.entry.stats;
  }

  *list(): IterableIterator<{ ref: QueueRef; stats: QueueStats }> {
    for (const { entry } of this.merged.queues.values()) yield { ref: entry.ref, stats: entry.stats };
  }

  /** A durable queue's partition and bytes on its leader's disk, as last reported; undefined for a transient or unreported queue. */
  disk(q: QueueRef): { readonly partition: number; readonly diskBytes: number } | undefined {
    const e = this.merged.queues.get(queueKey(q))?.entry;
    return e === undefined || e.partition === 0 ? undefined : { partition: e.partition, diskBytes: e.diskBytes };
  }

  /**
   * GET /api/partitions through a frontend: every owner is asked now for the partitions it leads;
   * a partition two owners reported (a leader change between their answers) takes the higher term.
   * Owners that do not answer within the attempt deadline are left out, and so are their partitions.
   */
  async partitions(): Promise<PartitionInfo[]> {
    const answers = await Promise.all([...this.channels].map(async ([id, ch]) =>
      ((await this.fromOwner(id, ch, OWNER.partitions, {}, 'partition figures'))?.partitions ?? []).map(toPartition)));
    const byPartition = new Map<number, PartitionInfo>();
    for (const p of answers.flat()) {
      const known = byPartition.get(p.partition);
      if (known === undefined || p.term > known.term) byPartition.set(p.partition, p);
    }
    return [...byPartition.values()].sort((a, b) => a.partition - b.partition);
  }

  /**
   * GET /api/nodes through a frontend: every owner is asked now for its process figures (the row its
   * own management API shows); one that does not answer in time is listed by name, not running.
   */
  async nodes(nameOf: (owner: number) => string): Promise<NodeJson[]> {
    return Promise.all([...this.channels].map(async ([id, ch]): Promise<NodeJson> => {
      const n = (await this.fromOwner(id, ch, OWNER.node, {}, 'node figures'))?.node;
      return n === undefined || n === null ? { name: nameOf(id), type: 'disc', running: false } : toNode(nameOf(id), n);
    }));
  }

  /** A durable queue's leader, members and the members online (the caller knows the queue is durable). */
  replication(q: QueueRef): QueueReplication {
    const partition = partitionOf(q, this.opts.partitions);
    const members = this.opts.replicas(partition);
    const known = this.merged.queues.get(queueKey(q));
    const leader = known !== undefined && known.entry.partition !== 0 ? known.owner : this.merged.leaders.get(partition) ?? 0;
    return { partition, leader, members, online: members.filter((id) => this.merged.online.has(id)) };
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const ch of this.channels.values()) ch.close();
  }
}

function toEntry(e: warren.v1.QueueStatsEntry.$Properties): OwnerEntry {
  return {
    ref: { vhost: e.queue?.vhost ?? '', name: e.queue?.name ?? '' },
    partition: e.queue?.partition ?? 0,
    stats: { messages: u64(e.messages), unacked: u64(e.unacked), consumers: e.consumers ?? 0, bytes: u64(e.bytes) },
    diskBytes: u64(e.diskBytes),
  };
}

function toNode(name: string, n: warren.v1.NodeFigures.$Properties): NodeJson {
  return {
    name, type: 'disc', running: true, os_pid: String(n.osPid ?? 0), uptime: u64(n.uptimeMs), mem_used: u64(n.memUsed),
    mem_limit: u64(n.memLimit), mem_alarm: n.memAlarm ?? false,
    ...(n.diskFree !== undefined && n.diskFree !== null ? { disk_free: u64(n.diskFree) } : {}), disk_free_alarm: false,
    ...(n.fdUsed !== undefined && n.fdUsed !== null ? { fd_used: n.fdUsed } : {}), sockets_used: n.socketsUsed ?? 0,
    processors: n.processors ?? 0,
  };
}

function toPartition(p: warren.v1.PartitionStats.$Properties): PartitionInfo {
  return {
    partition: p.partition ?? 0, queues: p.queues ?? 0, messages: u64(p.messages), message_bytes: u64(p.messageBytes),
    disk_bytes: u64(p.diskBytes), log_disk_bytes: u64(p.logDiskBytes), log_entries: u64(p.logEntries),
    first_index: u64(p.firstIndex), last_index: u64(p.lastIndex), commit_index: u64(p.commitIndex),
    applied_index: u64(p.appliedIndex), log_bytes: u64(p.logBytes), term: u64(p.term), leader: p.leader ?? 0,
    sessions: p.sessions ?? [],
  };
}
