// The launcher's restart pace (src/launcher/supervisor.ts crashLoopDelay): a node that dies after
// it was ready comes back after the configured delay every time; one that keeps dying before it is
// ready is restarted ever more slowly, up to a minute apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crashLoopDelay, MAX_CRASH_LOOP_DELAY_MS } from '../../src/launcher/supervisor.js';

test('a death after readiness, and a first failed start, wait the configured delay', () => {
  assert.equal(crashLoopDelay(2000, 0), 2000);
  assert.equal(crashLoopDelay(2000, 1), 2000);
  assert.equal(crashLoopDelay(0, 1), 0);
});

test('consecutive failed starts double the wait, from at least 1 s, up to the cap', () => {
  assert.deepEqual([2, 3, 4, 5].map((n) => crashLoopDelay(2000, n)), [4000, 8000, 16000, 32000]);
  assert.deepEqual([2, 3].map((n) => crashLoopDelay(0, n)), [2000, 4000]);
  assert.equal(crashLoopDelay(2000, 7), MAX_CRASH_LOOP_DELAY_MS);
  assert.equal(crashLoopDelay(2000, 50), MAX_CRASH_LOOP_DELAY_MS);
  assert.equal(crashLoopDelay(120_000, 3), 120_000, 'a configured delay above the cap is kept');
});
