// A frontend's metadata cache (src/cluster/meta-cache.ts) fed Watch events through the real codec:
// snapshot chunks rebuild the machine, entries apply once each (a resumed stream may repeat some),
// a refused command changes nothing, waiters and readiness follow the applied index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetaCache, YOUNG_EXCHANGE_MS } from '../../../src/cluster/meta-cache.js';
import { chunks } from '../../../src/cluster/meta-tail.js';
import { encodeMeta } from '../../../src/meta/codec.js';
import { MetaMachine } from '../../../src/meta/machine.js';
import type { MetaCommand } from '../../../src/meta/types.js';
import type { warren } from '../../../src/proto/meta.js';
import { META } from '../../../src/rpc/contracts.js';

const wire = (ev: warren.v1.IWatchEvent): warren.v1.WatchEvent => META.watch.decodeResponse(META.watch.encodeResponse(ev));
const exchange = (name: string, durable = true): MetaCommand => ({
  type: 'exchange.declare', vhost: '/', name, exchangeType: 'direct', passive: false, durable, autoDelete: false, internal: false,
  arguments: { 'alternate-exchange': 'ae' },
});

function snapshotEvents(machine: MetaMachine, index: number, size: number): warren.v1.WatchEvent[] {
  const evs = chunks(encodeMeta(machine.snapshot()), size).map((data) => wire({ snapshotChunk: { data } }));
  return [...evs, wire({ snapshotDone: { index } })];
}

test('a chunked snapshot, entries and a refused entry give exactly the owner\'s state', async () => {
  const owner = new MetaMachine();
  owner.apply(exchange('x1'));
  const cache = new MetaCache();
  for (const ev of snapshotEvents(owner, 7, 64)) assert.equal(cache.onEvent(ev), false);
  assert.equal(cache.applied, 7);
  assert.equal(cache.ready, false, 'ready only with a Progress');
  assert.equal(cache.resumeFrom, 7);

  const next = exchange('x2');
  const refused = { ...exchange('x1'), durable: false } as MetaCommand; // inequivalent re-declare
  owner.apply(next);
  assert.throws(() => owner.apply(refused));
  const waited = cache.waitFor(9);
  let done = false;
  void waited.then(() => { done = true; });
  cache.onEvent(wire({ entries: { entries: [{ index: 8, command: encodeMeta(next) }] } }));
  await Promise.resolve();
  assert.equal(done, false);
  cache.onEvent(wire({ entries: { entries: [{ index: 8, command: encodeMeta(next) }, { index: 9, command: encodeMeta(refused) }] } }));
  await waited;
  assert.equal(cache.stats.entries, 2, 'the repeated index 8 applied once');
  assert.equal(cache.stats.refused, 1);
  assert.equal(cache.onEvent(wire({ progress: { appliedIndex: 10 } })), true);
  assert.equal(cache.ready, true);
  assert.equal(cache.applied, 10);
  assert.deepEqual(cache.machine.snapshot(), owner.snapshot());
  assert.equal(cache.machine.getExchange('/', 'x1')?.arguments['alternate-exchange'], 'ae');
});

test('nothing is applied without a state, and an older snapshot never takes the cache back', () => {
  const cache = new MetaCache();
  cache.onEvent(wire({ entries: { entries: [{ index: 1, command: encodeMeta(exchange('early')) }] } }));
  assert.equal(cache.onEvent(wire({ progress: { appliedIndex: 1 } })), false);
  assert.equal(cache.resumeFrom, 0);
  assert.equal(cache.machine.getExchange('/', 'early'), undefined);

  const newer = new MetaMachine();
  newer.apply(exchange('new'));
  for (const ev of snapshotEvents(newer, 20, 1_000)) cache.onEvent(ev);
  const older = new MetaMachine();
  for (const ev of snapshotEvents(older, 15, 1_000)) cache.onEvent(ev);
  assert.equal(cache.applied, 20);
  assert.ok(cache.machine.getExchange('/', 'new'));
  assert.equal(cache.stats.snapshots, 1);
});

test('a snapshot half received on a broken stream is dropped when the next stream starts', () => {
  const owner = new MetaMachine();
  owner.apply(exchange('a'));
  const cache = new MetaCache();
  const evs = snapshotEvents(owner, 3, 32);
  assert.ok(evs.length > 3);
  cache.onEvent(evs[0]!);
  cache.streamStarted();
  for (const ev of evs) cache.onEvent(ev);
  assert.deepEqual(cache.machine.snapshot(), owner.snapshot());
});

test('an exchange created by an entry applied here is young for YOUNG_EXCHANGE_MS; re-declares and snapshots make none young', () => {
  let now = 1_000_000;
  const owner = new MetaMachine();
  const cache = new MetaCache(undefined, () => now);
  for (const ev of snapshotEvents(owner, 1, 1024)) cache.onEvent(ev);
  cache.onEvent(wire({ entries: { entries: [{ index: 2, command: encodeMeta(exchange('fresh')) }] } }));
  assert.equal(cache.recentlyCreated('/', 'fresh'), true);
  assert.equal(cache.recentlyCreated('/', 'amq.direct'), false, 'from the snapshot: not created by an entry');
  now += YOUNG_EXCHANGE_MS - 1;
  cache.onEvent(wire({ entries: { entries: [{ index: 3, command: encodeMeta(exchange('fresh')) }] } }));
  assert.equal(cache.recentlyCreated('/', 'fresh'), true, 'a re-declare does not make it younger, nor older');
  now += 1;
  assert.equal(cache.recentlyCreated('/', 'fresh'), false);
});
