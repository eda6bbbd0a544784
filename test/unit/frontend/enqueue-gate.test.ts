// The node's bound on enqueues waiting for their owners: publishing connections stop reading at the
// limit and all read again at half of it, however many channels and connections publish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EnqueueGate } from '../../../src/frontend/enqueue-gate.js';

class Conn {
  holds = 0;
  holdReading(on: boolean): void {
    this.holds += on ? 1 : -1;
    assert.ok(this.holds >= 0, 'a hold released twice');
  }
}

test('two connections share the limit: both stop at it, both read again at half of it', () => {
  const gate = new EnqueueGate(10);
  const [a, b] = [new Conn(), new Conn()];
  for (let i = 0; i < 9; i++) gate.sent(i % 2 === 0 ? a : b);
  assert.deepEqual([a.holds, b.holds], [0, 0]);
  gate.sent(b); // the 10th in flight
  assert.equal(b.holds, 1);
  gate.sent(a);
  gate.sent(b); // already held: one hold per connection
  assert.deepEqual([a.holds, b.holds], [1, 1]);
  for (let i = 0; i < 6; i++) gate.answered(); // 12 → 6: still above half
  assert.deepEqual([a.holds, b.holds], [1, 1]);
  gate.answered(); // 5 ≤ 10 / 2
  assert.deepEqual([a.holds, b.holds], [0, 0]);
  assert.equal(gate.waiting, 5);
});

test('a connection that goes away while held is released once, and not again at half the limit', () => {
  const gate = new EnqueueGate(4);
  const a = new Conn();
  for (let i = 0; i < 4; i++) gate.sent(a);
  assert.equal(a.holds, 1);
  gate.forget(a);
  assert.equal(a.holds, 0);
  for (let i = 0; i < 4; i++) gate.answered();
  assert.equal(a.holds, 0);
  assert.equal(gate.waiting, 0);
});
