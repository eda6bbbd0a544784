// The management API and /metrics of a running Warren reflect what AMQP clients did (Warren only:
// the reference RabbitMQ here runs without its management plugin).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { confirmChannel, uniq, useBrokerConnection } from '../helpers/amqp.js';
import { apiBase, apiRequest, GUEST_AUTH } from '../helpers/admin.js';
import { skipOnCluster, TARGET } from '../helpers/target.js';

const fixture = useBrokerConnection();
const get = (path: string): Promise<Response> => apiRequest(apiBase(fixture.broker), path, GUEST_AUTH);


test('queues, overview, definitions and metrics show a queue with one ready message', async (t) => {
  if (!fixture.broker.isWarren || fixture.broker.httpPort === undefined) { t.skip('Warren only'); return; }
  if (skipOnCluster(t, "queue figures at once: a frontend gathers them from the owners' QueueStats, so they may trail a publish just confirmed (test/cluster/ctl-status.test.ts waits for them)")) return;
  const ch = await confirmChannel(fixture.conn);
  const q = uniq('admin');
  await ch.assertQueue(q, { durable: true, arguments: { 'x-max-length': 10 } });
  ch.sendToQueue(q, Buffer.from('hello'));
  await ch.waitForConfirms();

  const queues = (await (await get('/api/queues/%2F')).json()) as Array<Record<string, unknown>>;
  const row = queues.find((x) => x['name'] === q);
  assert.ok(row, 'queue listed');
  assert.equal(row['messages_ready'], 1);
  assert.equal(row['durable'], true);
  assert.deepEqual(row['arguments'], { 'x-max-length': 10 });

  const overview = (await (await get('/api/overview')).json()) as { object_totals: { queues: number; connections: number }; message_stats: { publish: number } };
  assert.ok(overview.object_totals.queues >= 1);
  assert.ok(overview.object_totals.connections >= 1);
  // Message rates are per node: through the balancer this may be the other frontend's overview.
  if (TARGET !== 'cluster') assert.ok(overview.message_stats.publish >= 1);

  const defs = (await (await get('/api/definitions')).json()) as { users: Array<{ name: string }>; queues: Array<{ name: string }> };
  assert.ok(defs.users.some((u) => u.name === 'guest'));
  assert.ok(defs.queues.some((x) => x.name === q));

  const metrics = await (await apiRequest(apiBase(fixture.broker), '/metrics', undefined)).text();
  assert.match(metrics, /^warren_\w+/m);
  await ch.deleteQueue(q);
});
