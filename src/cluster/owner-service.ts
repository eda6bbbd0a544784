// warren.v1.Owner on an owner node (proto/warren/v1/owner.proto, docs/cluster-contracts.md): the
// frontends' OwnerClient calls, carried out by this node's DurableOwner (the partitions it
// replicates; only their leader answers, the others say NotLeader with a hint and propose nothing)
// and its LocalOwner (the transient queues it holds in memory, `partition = 0`). Requests name the
// frontend's session, so consumers, getters, checked-out messages and enqueue deduplication are
// the session's in the replicated state.
import type { NodeJson, PartitionInfo } from '../admin/source.js';
import { AmqpError, ReplyCode } from '../amqp/errors.js';
import type { Logger } from '../log.js';
import { decodeMeta } from '../meta/codec.js';
import type { ConsumeOptions, EnqueueOutcome, QueueRef, QueueStats, Settlement } from '../owner/api.js';
import type { DurableOwner, EnqueueTarget } from '../owner/durable.js';
import type { LocalOwner } from '../owner/local.js';
import { u64 } from '../partition/codec.js';
import { ownerId, publishedMessage } from '../partition/index.js';
import type { warren } from '../proto/owner.js';
import { OWNER } from '../rpc/contracts.js';
import type { RpcServer } from '../rpc/server.js';
import { SessionStreams } from './session-streams.js';
import { NotLeaderReply, UnavailableReply, toWire, unavailableWire, type WireError } from './wire.js';


type WireQueue = warren.v1.QueueRef.$Shape | null | undefined;

export interface OwnerServiceDeps {
  /**
   * This owner's partitions; undefined until they are open (a first start waits for the placement
   * stored in the metadata group): a request for a durable queue then finds no leader here.
   */
  readonly durable: () => DurableOwner | undefined;
  readonly transient: LocalOwner;
  /** gRPC address of an owner by its Raft id (NotLeader hints). */
  readonly addressOf: (id: number) => string;
  readonly sessions: SessionStreams;
  readonly log: Logger;
  /** What this owner's partitions hold on its disk (src/node/disk-stats.ts); undefined until they are open. */
  readonly disk: () => OwnerDisk | undefined;
  /** This process's figures as GET /api/nodes shows them (the owner's own management API row). */
  readonly node: () => Promise<NodeJson>;
}

export interface OwnerDisk {
  queue(q: QueueRef): Promise<{ readonly partition: number; readonly diskBytes: number } | undefined>;
  partitions(only?: (partition: number) => boolean): Promise<PartitionInfo[]>;
}

const OUTCOME: Record<EnqueueOutcome, number> = { accepted: 1, rejected: 2 };
const SETTLE: Record<number, Settlement> = { 1: 'ack', 2: 'requeue', 3: 'discard' };

export function serveOwner(server: RpcServer, deps: OwnerServiceDeps): void {
  const { transient, sessions } = deps;
  // Only after target() said the queue is durable and led here, so its partitions are open.
  const durable = (): DurableOwner => deps.durable() ?? unreachable('a durable queue served before the partitions opened');
  // A transient queue's consumers and getters on the LocalOwner are named as a partition names
  // them, ownerId(session, consumer): frontend sessions' ids stay apart, and a gone session's
  // consumers are found by that prefix.

  /** The queue as the request names it; throws NotLeader when its partition is led elsewhere. */
  const target = (wq: WireQueue): { q: QueueRef; durable: boolean } => {
    const q = { vhost: wq?.vhost ?? '', name: wq?.name ?? '' };
    const partition = wq?.partition ?? 0;
    if (partition === 0) return { q, durable: false };
    const open = deps.durable();
    if (open === undefined) throw new NotLeaderReply(partition, 0, '');
    const at = open.leadership(q);
    if (at.partition !== partition) throw new AmqpError(ReplyCode.InternalError, `queue '${q.name}' is in partition ${at.partition}, not ${partition}`);
    if (!at.leads) throw new NotLeaderReply(partition, at.leader, at.leader ? deps.addressOf(at.leader) : '');
    // Elected, but entries committed before its term may not be applied yet: a queue declared just
    // before the election could look missing (an enqueue to it would be confirmed and dropped). The
    // frontend retries; the new leader's no-op commits within a heartbeat or two.
    if (!at.serving) throw new UnavailableReply(`partition ${partition}: its new leader is still applying earlier entries`);
    return { q, durable: true };
  };
  const wire = (err: unknown, group: number): WireError => toWire(err, group, deps.addressOf);
  const answer = async <R>(group: number, run: () => Promise<R>): Promise<R | { error: WireError }> => {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof AmqpError) && !(err instanceof NotLeaderReply) && !(err instanceof UnavailableReply)) deps.log.warn({ err }, 'owner request failed');
      return { error: wire(err, group) };
    }
  };

  server.unary(OWNER.declareQueue, (req) => answer(req.queue?.partition ?? 0, async () => {
    const t = target(req.queue);
    const spec = { arguments: decodeMeta<Record<string, unknown>>(req.arguments ?? new Uint8Array()) ?? {}, autoDelete: req.autoDelete ?? false, passive: req.passive ?? false };
    const c = await (t.durable ? durable().declareQueue(t.q, spec) : transient.declareQueue(t.q, spec));
    return { messageCount: c.messages, consumerCount: c.consumers };
  }));

  server.bidi(OWNER.enqueue, (stream) => {
    // A frontend may have several batches of one partition in flight on its stream. Deduplication
    // keeps the highest seq per session, so a later batch must never commit unless the earlier ones
    // did: batches proposed by one leader in one term are in log order, and a later one commits
    // only with its predecessors. So a batch is refused (Unavailable: the frontend resends it after
    // the earlier ones were answered) while batches proposed in another term are still pending.
    const inFlight = new Map<number, { term: number; count: number }>();
    stream.onData((batch) => {
      const batchId = batch.batchId ?? 0;
      const items = batch.items ?? [];
      const partition = batch.partition ?? 0;
      const results: warren.v1.EnqueueResult.$Properties[] = new Array(items.length);
      let pending = items.length;
      let failure: unknown;
      let counted = false;
      const ack = (error?: WireError): void => {
        if (counted) {
          const f = inFlight.get(partition);
          if (f !== undefined && --f.count === 0) inFlight.delete(partition);
        }
        stream.write(error ? { batchId, error } : { batchId, results });
      };
      if (partition !== 0 && items.length > 0) {
        const term = deps.durable()?.termOf(partition) ?? 0;
        const f = inFlight.get(partition);
        if (f !== undefined && f.term !== term) {
          ack(unavailableWire(`earlier batches of partition ${partition} are pending from term ${f.term}`));
          return;
        }
        inFlight.set(partition, { term, count: (f?.count ?? 0) + 1 });
        counted = true;
      }
      /** An item was not committed (leadership lost meanwhile): the whole batch is answered Unavailable and resent; its (session, seq) make the resend exact. */
      const failed = (err: Error): void => {
        failure ??= err;
        if (--pending === 0) ack(wire(failure, batch.partition ?? 0));
      };
      if (pending === 0) {
        ack();
        return;
      }
      try {
        // Consecutive items for the same queue (the usual batch) share one lookup.
        let vhost: string | null | undefined;
        let name: string | undefined;
        let t: { q: QueueRef; durable: boolean } | undefined;
        let to: EnqueueTarget | undefined;
        items.forEach((item, i) => {
          const queues = item.queues ?? [];
          if (queues.length !== 1) throw new AmqpError(ReplyCode.InternalError, 'an enqueue item names exactly one queue');
          if (t === undefined || item.vhost !== vhost || queues[0] !== name) {
            vhost = item.vhost;
            name = queues[0];
            t = target({ vhost: item.vhost ?? '', name: queues[0] as string, partition });
            to = t.durable ? durable().enqueueTarget(t.q) : undefined;
          }
          const done = (outcome: EnqueueOutcome, backlogged: boolean): void => {
            results[i] = { outcomes: [OUTCOME[outcome]], backlogged: [backlogged] };
            if (--pending === 0) ack(failure === undefined ? undefined : wire(failure, partition));
          };
          const exchange = item.exchange ?? '';
          const routingKey = item.routingKey ?? '';
          const header = item.header ?? new Uint8Array();
          const body = item.body ?? new Uint8Array();
          if (to !== undefined) {
            const content = {
              exchange, routingKey, header, body,
              priority: item.priority ?? undefined, expirationMs: item.expirationMs == null ? undefined : u64(item.expirationMs),
            };
            durable().enqueueTo(to, content, item.session ?? '', u64(item.seq), done, failed);
          } else {
            transient.enqueue(t.q, publishedMessage(exchange, routingKey, header, body), done);
          }
        });
      } catch (err) {
        // Refused before anything was proposed (a whole batch is one partition's): the frontend resends it.
        pending = -1;
        ack(wire(err, batch.partition ?? 0));
      }
    });
  });

  server.bidi(OWNER.consume, (stream) => {
    let session: string | undefined;
    const writer = { write: (ev: warren.v1.ConsumeEvent.$Properties) => stream.write(ev) };
    const done = (requestId: unknown, p: Promise<unknown>, group: number): void => {
      p.then(() => stream.write({ done: { requestId: requestId as number } }), (err: unknown) => {
        stream.write({ done: { requestId: requestId as number, error: wire(err, group) } });
      });
    };
    stream.onData((req) => {
      if (req.open) {
        session = req.open.session ?? '';
        sessions.attach(session, writer);
        return;
      }
      if (session === undefined) {
        stream.cancel(); // a Consume stream starts with open
        return;
      }
      const s = session;
      if (req.subscribe) {
        const r = req.subscribe;
        const group = r.queue?.partition ?? 0;
        done(r.requestId, (async () => {
          const t = target(r.queue);
          const opts: ConsumeOptions = { prefetch: r.prefetch ?? 0, priority: r.priority ?? 0, noAck: r.noAck ?? false, exclusive: r.exclusive ?? false };
          const consumer = r.consumer ?? '';
          if (t.durable) await durable().consume(t.q, consumer, opts, sessions.sink(s, consumer), s);
          else await transient.consume(t.q, ownerId(s, consumer), opts, sessions.sink(s, consumer));
        })(), group);
      } else if (req.cancel) {
        const r = req.cancel;
        done(r.requestId, (async () => {
          const t = target(r.queue);
          const consumer = r.consumer ?? '';
          sessions.drop(s, consumer);
          if (t.durable) durable().cancel(t.q, consumer, s);
          else transient.cancel(t.q, ownerId(s, consumer));
        })(), r.queue?.partition ?? 0);
      } else if (req.flow) {
        const r = req.flow;
        done(r.requestId, (async () => {
          const t = target(r.queue);
          const consumer = r.consumer ?? '';
          if (t.durable) durable().setFlow(t.q, consumer, r.active ?? true, s);
          else transient.setFlow(t.q, ownerId(s, consumer), r.active ?? true);
        })(), r.queue?.partition ?? 0);
      }
    });
    stream.onClose(() => {
      if (session !== undefined) sessions.detach(session, writer);
    });
  });

  server.bidi(OWNER.settle, (stream) => {
    stream.onData((batch) => {
      const batchId = batch.batchId ?? 0;
      const items = batch.items ?? [];
      let pending = items.length + 1;
      let failure: unknown;
      const settled = (err?: Error): void => {
        if (err !== undefined) failure ??= err;
        if (--pending !== 0) return;
        // One settlement not committed (leadership lost meanwhile): the frontend resends the batch to the new leader; settling twice is harmless.
        stream.write(failure === undefined ? { batchId } : { batchId, error: wire(failure, batch.partition ?? 0) });
      };
      try {
        for (const item of items) {
          const t = target({ vhost: item.vhost ?? '', name: item.queue ?? '', partition: batch.partition ?? 0 });
          const how = SETTLE[item.kind ?? 0];
          if (how === undefined) throw new AmqpError(ReplyCode.InternalError, `unknown settlement kind ${item.kind}`);
          const ids: number[] = (item.msgIds ?? []).map(u64);
          const session = item.session ?? '';
          const consumer = item.consumer ?? '';
          if (t.durable) durable().settle(t.q, consumer, ids, how, settled, session);
          else transient.settle(t.q, ownerId(session, consumer), ids, how, () => settled());
        }
        settled();
      } catch (err) {
        pending = -1;
        stream.write({ batchId, error: wire(err, batch.partition ?? 0) });
      }
    });
  });

  server.unary(OWNER.get, (req) => answer(req.queue?.partition ?? 0, async () => {
    const t = target(req.queue);
    const session = req.session ?? '';
    const getter = req.getter ?? '';
    const r = t.durable
      ? await durable().get(t.q, getter, req.noAck ?? false, session)
      : await transient.get(t.q, ownerId(session, getter), req.noAck ?? false);
    if (r === undefined) return {};
    const m = r.delivery.message;
    return {
      messageCount: r.messageCount,
      delivery: {
        queue: r.delivery.queue, msgId: r.delivery.msgId, redelivered: r.delivery.redelivered, exchange: m.exchange, routingKey: m.routingKey,
        header: m.header ?? new Uint8Array(), body: m.body,
      },
    };
  }));

  server.unary(OWNER.purge, (req) => answer(req.queue?.partition ?? 0, async () => {
    const t = target(req.queue);
    return { messageCount: await (t.durable ? durable().purge(t.q) : transient.purge(t.q)) };
  }));

  server.unary(OWNER.deleteQueue, (req) => answer(req.queue?.partition ?? 0, async () => {
    const t = target(req.queue);
    const conditions = { ifUnused: req.ifUnused ?? false, ifEmpty: req.ifEmpty ?? false };
    return { messageCount: await (t.durable ? durable().deleteQueue(t.q, conditions) : transient.deleteQueue(t.q, conditions)) };
  }));

  server.unary(OWNER.queueStats, (req) => answer(0, async () => {
    const entries: warren.v1.QueueStatsEntry.$Properties[] = [];
    const disk = deps.disk();
    const durableDisk: Promise<void>[] = [];
    const add = (queue: warren.v1.QueueRef.$Properties, st: QueueStats): void => {
      const e: warren.v1.QueueStatsEntry.$Properties = { queue, messages: st.messages, unacked: st.unacked, consumers: st.consumers, bytes: st.bytes };
      entries.push(e);
      if (req.disk === true && (queue.partition ?? 0) !== 0 && disk !== undefined) {
        durableDisk.push(disk.queue({ vhost: queue.vhost ?? '', name: queue.name ?? '' }).then((d) => { e.diskBytes = d?.diskBytes ?? 0; }));
      }
    };
    const asked = req.queues ?? [];
    const open = deps.durable(); // (undefined until the partitions are open)
    if (asked.length === 0) {
      // Every queue served here (the proto's contract): its transient queues, and those of the partitions it leads.
      for (const { ref, stats } of transient.list()) add({ ...ref, partition: 0 }, stats);
      if (open !== undefined) {
        for (const { ref, stats } of open.list()) {
          const at = open.leadership(ref);
          if (at.leads) add({ ...ref, partition: at.partition }, stats);
        }
      }
    }
    for (const wq of asked) {
      const q = { vhost: wq.vhost ?? '', name: wq.name ?? '' };
      const st = (wq.partition ?? 0) === 0 ? transient.stats(q) : open?.leadership(q).leads === true ? open.stats(q) : undefined;
      if (st !== undefined) add(wq, st);
    }
    await Promise.all(durableDisk);
    return { entries };
  }));

  server.unary(OWNER.partitions, () => answer(0, async () => {
    const open = deps.durable();
    const disk = deps.disk();
    if (open === undefined || disk === undefined) return { partitions: [] };
    const led = await disk.partitions((p) => open.leadsPartition(p));
    return {
      partitions: led.map((p): warren.v1.PartitionStats.$Properties => ({
        partition: p.partition, queues: p.queues, messages: p.messages, messageBytes: p.message_bytes, diskBytes: p.disk_bytes,
        logDiskBytes: p.log_disk_bytes, logEntries: p.log_entries, firstIndex: p.first_index, lastIndex: p.last_index,
        commitIndex: p.commit_index, appliedIndex: p.applied_index, logBytes: p.log_bytes, term: p.term, leader: p.leader,
        sessions: [...p.sessions ?? []],
      })),
    };
  }));

  server.unary(OWNER.node, () => answer(0, async () => {
    const n = await deps.node();
    return {
      node: {
        osPid: Number(n.os_pid ?? 0), uptimeMs: n.uptime ?? 0, memUsed: n.mem_used ?? 0, memLimit: n.mem_limit ?? 0,
        memAlarm: n.mem_alarm ?? false, diskFree: n.disk_free ?? null, fdUsed: n.fd_used ?? null, socketsUsed: n.sockets_used ?? 0,
        processors: n.processors ?? 0,
      },
    };
  }));
}

function unreachable(what: string): never {
  throw new Error(`owner service: ${what}`);
}
