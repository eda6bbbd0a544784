import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfirmTracker } from '../../../src/client/confirms.js';

function published(n: number): ConfirmTracker {
  const t = new ConfirmTracker();
  for (let i = 1; i <= n; i++) assert.equal(t.publish(), i);
  return t;
}

test('single acks in order settle one each', () => {
  const t = published(3);
  assert.equal(t.settle(1, false), 1);
  assert.equal(t.settle(2, false), 1);
  assert.equal(t.outstanding, 1);
  assert.equal(t.nextPublishSeqNo, 4);
});

test('multiple settles everything unsettled up to the tag', () => {
  const t = published(10);
  assert.equal(t.settle(4, true), 4);
  assert.equal(t.settle(10, true), 6);
  assert.equal(t.outstanding, 0);
});

test('out-of-order singles are not counted twice by a later multiple', () => {
  const t = published(6);
  assert.equal(t.settle(3, false), 1);
  assert.equal(t.settle(5, false), 1);
  assert.equal(t.outstanding, 4);
  assert.equal(t.settle(4, true), 3); // 1, 2 and 4 (3 was already settled)
  assert.equal(t.outstanding, 1); // only 6: 5 was settled and the gap below it closed
  assert.equal(t.settle(6, false), 1);
  assert.equal(t.outstanding, 0);
});

test('a gap closing advances past settled tags', () => {
  const t = published(4);
  t.settle(2, false);
  t.settle(3, false);
  assert.equal(t.settle(1, false), 1);
  assert.equal(t.outstanding, 1);
  assert.equal(t.settle(4, true), 1);
});

test('unknown, repeated or unpublished tags settle nothing', () => {
  const t = published(3);
  assert.equal(t.settle(0, true), 0);
  assert.equal(t.settle(4, false), 0);
  assert.equal(t.settle(2, false), 1);
  assert.equal(t.settle(2, false), 0);
  assert.equal(t.settle(1, true), 1);
  assert.equal(t.settle(1, true), 0);
  assert.equal(t.outstanding, 1);
});
