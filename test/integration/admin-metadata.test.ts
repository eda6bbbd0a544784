// GET /api/metadata (Warren, administrators): a node's replica of the metadata group. The embedded
// node holds the single-voter group and opens no session leases; a metadata change made by a real
// AMQP client (queue.declare) moves its indexes. A cluster frontend holds no replica: 404.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channel, uniq, useBrokerConnection } from '../helpers/amqp.js';
import { apiBase, apiRequest, basicAuth, GUEST_AUTH } from '../helpers/admin.js';
import { TARGET } from '../helpers/target.js';

const fixture = useBrokerConnection();

interface MetadataJson {
  leader: number; term: number; first_index: number; last_index: number; commit_index: number; applied_index: number;
  next_lease: number; lease_deadlines: boolean; leases: unknown[];
}

const get = (path: string, auth = GUEST_AUTH): Promise<Response> => apiRequest(apiBase(fixture.broker), path, auth);

test('the embedded node: the single metadata group, its indexes moved by a declare, no leases', async (t) => {
  if (!fixture.broker.isWarren || fixture.broker.httpPort === undefined) { t.skip('Warren only'); return; }
  if (TARGET === 'cluster') {
    const res = await get('/api/metadata');
    assert.equal(res.status, 404, 'a frontend holds no replica of the metadata group');
    return;
  }
  const read = async (): Promise<MetadataJson> => {
    const res = await get('/api/metadata');
    assert.equal(res.status, 200);
    return (await res.json()) as MetadataJson;
  };
  const before = await read();
  assert.equal(before.leader, 1, 'the embedded node leads its single-voter group');
  assert.ok(before.term >= 1);
  assert.ok(before.first_index <= before.applied_index + 1 && before.applied_index <= before.commit_index
    && before.commit_index <= before.last_index, JSON.stringify(before));
  assert.deepEqual([before.leases, before.lease_deadlines], [[], false]);

  const ch = await channel(fixture.conn);
  await ch.assertQueue(uniq('meta-idx'), { durable: true });
  const after = await read();
  assert.ok(after.applied_index > before.applied_index, `the declare is an entry: ${before.applied_index} → ${after.applied_index}`);
  assert.ok(after.applied_index <= after.commit_index && after.commit_index <= after.last_index, JSON.stringify(after));
});

test('/api/metadata is for administrators', async (t) => {
  if (!fixture.broker.isWarren || fixture.broker.httpPort === undefined) { t.skip('Warren only'); return; }
  const user = uniq('monitor');
  const put = await apiRequest(apiBase(fixture.broker), `/api/users/${user}`, GUEST_AUTH, 'PUT', { password: 'pw', tags: 'monitoring' });
  assert.equal(put.status, 201);
  const res = await get('/api/metadata', basicAuth(user, 'pw'));
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { error: 'not_authorised', reason: 'Not administrator user' });
});
