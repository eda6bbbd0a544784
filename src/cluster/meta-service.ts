// The owner's side of warren.v1.Meta for metadata changes and the frontends' caches: Propose and
// Watch (docs/cluster-contracts.md "Meta service"), served on the node's shared gRPC server next to
// Raft, the frontends' session leases (OpenSession, KeepAlive, CloseSession; leases.ts), and the
// placement: GetPlacement answers the stored record, and a leader that finds none proposes the
// first (epoch 1, from its configuration: `bootstrapPlacement`).
//
// Propose only on the metadata leader: any other replica answers NotLeader with the leader it knows
// (id and gRPC address) and proposes nothing, so the frontend resends the same bytes there. On the
// leader the command bytes become the log entry as they are; the answer waits until the entry is
// committed and applied here and carries its index, so the frontend can wait for its own cache to
// reach it. A dropped or timed-out proposal answers Unavailable (outcome unknown). Before it
// answers, the leader waits (boundedly) until every frontend holding a lease has reported its cache
// applied the entry (cache-acks.ts; the reports ride on KeepAlive), so a change one frontend
// answered for is visible through every other.
import { AmqpError } from '../amqp/errors.js';
import { decodeMeta, encodeMeta } from '../meta/codec.js';
import type { PlacementRecord } from '../meta/placement.js';
import type { MetaCommand, MetaResult } from '../meta/types.js';
import { u64 } from '../partition/codec.js';
import type { MetaGroupApp, MetaOutcome } from '../node/meta-group.js';
import type { warren } from '../proto/meta.js';
import type { GroupDriver } from '../raft/node/group.js';
import { META } from '../rpc/contracts.js';
import { RpcChannel, type RpcServer } from '../rpc/server.js';
import { checkRun } from './cluster-run.js';
import { amqpToWire, unavailableWire } from './wire.js';
import { MetaWatchHub, type WatchOptions } from './meta-watch.js';
import { LeaseKeeper } from './leases.js';
import { CacheAcks } from './cache-acks.js';

/** The metadata group's id; partitions are 1..P. */
export const META_GROUP_ID = 0;

export interface MetaServiceDeps {
  readonly app: MetaGroupApp;
  /** This replica's driver of group 0. */
  readonly group: GroupDriver;
  /** Raft id of every metadata voter → the "host:port" of its gRPC server (for NotLeader hints). */
  readonly addresses: ReadonlyMap<number, string>;
  readonly watch?: Partial<WatchOptions>;
  /** How often this replica, while it leads, ends the leases whose deadline passed (default 500 ms). */
  readonly leaseCheckMs?: number;
  /** A lease ended here because its frontend stopped renewing it (for the log). */
  readonly onLeaseExpired?: (lease: number) => void;
  /**
   * The placement this replica proposes, while it leads, when the group stores none (a new
   * cluster): epoch 1 from its configuration. Absent: it never proposes one.
   */
  readonly bootstrapPlacement?: () => PlacementRecord;
  /** The bootstrap placement was stored, or refused (for the log). */
  readonly onPlacementProposed?: (outcome: { index: number } | { refused: string }) => void;
  /**
   * The longest a proposed change waits for every frontend's cache to report it applied before
   * Propose answers (default DEFAULT_CACHE_WAIT_MS; 0: no wait, visibility through the read point only).
   */
  readonly cacheWaitMs?: number;
  /** A change was answered at that bound, before these leases' caches reported it (for the log). */
  readonly onCacheWaitBound?: (index: number, lagging: readonly number[]) => void;
  /**
   * This replica, leading `term`, found the whole cluster restarted and purged the non-durable
   * records (src/cluster/cluster-run.ts), or failed to (for the log).
   */
  readonly onNewRun?: (o: { term: number; exchanges: number; queues: number } | { term: number; failed: string }) => void;
  /** How long a new leader waits for members that do not answer whether they ran on (default 2 s). */
  readonly runCheckWaitMs?: number;
}

/**
 * How long a metadata change waits for a frontend's cache before answering without it: long enough
 * for a live cache under load, short enough that a dead frontend (until its lease expires) or a
 * frozen one costs each change at most this.
 */
export const DEFAULT_CACHE_WAIT_MS = 1_000;

/** How long a new leader waits for one member's answer to FirstLeaderTerm. */
const RUN_ASK_MS = 500;

export interface MetaServiceStats {
  proposals: number;
  /** Proposals answered NotLeader (nothing proposed). */
  notLeader: number;
  refused: number;
  unavailable: number;
}

export interface MetaService {
  readonly hub: MetaWatchHub;
  readonly leases: LeaseKeeper;
  readonly cacheAcks: CacheAcks;
  readonly stats: MetaServiceStats;
  /** Ends every watch (the server itself is the caller's). */
  close(): void;
}

type ProposeResponse = warren.v1.ProposeResponse.$Properties;

/** Registers Meta.Propose and Meta.Watch on `server` (before it listens). */
export function serveMeta(server: RpcServer, deps: MetaServiceDeps): MetaService {
  const hub = new MetaWatchHub(deps.app, deps.watch);
  const stats: MetaServiceStats = { proposals: 0, notLeader: 0, refused: 0, unavailable: 0 };
  const cacheAcks = new CacheAcks({
    openLeases: () => deps.app.machine.sessions.list().map((s) => s.lease),
    boundMs: deps.cacheWaitMs ?? DEFAULT_CACHE_WAIT_MS,
    ...(deps.onCacheWaitBound ? { onBound: deps.onCacheWaitBound } : {}),
  });

  const notLeader = (): ProposeResponse => {
    stats.notLeader++;
    const leader = deps.group.leader();
    const address = leader === 0 ? '' : deps.addresses.get(leader) ?? '';
    return {
      error: {
        notLeader: {
          group: META_GROUP_ID, leaderId: leader === 0 || address === '' ? '' : String(leader),
          leaderAddress: address, term: deps.group.roleInfo().term,
        },
      },
    };
  };

  /** Proposes `command` (encoded) on the leader: the machine's result, its refusal, NotLeader or Unavailable. */
  const propose = async (command: Uint8Array): Promise<ProposeResponse & { outcome?: MetaResult }> => {
    if (!deps.group.isLeader()) return notLeader();
    try {
      const c = await deps.group.propose<MetaOutcome | undefined>(command);
      if (c.result instanceof AmqpError) {
        stats.refused++;
        return { error: amqpToWire(c.result), index: c.index };
      }
      if (c.result === undefined) return { error: unavailableWire('the entry produced no result'), index: c.index };
      return { result: encodeMeta(c.result), index: c.index, outcome: c.result };
    } catch (err) {
      // NotLeaderError comes only from a proposal the core refused at once: nothing was appended.
      if ((err as { code?: string }).code === 'RAFT_NOT_LEADER') return notLeader();
      stats.unavailable++;
      return { error: unavailableWire(err instanceof Error ? err.message : String(err)) };
    }
  };

  server.unary(META.propose, async (req): Promise<ProposeResponse> => {
    stats.proposals++;
    const command = req.command ?? new Uint8Array(0);
    if (!isCommand(command)) {
      // Not worth a log entry: every replica would only answer it 541 (src/meta/apply-entry.ts).
      return { error: { amqp: { replyCode: 541, detail: 'malformed metadata command' } } };
    }
    await runChecked();
    const { outcome: _, ...res } = await propose(command);
    // A change (not a refusal, which changed nothing) is answered once every frontend can see it.
    if (!res.error) await cacheAcks.wait(u64(res.index));
    return res;
  });

  // Leases: opening and ending are entries; a renewal is answered by the leader from memory.
  const proposeCommand = (cmd: MetaCommand) => propose(encodeMeta(cmd));
  const leaseCheckMs = deps.leaseCheckMs ?? 500;
  /** The term this replica leads the metadata group in, or undefined (leases.ts resets on every change). */
  const leadingTerm = (): number | undefined => (deps.group.isLeader() ? deps.group.logStats().term : undefined);
  const leases = new LeaseKeeper({
    machine: () => deps.app.machine, checkEveryMs: leaseCheckMs, leadingTerm,
    propose: async (cmd) => {
      const res = await proposeCommand(cmd);
      if (res.error) throw new Error('lease end not committed');
    },
    ...(deps.onLeaseExpired ? { onExpired: deps.onLeaseExpired } : {}),
  });
  // Bootstrap: a leader that finds no placement stored proposes epoch 1. A second proposal of epoch
  // 1 (a leader change in between) is refused by the machine, so at most one is stored.
  let placing = false;
  const bootstrap = deps.bootstrapPlacement;
  const placeIfMissing = (): void => {
    if (bootstrap === undefined || placing || !deps.group.isLeader() || deps.app.machine.placement !== undefined) return;
    placing = true;
    void proposeCommand({ type: 'placement.set', placement: bootstrap() }).then((res) => {
      if (res.error?.amqp) deps.onPlacementProposed?.({ refused: res.error.amqp.detail ?? '' });
      else if (!res.error) deps.onPlacementProposed?.({ index: u64(res.index) });
    }).finally(() => { placing = false; });
  };
  // A new term's leader first decides whether every owner had stopped (cluster-run.ts): if so, the
  // non-durable records go, before any change a client asks for in this term is proposed.
  const peers = new Map<number, RpcChannel>();
  const askOthers = (): Promise<(number | undefined)[]> => {
    const self = deps.group.leader();
    return Promise.all([...deps.addresses].filter(([id]) => id !== self).map(async ([id, address]) => {
      let ch = peers.get(id);
      if (ch === undefined) peers.set(id, ch = new RpcChannel(address));
      return ch.unary(META.firstLeaderTerm, {}, RUN_ASK_MS).then((r) => (r.error ? undefined : u64(r.term)), () => undefined);
    }));
  };
  const startRun = async (term: number): Promise<void> => {
    const verdict = await checkRun({
      term, own: () => deps.app.firstLeaderTerm, askOthers, ...(deps.runCheckWaitMs !== undefined ? { waitMs: deps.runCheckWaitMs } : {}),
    });
    if (verdict !== 'new' || leadingTerm() !== term) return;
    const res = await proposeCommand({ type: 'transient.purge' });
    deps.onNewRun?.(res.error
      ? { term, failed: res.error.unavailable?.detail ?? res.error.amqp?.detail ?? 'not committed' }
      : { term, exchanges: res.outcome?.deletedExchanges?.length ?? 0, queues: res.outcome?.deletedQueues?.length ?? 0 });
  };
  let run: { term: number; checked: Promise<void> } | undefined;
  /** Resolves once this term's leader has made that decision (at once when not leading). */
  const runChecked = (): Promise<void> => {
    const term = leadingTerm();
    if (term === undefined) return Promise.resolve();
    if (run?.term !== term) run = { term, checked: startRun(term).catch((err: unknown) => deps.onNewRun?.({ term, failed: String(err) })) };
    return run.checked;
  };
  server.unary(META.firstLeaderTerm, async () => ({ term: deps.app.firstLeaderTerm }));

  const leaseTimer = setInterval(() => {
    void runChecked();
    leases.check();
    cacheAcks.prune();
    placeIfMissing();
  }, leaseCheckMs);
  leaseTimer.unref();
  server.unary(META.openSession, async (req) => {
    await runChecked();
    const res = await proposeCommand({
      type: 'session.open', frontend: req.frontend ?? '', ttlMs: req.ttlMs ?? 0, ...(req.httpUrl ? { http: req.httpUrl } : {}),
    });
    const lease = res.outcome?.lease;
    if (res.error || lease === undefined) return { error: res.error ?? unavailableWire('no lease opened') };
    leases.keepAlive(lease);
    return { leaseId: lease, ttlMs: deps.app.machine.sessions.get(lease)?.ttlMs ?? 0, index: res.index ?? 0 };
  });
  server.unary(META.keepAlive, async (req) => {
    if (!leases.isLeading) return notLeader();
    const lease = u64(req.leaseId);
    const answer = leases.keepAlive(lease);
    if (answer.kind === 'unknown') return { error: unavailableWire('lease not applied here yet') };
    if (answer.kind === 'open') cacheAcks.report(lease, u64(req.appliedIndex));
    return answer.kind === 'ended' ? { expired: true } : { ttlMs: answer.ttlMs };
  });
  server.unary(META.closeSession, async (req) => {
    await runChecked();
    const res = await proposeCommand({ type: 'session.end', lease: u64(req.leaseId) });
    return res.error ? { error: res.error } : { index: res.index ?? 0 };
  });

  server.serverStream(META.watch, (req, out) => hub.watch(req, out));

  // A read point: the leader's commit index, confirmed by a quorum (ReadIndex), so a frontend that
  // waits for its cache to apply it sees every change committed before it asked (its "not found"
  // is then not a stale one). With it, the placement this replica has applied at that point (none
  // before the bootstrap), so what it answers is at least as new as anything committed before.
  server.unary(META.getPlacement, async () => {
    if (!deps.group.isLeader()) return notLeader();
    try {
      const index = await deps.group.readIndex();
      const placement = deps.app.machine.placement;
      return placement === undefined ? { index } : { index, placement: placementToWire(placement) };
    } catch (err) {
      if ((err as { code?: string }).code === 'RAFT_NOT_LEADER') return notLeader();
      return { error: unavailableWire(err instanceof Error ? err.message : String(err)) };
    }
  });

  return {
    hub, stats, leases, cacheAcks,
    close: () => {
      clearInterval(leaseTimer);
      for (const ch of peers.values()) ch.close();
      cacheAcks.close();
      hub.close();
    },
  };
}

/** The stored record as warren.v1.Placement: every owner votes in the metadata group. */
export function placementToWire(p: PlacementRecord): warren.v1.Placement.$Properties {
  return {
    epoch: p.epoch, vnodes: p.vnodes, replicationFactor: p.replicationFactor,
    owners: p.owners.map((o) => ({ id: String(o.id), address: o.address, metaVoter: true })),
    partitions: p.replicas.map((replicas, i) => ({ partition: i + 1, replicas: replicas.map(String) })),
  };
}

function isCommand(bytes: Uint8Array): boolean {
  try {
    const cmd = decodeMeta<unknown>(bytes);
    return typeof cmd === 'object' && cmd !== null && typeof (cmd as { type?: unknown }).type === 'string';
  } catch {
    return false;
  }
}
