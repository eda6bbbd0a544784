// The cluster counterpart of basic.durable and queue-args.durable: the same suites with their queues
// declared durable, so they run on partitions replicated across the cluster's owners (see
// on-cluster.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSuitesOnCluster } from '../helpers/on-cluster.js';

await runSuitesOnCluster(['basic', 'queue-args'], { durableQueues: true });
const { DURABLE_QUEUES } = await import('../helpers/amqp.js');
if (process.env['WARREN_TEST_TARGET'] === 'cluster') {
  test('this run declares its queues durable', () => assert.equal(DURABLE_QUEUES, true));
}
