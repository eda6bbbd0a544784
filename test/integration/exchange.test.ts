// Exchanges: types and routing (direct, fanout, topic, headers), predeclared exchanges,
// declare flags and their equivalence checks, deletion rules, exchange-to-exchange bindings
// and alternate exchanges. Routing is observed with publisher confirms + purge counts
// (see routedTo), so "not routed" is as certain as "routed".
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import {
  channel, closeOf, confirmChannel, connect, expectChannelClose, routedTo, uniq,
} from '../helpers/amqp.js';

let broker: TestBroker;
let conn: ChannelModel;
let ch: ConfirmChannel;
before(async () => { broker = await startBroker(); conn = await connect(broker); ch = await confirmChannel(conn); });
after(async () => { await conn.close(); await broker.stop(); });

/** A channel that is expected to be closed by the server. */
const scratch = async (): Promise<ConfirmChannel> => confirmChannel(conn);

async function queues(n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await ch.assertQueue('', { exclusive: true })).queue);
  return out;
}

describe('predeclared exchanges', () => {
  test('amq.direct, amq.fanout, amq.topic, amq.headers, amq.match exist with their types', async () => {
    for (const [name, type] of [['amq.direct', 'direct'], ['amq.fanout', 'fanout'], ['amq.topic', 'topic'],
      ['amq.headers', 'headers'], ['amq.match', 'headers']] as const) {
      await ch.checkExchange(name);
      await ch.assertExchange(name, type, { durable: true }); // equivalent redeclare is allowed
    }
  });

  test('the default exchange routes by queue name and cannot be declared, deleted or bound', async () => {
    const [q] = await queues(1) as [string];
    assert.deepEqual(await routedTo(ch, '', q, [q]), [q]);
    await expectChannelClose((await scratch()).assertExchange('', 'direct'), 403,
      /ACCESS_REFUSED - operation not permitted on the default exchange/);
    await expectChannelClose((await scratch()).deleteExchange(''), 403,
      /ACCESS_REFUSED - operation not permitted on the default exchange/);
    await expectChannelClose((await scratch()).bindQueue(q, '', 'k'), 403,
      /ACCESS_REFUSED - operation not permitted on the default exchange/);
  });

  test('amq.* exchanges cannot be deleted; new amq.* names are reserved', async () => {
    await expectChannelClose((await scratch()).deleteExchange('amq.direct'), 403,
      /ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '\/' not allowed/);
    await expectChannelClose((await scratch()).assertExchange('amq.mine', 'direct'), 403,
      /ACCESS_REFUSED - exchange name 'amq.mine' contains reserved prefix 'amq.\*'/);
  });
});

describe('declare', () => {
  test('passive declare of a missing exchange → 404', async () => {
    const x = uniq('missing');
    await expectChannelClose((await scratch()).checkExchange(x), 404, new RegExp(`NOT_FOUND - no exchange '${x}' in vhost '/'`));
  });

  test('durable exchange: passive declare finds it; inequivalent redeclares → 406 with RabbitMQ texts', async () => {
    const x = uniq('durable');
    await ch.assertExchange(x, 'direct', { durable: true, autoDelete: false });
    try {
      await ch.checkExchange(x);
      const cases: Array<[string, Parameters<ConfirmChannel['assertExchange']>[2], string, RegExp]> = [
        ['direct', { durable: false }, 'durable', /received 'false' but current is 'true'/],
        ['fanout', { durable: true }, 'type', /received 'fanout' but current is 'direct'/],
        ['direct', { durable: true, autoDelete: true }, 'auto_delete', /received 'true' but current is 'false'/],
        ['direct', { durable: true, internal: true }, 'internal', /received 'true' but current is 'false'/],
      ];
      for (const [type, opts, arg, detail] of cases) {
        const e = await expectChannelClose((await scratch()).assertExchange(x, type, opts), 406,
          new RegExp(`PRECONDITION_FAILED - inequivalent arg '${arg}' for exchange '${x}' in vhost '/'`));
        assert.match(e.message, detail);
      }
    } finally { await ch.deleteExchange(x); }
  });

  test('unknown exchange type is a hard error: 503 COMMAND_INVALID', async () => {
    const c = await connect(broker);
    const closed = closeOf(c);
    (await channel(c)).assertExchange(uniq('x'), 'no-such-type').catch(() => undefined);
    const e = await closed;
    assert.equal(e?.code, 503);
    assert.match(e?.message ?? '', /COMMAND_INVALID - unknown exchange type 'no-such-type'/);
  });

  test('auto-delete exchange is deleted when its last binding goes', async () => {
    const x = uniq('autodel');
    const [q1, q2] = await queues(2) as [string, string];
    await ch.assertExchange(x, 'fanout', { autoDelete: true });
    await ch.bindQueue(q1, x, '');
    await ch.bindQueue(q2, x, '');
    await ch.unbindQueue(q1, x, '');
    await ch.checkExchange(x); // one binding left
    await ch.unbindQueue(q2, x, '');
    await expectChannelClose((await scratch()).checkExchange(x), 404, /NOT_FOUND/);
  });

  test('internal exchange: publishing to it → 403; it still routes via e2e bindings', async () => {
    const x = uniq('internal');
    const front = uniq('front');
    const [q] = await queues(1) as [string];
    await ch.assertExchange(x, 'fanout', { internal: true, autoDelete: true });
    await ch.assertExchange(front, 'fanout', { autoDelete: true });
    await ch.bindQueue(q, x, '');
    await ch.bindExchange(x, front, '');
    assert.deepEqual(await routedTo(ch, front, 'any', [q]), [q]);
    const bad = await scratch();
    const closed = closeOf(bad);
    bad.publish(x, '', Buffer.from('nope'));
    await expectChannelClose(closed, 403, new RegExp(`ACCESS_REFUSED - cannot publish to internal exchange '${x}' in vhost '/'`));
    await ch.deleteExchange(front);
    await ch.deleteExchange(x);
  });

  test('publishing to a missing exchange → channel closed 404', async () => {
    const bad = await scratch();
    const closed = closeOf(bad);
    const x = uniq('ghost');
    bad.publish(x, '', Buffer.from('nope'));
    await expectChannelClose(closed, 404, new RegExp(`NOT_FOUND - no exchange '${x}' in vhost '/'`));
  });
});

describe('delete', () => {
  test('if-unused with a binding → 406 "in use"; without → deleted; deleting a missing one is ok', async () => {
    const x = uniq('inuse');
    const [q] = await queues(1) as [string];
    await ch.assertExchange(x, 'direct', { autoDelete: false });
    await ch.bindQueue(q, x, 'k');
    await expectChannelClose((await scratch()).deleteExchange(x, { ifUnused: true }), 406,
      new RegExp(`PRECONDITION_FAILED - exchange '${x}' in vhost '/' in use`));
    await ch.unbindQueue(q, x, 'k');
    await ch.deleteExchange(x, { ifUnused: true });
    await expectChannelClose((await scratch()).checkExchange(x), 404, /NOT_FOUND/);
    await ch.deleteExchange(uniq('never-existed'));
  });

  test('deleting an exchange removes its bindings', async () => {
    const x = uniq('gone');
    const [q] = await queues(1) as [string];
    await ch.assertExchange(x, 'fanout', { autoDelete: false });
    await ch.bindQueue(q, x, '');
    await ch.deleteExchange(x);
    await ch.assertExchange(x, 'fanout', { autoDelete: false });
    assert.deepEqual(await routedTo(ch, x, '', [q]), [], 'the old binding must not come back');
    await ch.deleteExchange(x);
  });
});

describe('routing', () => {
  test('direct: exact routing key; several bindings; unbind', async () => {
    const x = uniq('direct');
    const [a, b] = await queues(2) as [string, string];
    await ch.assertExchange(x, 'direct', { autoDelete: true });
    await ch.bindQueue(a, x, 'red');
    await ch.bindQueue(b, x, 'red');
    await ch.bindQueue(b, x, 'blue');
    assert.deepEqual(await routedTo(ch, x, 'red', [a, b]), [a, b]);
    assert.deepEqual(await routedTo(ch, x, 'blue', [a, b]), [b]);
    assert.deepEqual(await routedTo(ch, x, 'Red', [a, b]), [], 'keys are case-sensitive');
    await ch.unbindQueue(b, x, 'red');
    assert.deepEqual(await routedTo(ch, x, 'red', [a, b]), [a]);
    await ch.deleteExchange(x);
  });

  test('fanout ignores the routing key', async () => {
    const x = uniq('fanout');
    const [a, b] = await queues(2) as [string, string];
    await ch.assertExchange(x, 'fanout', { autoDelete: true });
    await ch.bindQueue(a, x, 'ignored');
    await ch.bindQueue(b, x, '');
    assert.deepEqual(await routedTo(ch, x, 'whatever', [a, b]), [a, b]);
    await ch.deleteExchange(x);
  });

  test('topic: * matches one word, # matches zero or more', async () => {
    const x = uniq('topic');
    const qs = await queues(6);
    const patterns = ['a.*.c', 'a.#', '#', '*.b', 'a.#.c', '#.c.#'];
    await ch.assertExchange(x, 'topic', { autoDelete: true });
    for (let i = 0; i < patterns.length; i++) await ch.bindQueue(qs[i] as string, x, patterns[i] as string);
    const expect = async (key: string, matching: string[]): Promise<void> => {
      const got = await routedTo(ch, x, key, qs);
      assert.deepEqual(got.map((q) => patterns[qs.indexOf(q)]), matching, `routing key '${key}'`);
    };
    await expect('a.b.c', ['a.*.c', 'a.#', '#', 'a.#.c', '#.c.#']);
    await expect('a', ['a.#', '#']);
    await expect('a.c', ['a.#', '#', 'a.#.c', '#.c.#']);
    await expect('x.b', ['#', '*.b']);
    await expect('a.x.y.c', ['a.#', '#', 'a.#.c', '#.c.#']);
    await expect('', ['#']);
    await expect('b', ['#']);
    await ch.deleteExchange(x);
  });

  test('headers: x-match all / any / all-with-x / any-with-x', async () => {
    const x = uniq('headers');
    const qs = await queues(4);
    const [all, any, allX, anyX] = qs as [string, string, string, string];
    await ch.assertExchange(x, 'headers', { autoDelete: true });
    await ch.bindQueue(all, x, '', { 'x-match': 'all', color: 'red', size: 'big' });
    await ch.bindQueue(any, x, '', { 'x-match': 'any', color: 'red', size: 'big' });
    await ch.bindQueue(allX, x, '', { 'x-match': 'all-with-x', 'x-tenant': 't1', color: 'red' });
    await ch.bindQueue(anyX, x, '', { 'x-match': 'any-with-x', 'x-tenant': 't1' });
    const route = (headers: Record<string, unknown>): Promise<string[]> => routedTo(ch, x, '', qs, { headers });
    assert.deepEqual(await route({ color: 'red', size: 'big' }), [all, any]);
    assert.deepEqual(await route({ color: 'red' }), [any]);
    assert.deepEqual(await route({ size: 'small' }), []);
    assert.deepEqual(await route({ color: 'red', 'x-tenant': 't1' }), [any, allX, anyX]);
    assert.deepEqual(await route({ 'x-tenant': 't2' }), [], 'x- headers compare by value too');
    assert.deepEqual(await route({}), []);
    await expectChannelClose((await scratch()).bindQueue(all, x, '', { 'x-match': 'sometimes' }), 406,
      /PRECONDITION_FAILED - Invalid x-match field value/);
    await ch.deleteExchange(x);
  });

  test('plain "all"/"any" ignore x- headers of the message', async () => {
    const x = uniq('headers-x');
    const [anyQ] = await queues(1) as [string];
    await ch.assertExchange(x, 'headers', { autoDelete: true });
    await ch.bindQueue(anyQ, x, '', { 'x-match': 'any', 'x-tenant': 't1' });
    assert.deepEqual(await routedTo(ch, x, '', [anyQ], { headers: { 'x-tenant': 't1' } }), []);
    await ch.deleteExchange(x);
  });
});

describe('exchange-to-exchange bindings', () => {
  test('bind, route through a chain, unbind', async () => {
    const src = uniq('src');
    const mid = uniq('mid');
    const [q] = await queues(1) as [string];
    await ch.assertExchange(src, 'topic', { autoDelete: false });
    await ch.assertExchange(mid, 'direct', { autoDelete: false });
    await ch.bindExchange(mid, src, 'orders.*');
    await ch.bindQueue(q, mid, 'orders.new');
    assert.deepEqual(await routedTo(ch, src, 'orders.new', [q]), [q]);
    assert.deepEqual(await routedTo(ch, src, 'orders.old', [q]), [], 'mid is direct: key must equal orders.new');
    assert.deepEqual(await routedTo(ch, src, 'invoices.new', [q]), []);
    await ch.unbindExchange(mid, src, 'orders.*');
    assert.deepEqual(await routedTo(ch, src, 'orders.new', [q]), []);
    await expectChannelClose((await scratch()).bindExchange(mid, uniq('nope'), 'k'), 404, /NOT_FOUND - no exchange/);
    await ch.deleteExchange(src);
    await ch.deleteExchange(mid);
  });

  test('a queue reachable by two paths gets one copy; cycles do not loop', async () => {
    const a = uniq('cyc-a');
    const b = uniq('cyc-b');
    const [q] = await queues(1) as [string];
    await ch.assertExchange(a, 'fanout', { autoDelete: false });
    await ch.assertExchange(b, 'fanout', { autoDelete: false });
    await ch.bindExchange(b, a, '');
    await ch.bindExchange(a, b, '');
    await ch.bindQueue(q, a, '');
    await ch.bindQueue(q, b, '');
    assert.deepEqual(await routedTo(ch, a, '', [q]), [q]);
    const check = await ch.checkQueue(q);
    assert.equal(check.messageCount, 0, 'routedTo purged exactly the copies that arrived');
    ch.publish(a, '', Buffer.from('once'));
    await ch.waitForConfirms();
    assert.equal((await ch.checkQueue(q)).messageCount, 1, 'exactly one copy');
    await ch.purgeQueue(q);
    await ch.deleteExchange(a);
    await ch.deleteExchange(b);
  });
});

describe('alternate exchange', () => {
  test('unroutable messages go to the alternate exchange; routable ones do not', async () => {
    const ae = uniq('ae');
    const x = uniq('with-ae');
    const [main, unrouted] = await queues(2) as [string, string];
    await ch.assertExchange(ae, 'fanout', { autoDelete: false });
    await ch.assertExchange(x, 'direct', { autoDelete: false, alternateExchange: ae });
    await ch.bindQueue(main, x, 'known');
    await ch.bindQueue(unrouted, ae, '');
    assert.deepEqual(await routedTo(ch, x, 'known', [main, unrouted]), [main]);
    assert.deepEqual(await routedTo(ch, x, 'unknown', [main, unrouted]), [unrouted]);
    const e = await expectChannelClose((await scratch()).assertExchange(x, 'direct', { autoDelete: false }), 406,
      new RegExp(`PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange '${x}' in vhost '/'`));
    assert.match(e.message, /but current is the value '.*' of type 'longstr'|received none but current is/);
    await ch.deleteExchange(x);
    await ch.deleteExchange(ae);
  });

  test('a missing alternate exchange drops the message silently', async () => {
    const x = uniq('dangling-ae');
    const [q] = await queues(1) as [string];
    await ch.assertExchange(x, 'direct', { autoDelete: false, alternateExchange: uniq('missing-ae') });
    await ch.bindQueue(q, x, 'k');
    assert.deepEqual(await routedTo(ch, x, 'other', [q]), []);
    assert.deepEqual(await routedTo(ch, x, 'k', [q]), [q]);
    await ch.deleteExchange(x);
  });
});
