// The same tests as queue-args.test.ts, with the suite's queues declared durable: they run against
// partition-hosted queues (Raft group + LevelDB) instead of the in-memory owner (issue 7).
import { test } from 'node:test';
import assert from 'node:assert/strict';

process.env['WARREN_TEST_DURABLE_QUEUES'] = '1';
await import('./queue-args.test.js');
const { DURABLE_QUEUES } = await import('../helpers/amqp.js');

test('this run declares its queues durable', () => assert.equal(DURABLE_QUEUES, true));
