// The metadata group over the network (issue #8): three owner replicas of group 0 in this process,
// each with its own LevelDB, RaftHost and gRPC server (Raft and Meta on one port, 127.0.0.1), and
// frontends whose MetaPort is createMeta(RemoteMetaBackend). Everything crosses real gRPC.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MetaWatcher } from '../../src/cluster/meta-watcher.js';
import { AmqpError } from '../../src/amqp/errors.js';
import type { ExchangeDeclaration } from '../../src/frontend/ports.js';
import { RpcChannel } from '../../src/rpc/server.js';
import { eventually, startOwners, stateOf, withTimeout, type Cluster, type Frontend, type Owner } from './meta-owners.js';

const TAIL_ENTRIES = 64;

const exchange = (name: string, durable = true): ExchangeDeclaration => ({
  vhost: '/', name, type: 'direct', passive: false, durable, autoDelete: false, internal: false, arguments: {},
});

function routes(f: Frontend, exchangeName: string, key: string): string[] {
  const out: string[] = [];
  try {
    f.meta.port.route('/', exchangeName, key, undefined, out);
  } catch {
    return []; // no such exchange (yet)
  }
  return out;
}

async function declareBound(f: Frontend, x: string, q: string, key: string): Promise<void> {
  await f.meta.port.declareExchange(exchange(x));
  await f.meta.port.declareQueue({
    vhost: '/', name: q, passive: false, durable: true, exclusive: false, autoDelete: false, arguments: {}, connectionId: 'conn-1',
  });
  await f.meta.port.bindQueue('/', q, x, key, {}, 'conn-1');
}

/** Every live owner has applied the same index, and the given caches hold exactly their state. */
async function converged(c: Cluster, caches: readonly Frontend[]): Promise<void> {
  const live = (): Owner[] => c.owners.filter((o) => !o.stopped);
  await eventually(() => {
    const idx = live().map((o) => o.replica.app.appliedIndex);
    return idx.every((i) => i === idx[0]) && caches.every((f) => f.backend.appliedIndex === idx[0]);
  }, 10_000, 'owners and caches at one index');
  const expected = stateOf(live()[0]!.replica.app.machine);
  for (const o of live()) assert.deepEqual(stateOf(o.replica.app.machine), expected, `owner ${o.id}`);
  for (const f of caches) assert.deepEqual(stateOf(f.backend.machine), expected, 'frontend cache');
}

describe('metadata group over gRPC: 3 owners, remote frontends', { timeout: 120_000 }, () => {
  let c: Cluster;
  let leader: Owner;
  let a: Frontend;
  let b: Frontend;

  before(async () => {
    c = await startOwners(3, { tail: { maxEntries: TAIL_ENTRIES, maxBytes: 1024 * 1024 }, progressMs: 200 });
    leader = await c.leader();
    const followers = c.owners.filter((o) => o !== leader);
    // A watches a follower, so its cache trails the leader's apply: an answer sent before the
    // cache reached the entry would not route.
    a = await c.frontend({ watchStart: c.owners.indexOf(followers[0]!) });
    b = await c.frontend({ watchStart: c.owners.indexOf(followers[1]!) });
  });

  after(async () => {
    await c.close();
  });

  test('a change made through frontend A routes through A at once, and through B shortly after', async () => {
    for (let i = 0; i < 5; i++) {
      await declareBound(a, `x-${i}`, `q-${i}`, `k-${i}`);
      assert.deepEqual(routes(a, `x-${i}`, `k-${i}`), [`q-${i}`], 'routable as soon as bindQueue resolved');
    }
    await eventually(() => routes(b, 'x-4', 'k-4')[0] === 'q-4', 5_000, 'B to see the binding');
    await converged(c, [a, b]);
  });

  test('a refused command rejects with RabbitMQ\'s 406 text and changes nothing', async () => {
    await converged(c, [a, b]);
    const before = stateOf(leader.replica.app.machine);
    const refusedBefore = a.backend.cache.stats.refused;
    await assert.rejects(a.meta.port.declareExchange(exchange('x-0', false)), (err: unknown) => {
      assert.ok(err instanceof AmqpError);
      assert.equal(err.replyCode, 406);
      assert.equal(err.replyText,
        "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'x-0' in vhost '/': received 'false' but current is 'true'");
      return true;
    });
    // It went through the log (A's cache refused it again), and nobody changed.
    assert.equal(a.backend.cache.stats.refused, refusedBefore + 1);
    await converged(c, [a, b]);
    assert.deepEqual(stateOf(leader.replica.app.machine), before);
    assert.equal(a.backend.machine.getExchange('/', 'x-0')?.durable, true);
  });

  test('a propose sent to a follower is redirected to the leader', async () => {
    const follower = c.owners.find((o) => o !== leader)!;
    // This frontend's owner list starts with a follower: its first Propose goes there.
    const order = [follower, ...c.owners.filter((o) => o !== follower)].map((o) => ({ id: o.id, address: o.address }));
    const f = await c.frontend({ owners: order });
    const notLeaderBefore = follower.service.stats.notLeader;
    await declareBound(f, 'x-redirect', 'q-redirect', 'k');
    assert.ok(f.backend.stats.redirects >= 1, 'the frontend followed a NotLeader hint');
    assert.equal(follower.service.stats.notLeader, notLeaderBefore + 1, 'the follower answered NotLeader once');
    assert.equal(f.backend.stats.retries, 0, 'the hint led straight to the leader');
    assert.deepEqual(routes(f, 'x-redirect', 'k'), ['q-redirect']);
    f.backend.close();
  });

  test('the metadata leader stops: a new one is elected, changes still work, its watcher moves on', async () => {
    // W watches the leader that is about to stop.
    const w = await c.frontend({ watchStart: c.owners.indexOf(leader) });
    assert.equal(w.backend.watcher.watching?.id, leader.id);
    await converged(c, [a, b, w]);
    const old = leader;
    const tailStartsBefore = c.owners.reduce((n, o) => n + o.service.hub.stats.tailStarts, 0);
    await old.stop();
    leader = await c.leader();
    assert.notEqual(leader.id, old.id);

    await declareBound(a, 'x-after', 'q-after', 'k');
    assert.deepEqual(routes(a, 'x-after', 'k'), ['q-after']);
    await a.meta.port.unbindQueue('/', 'q-0', 'x-0', 'k-0', {}, 'conn-1');
    assert.deepEqual(routes(a, 'x-0', 'k-0'), []);

    await eventually(() => w.backend.watcher.watching !== undefined && w.backend.watcher.watching.id !== old.id, 10_000, 'W to watch another owner');
    await eventually(() => routes(w, 'x-after', 'k')[0] === 'q-after', 10_000, 'W to see the change');
    await converged(c, [a, b, w]);
    assert.ok(w.backend.watcher.stats.connects >= 2);
    // W resumed from its applied index: entries from the new owner's tail, not a snapshot.
    assert.ok(c.owners.reduce((n, o) => n + o.service.hub.stats.tailStarts, 0) > tailStartsBefore);
  });

  test(`a watcher resuming after more than ${TAIL_ENTRIES} entries gets the state as a snapshot`, async () => {
    const d = await c.frontend();
    await converged(c, [a, d]);
    // D stops watching; its cache stays at its index while the tail moves past it.
    d.backend.watcher.close();
    const left = d.backend.appliedIndex;
    for (let i = 0; i < TAIL_ENTRIES + 4; i++) await a.meta.port.declareExchange(exchange(`x-many-${i}`));
    const live = c.owners.filter((o) => !o.stopped);
    assert.ok(live.every((o) => o.replica.app.appliedIndex > left + TAIL_ENTRIES));
    const snapshotsServed = (): number => live.reduce((n, o) => n + o.service.hub.stats.snapshotStarts, 0);
    const servedBefore = snapshotsServed();
    const cacheSnapshots = d.backend.cache.stats.snapshots;

    const channels = new Map<string, RpcChannel>();
    const channel = (addr: string): RpcChannel => channels.get(addr) ?? channels.set(addr, new RpcChannel(addr)).get(addr)!;
    const resumed = new MetaWatcher(live.map((o) => ({ id: o.id, address: o.address })), d.backend.cache, channel);
    try {
      await withTimeout(new Promise<void>((r) => {
        const poll = setInterval(() => {
          if (d.backend.cache.stats.snapshots > cacheSnapshots) { clearInterval(poll); r(); }
        }, 10);
      }), 10_000, 'snapshot applied');
      assert.equal(snapshotsServed(), servedBefore + 1, 'an owner served the snapshot path');
      assert.equal(d.backend.cache.stats.snapshots, cacheSnapshots + 1);
      await converged(c, [a, d]);
      assert.ok(d.backend.machine.getExchange('/', `x-many-${TAIL_ENTRIES + 3}`));
    } finally {
      resumed.close();
      for (const ch of channels.values()) ch.close();
    }
  });
});
