// Issue 8's "front-ends are stateless" drill against a real cluster (`warren cluster`: 3 owners, 2
// frontends, haproxy): confirmed publishing and acked consuming through the balancer on a durable
// queue while frontend 101 and then 102 are killed with kill -9 (the launcher restarts each). The
// clients reconnect through the balancer and re-consume; every confirmed body must arrive (lost =
// 0). In each round a "holder" consumer on the doomed frontend keeps some deliveries unacked: once
// the frontend's session lease has expired (DEFAULT_TTL_MS without a renewal) the owners must
// come back with redelivered=true; the time until they did is reported.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import amqp, { type ChannelModel } from 'amqplib';
import { DEFAULT_TTL_MS } from '../../src/meta/sessions.js';
import { waitFor } from '../launcher/harness.js';
import { ackingConsumer, ConfirmedPublisher, getJson, haproxyMissing, RealCluster, Received } from './amqp-load.js';

const QUEUE = 'fe-kill-orders';
const HELD = 20;
/** The leader's lease check (0.5 s), the owners' sweep (1 s) and the commits after the TTL; the margin covers a loaded machine. */
const REDELIVERY_BOUND_MS = DEFAULT_TTL_MS + 8_000;

let cluster: RealCluster | undefined;
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c().catch(() => {});
  await cluster?.stop();
});

/** Which frontend (node id) serves the connection named `name`: its `node` in the cluster-wide /api/connections. */
async function frontendOf(c: RealCluster, name: string): Promise<number | undefined> {
  const conns = await getJson<Array<{ node?: string; client_properties?: { connection_name?: string } }>>(`${c.state().lb.http}/api/connections`);
  const node = conns?.find((x) => x.client_properties?.connection_name === name)?.node;
  const id = node === undefined ? undefined : /^warren@frontend-(\d+)$/.exec(node)?.[1];
  return id === undefined ? undefined : Number(id);
}

/**
 * A consumer through the balancer that lands on frontend `target` and holds HELD deliveries unacked.
 * The balancer is leastconn: connections that land elsewhere stay open (closed once the holder is
 * placed) so the target becomes the least loaded.
 */
async function holderOn(c: RealCluster, target: number, round: number): Promise<{ conn: ChannelModel; held: Set<string> }> {
  const fillers: ChannelModel[] = [];
  try {
    return await placeHolder(c, target, round, fillers);
  } finally {
    await Promise.all(fillers.map((f) => f.close().catch(() => {})));
  }
}

async function placeHolder(c: RealCluster, target: number, round: number, fillers: ChannelModel[]): Promise<{ conn: ChannelModel; held: Set<string> }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const name = `holder-${round}-${attempt}`;
    const conn = await amqp.connect(c.state().lb.amqp, { clientProperties: { connection_name: name } });
    conn.on('error', () => {});
    const on = await waitFor(`${name} listed`, () => frontendOf(c, name), (id) => id !== undefined, 10_000);
    if (on !== target) {
      fillers.push(conn);
      continue;
    }
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    await ch.prefetch(HELD);
    const held = new Set<string>();
    await ch.consume(QUEUE, (m) => { if (m !== null) held.add(m.content.toString()); });
    await waitFor(`${name} holding ${HELD}`, () => held.size, (n) => n >= HELD, 20_000);
    return { conn, held };
  }
  throw new Error(`no connection through the balancer landed on frontend ${target}`);
}

test('kill -9 each frontend in turn under load: clients reconnect, lost = 0, held deliveries come back redelivered', { skip: haproxyMissing, timeout: 180_000 }, async () => {
  const t0 = Date.now();
  cluster = await RealCluster.start();
  const startupMs = Date.now() - t0;
  const url = cluster.state().lb.amqp;

  const publisher = new ConfirmedPublisher(url, QUEUE);
  cleanups.push(() => publisher.stop());
  await publisher.start();
  const received = new Received();
  const consumers = [ackingConsumer(url, QUEUE, 'consumer-a', received), ackingConsumer(url, QUEUE, 'consumer-b', received)];
  for (const c of consumers) cleanups.push(() => c.stop());
  await Promise.all(consumers.map((c) => c.start()));

  const rounds: string[] = [];
  for (const [round, victim] of [101, 102].entries()) {
    await waitFor('confirms flowing', () => publisher.confirmed.size, (n) => n >= (round + 1) * 1000, 60_000);
    const { held } = await holderOn(cluster, victim, round);
    const where = await Promise.all(['publisher', 'consumer-a', 'consumer-b'].map((n) => frontendOf(cluster!, n)));
    const confirmedBefore = publisher.confirmed.size;
    publisher.longestGapMs = 0;
    const pid = cluster.kill(victim);
    const killedAt = Date.now();

    // The held bodies come back flagged, to the reconnected acking consumers.
    const back = await waitFor(`the ${HELD} held deliveries redelivered`, () => [...held].filter((b) => received.bodies.get(b)?.redelivered === true).length,
      (n) => n === held.size, REDELIVERY_BOUND_MS + 10_000);
    const backAfterMs = Math.max(...[...held].map((b) => received.bodies.get(b)!.at)) - killedAt;
    await cluster.restarted(victim, pid);
    await waitFor('confirms after the kill', () => publisher.confirmed.size, (n) => n >= confirmedBefore + 500, 60_000);
    rounds.push(`frontend ${victim} (publisher/consumers on ${where.join('/')}): ${back} held came back redelivered after ${backAfterMs} ms, longest confirm gap ${publisher.longestGapMs} ms`);
    console.log(rounds.at(-1));
    assert.ok(backAfterMs <= REDELIVERY_BOUND_MS, `held deliveries came back after ${backAfterMs} ms (bound ${REDELIVERY_BOUND_MS})`);
  }

  await publisher.finish();
  await waitFor('every confirmed body received', () => received.missing(publisher.confirmed).length, (n) => n === 0, 60_000);
  // Reconnected clients see the queue and its state through either frontend.
  const q = await getJson<{ name: string; durable: boolean }>(`${cluster.state().lb.http}/api/queues/%2F/${QUEUE}`);
  await Promise.all(consumers.map((c) => c.stop()));

  const lost = received.missing(publisher.confirmed).length;
  // An unflagged second copy is allowed only of a body the publisher sent twice.
  const unexplained = [...received.unflagged].filter((b) => !publisher.resentBodies.has(b));
  const reconnects = consumers.map((c) => c.reconnects).concat(publisher.client.reconnects);
  console.log(`startup ${startupMs} ms; confirmed ${publisher.confirmed.size}, nacked ${publisher.nacked}, resent ${publisher.resent}, ` +
    `received ${received.bodies.size}, lost ${lost}, duplicates flagged ${received.duplicatesFlagged} / unflagged ${received.unflagged.size} ` +
    `(of republished bodies ${received.unflagged.size - unexplained.length}), ` +
    `reconnects (a/b/publisher) ${reconnects.join('/')}\n  ${rounds.join('\n  ')}`);
  assert.equal(lost, 0);
  assert.deepEqual(unexplained, [], 'a body delivered twice without redelivered=true that the publisher did not send twice');
  assert.equal(q?.durable, true, 'the queue is still there through the balancer');
  assert.ok(reconnects.some((n) => n > 0), 'some client lost its frontend and reconnected');
});
