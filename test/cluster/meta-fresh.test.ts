// Read-your-writes across frontends: what one frontend declared or created (and answered for) is
// usable at once through the other, although the other's metadata is a cache fed by a stream. A
// lookup that misses on the cache waits for the leader's read point (Meta GetPlacement) and is tried
// once more (src/util/read-point.ts): channel methods, publishes, logins and connection.open, and
// the management API's own lookups and logins.
//
// Frontend 102's cache trails the metadata leader by 300 ms (WARREN_TEST_META_DELAY): without the
// read point it answers 404 / 403 / 530 / 401 / 400 for what was just made through 101. The
// metadata leader's wait for every frontend's cache before it answers a change
// (meta-visible.test.ts) is switched off here (WARREN_TEST_META_CACHE_WAIT_MS=0): the read point is
// what a lookup relies on when that wait ended at its bound.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import amqp, { type ChannelModel } from 'amqplib';
import { haproxyMissing, RealCluster } from './amqp-load.js';
import { RawClient } from '../helpers/raw.js';
import { M, PROTOCOL_HEADER, Writer, isMethod, methodFrame } from '../helpers/wire.js';

const GUEST = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('read-your-writes across frontends', { skip: haproxyMissing, timeout: 300_000 }, () => {
  let cluster: RealCluster | undefined;
  /** amqp:// and http:// of frontend 101 (writes) and 102 (reads, its cache trails). */
  let a: { amqp: string; http: string };
  let b: { amqp: string; http: string };
  const open: ChannelModel[] = [];

  before(async () => {
    cluster = await RealCluster.start(1000, { WARREN_TEST_META_DELAY: '102=300', WARREN_TEST_META_CACHE_WAIT_MS: '0' });
    const node = (id: number): { amqp: string; http: string } => {
      const n = cluster?.state().nodes.find((x) => x.id === id);
      assert.ok(n?.amqp && n.http);
      return { amqp: n.amqp, http: n.http };
    };
    a = node(101);
    b = node(102);
  });
  after(async () => {
    for (const c of open) await c.close().catch(() => {});
    await cluster?.stop();
  });

  /** An amqplib connection to a frontend, with `userinfo` ('user:pass') and vhost. */
  const connect = async (to: { amqp: string }, userinfo = 'guest:guest', vhost = '/'): Promise<ChannelModel> => {
    // The state's URLs end with '/' (the default vhost); another vhost is its encoded name after it.
    const c = await amqp.connect(`${to.amqp.replace('amqp://', `amqp://${userinfo}@`)}${vhost === '/' ? '' : encodeURIComponent(vhost)}`);
    open.push(c);
    return c;
  };
  const http = (to: { http: string }, method: string, path: string, body?: unknown, auth = GUEST): Promise<Response> =>
    fetch(to.http + path, {
      method, headers: { authorization: auth, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const created = async (r: Promise<Response>, what: string): Promise<void> => {
    const res = await r;
    assert.ok(res.status === 201 || res.status === 204, `${what}: ${res.status} ${await res.text()}`);
  };

  test('declared through one frontend, consumed, bound and got through the other at once', async () => {
    const chA = await (await connect(a)).createChannel();
    const chB = await (await connect(b)).createChannel();
    chB.on('error', () => {}); // the last check closes it with 404
    for (let i = 0; i < 20; i++) {
      const q = `fresh-q-${i}`;
      const x = `fresh-x-${i}`;
      await chA.assertQueue(q, { durable: i % 2 === 0 });
      await chA.assertExchange(x, 'fanout', { durable: false });
      // Lookups first (a change through B would itself bring B's cache up to date).
      assert.equal(await chB.get(q), false);
      await chB.consume(q, () => {}, { noAck: true });
      await chB.bindQueue(q, x, '');
    }
    // The retry is for lookups only: a queue that really does not exist is still 404.
    await assert.rejects(chB.checkQueue('fresh-never-declared'), /NOT_FOUND/);
  });

  test('a publish to an exchange and binding declared through the other frontend is routed, in order', async () => {
    const chA = await (await connect(a)).createChannel();
    const pub = await (await connect(b)).createConfirmChannel();
    const returned: string[] = [];
    pub.on('return', (m) => returned.push(m.content.toString()));
    for (let i = 0; i < 10; i++) {
      const x = `fresh-pub-x-${i}`;
      const q = `fresh-pub-q-${i}`;
      await chA.assertExchange(x, 'direct', { durable: false });
      await chA.assertQueue(q, { durable: i % 2 === 0 });
      await chA.bindQueue(q, x, 'k');
      // Three publishes back to back: the first misses on B's cache and waits for the read point,
      // the others wait behind it on the channel, so all three are routed and stay in order.
      for (const n of [0, 1, 2]) pub.publish(x, 'k', Buffer.from(`${i}.${n}`), { mandatory: true });
      await pub.waitForConfirms();
      const got: string[] = [];
      for (let n = 0; n < 3; n++) {
        const m = await chA.get(q, { noAck: true });
        assert.ok(m, `message ${i}.${n} in ${q}`);
        got.push(m.content.toString());
      }
      assert.deepEqual(got, [`${i}.0`, `${i}.1`, `${i}.2`]);
    }
    assert.deepEqual(returned, []);
    // An exchange that really does not exist is still 404 (after one wait).
    pub.on('error', () => {});
    pub.publish('fresh-pub-never', 'k', Buffer.from('x'));
    await assert.rejects(pub.waitForConfirms());
  });

  test('an AMQP login as a user, and into a vhost, created over HTTP through the other frontend', async () => {
    for (let i = 0; i < 5; i++) {
      const user = `fresh-user-${i}`;
      const vhost = `fresh-vhost-${i}`;
      await created(http(a, 'PUT', `/api/vhosts/${vhost}`), 'vhost');
      await created(http(a, 'PUT', `/api/users/${user}`, { password: 'pw1', tags: '' }), 'user');
      await created(http(a, 'PUT', `/api/permissions/${vhost}/${user}`, { configure: '.*', write: '.*', read: '.*' }), 'permissions');
      const c = await connect(b, `${user}:pw1`, vhost);
      const ch = await c.createChannel();
      await ch.assertQueue('mine', { durable: false });
      // A password changed through the other frontend works at once.
      await created(http(a, 'PUT', `/api/users/${user}`, { password: 'pw2', tags: '' }), 'password');
      await connect(b, `${user}:pw2`, vhost);
      // An existing user (guest) into a vhost just created and permitted through the other frontend.
      const v2 = `fresh-guest-vhost-${i}`;
      await created(http(a, 'PUT', `/api/vhosts/${v2}`), 'vhost');
      await created(http(a, 'PUT', `/api/permissions/${v2}/guest`, { configure: '.*', write: '.*', read: '.*' }), 'permissions');
      await connect(b, 'guest:guest', v2);
    }
    // What really does not exist is still refused.
    await assert.rejects(connect(b, 'fresh-user-0:wrong', 'fresh-vhost-0'), /ACCESS_REFUSED|403/);
    // (amqplib reports a refused connection.open without its code: 530 NOT_ALLOWED in the broker log.)
    await assert.rejects(connect(b, 'guest:guest', 'fresh-vhost-never'), /Expected ConnectionOpenOk; got <ConnectionClose/);
  });

  test('a handshake sent in one write waits whole behind a login that waits for the read point', async () => {
    const user = 'fresh-pipelined';
    await created(http(a, 'PUT', `/api/users/${user}`, { password: 'pw', tags: '' }), 'user');
    await created(http(a, 'PUT', `/api/permissions/%2F/${user}`, { configure: '.*', write: '.*', read: '.*' }), 'permissions');
    const [host, port] = b.amqp.replace('amqp://', '').replace(/\/$/, '').split(':');
    const raw = await RawClient.open(host as string, Number(port));
    try {
      raw.write(PROTOCOL_HEADER);
      await raw.nextFrame((f) => isMethod(f, M.connectionStart));
      // start-ok, tune-ok, open and channel.open at once: the last three arrive while the login
      // waits for the read point and must be handled after it, in order.
      raw.write(Buffer.concat([
        methodFrame(0, M.connectionStartOk, new Writer().table({ product: 'raw' }).shortstr('PLAIN')
          .longstr(Buffer.from(`\0${user}\0pw`)).shortstr('en_US').build()),
        methodFrame(0, M.connectionTuneOk, new Writer().short(0).long(131072).short(0).build()),
        methodFrame(0, M.connectionOpen, new Writer().shortstr('/').shortstr('').bits(false).build()),
        methodFrame(1, M.channelOpen, new Writer().shortstr('').build()),
      ]));
      await raw.nextFrame((f) => isMethod(f, M.connectionTune));
      await raw.nextFrame((f) => isMethod(f, M.connectionOpenOk));
      await raw.nextFrame((f) => f.channel === 1 && isMethod(f, M.channelOpenOk));
    } finally {
      raw.destroy();
    }
  });

  test('the management API through the other frontend sees what was just created: permission set, GET, login', async () => {
    for (let i = 0; i < 5; i++) {
      const user = `fresh-admin-${i}`;
      const vhost = `fresh-http-vhost-${i}`;
      await created(http(a, 'PUT', `/api/vhosts/${vhost}`), 'vhost');
      await created(http(a, 'PUT', `/api/users/${user}`, { password: 'pw', tags: 'administrator' }), 'user');
      // RabbitMQ's 400 vhost_or_user_not_found would come from B's cache without the read point.
      await created(http(b, 'PUT', `/api/permissions/${vhost}/${user}`, { configure: '.*', write: '.*', read: '.*' }), 'permissions through B');
      // The permission just set through B, read through A (A's cache is not delayed) and back through B.
      assert.equal((await http(a, 'GET', `/api/permissions/${vhost}/${user}`)).status, 200);
      const x = `fresh-http-x-${i}`;
      const chA = await (await connect(a)).createChannel();
      await chA.assertExchange(x, 'topic', { durable: false });
      const ex = await http(b, 'GET', `/api/exchanges/%2F/${x}`);
      assert.equal(ex.status, 200, `GET exchange through B: ${ex.status}`);
      // HTTP basic auth as a user created a moment ago through the other frontend.
      await created(http(a, 'PUT', `/api/users/${user}-2`, { password: 'pw2', tags: 'management' }), 'user');
      const who = await http(b, 'GET', '/api/whoami', undefined, basic(`${user}-2`, 'pw2'));
      assert.equal(who.status, 200);
      assert.deepEqual(await who.json(), { name: `${user}-2`, tags: ['management'] });
    }
    assert.equal((await http(b, 'GET', '/api/users/fresh-never')).status, 404);
  });
});
