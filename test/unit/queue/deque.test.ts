import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Deque } from '../../../src/queue/deque.js';

test('deque: FIFO across growth and wrap-around', () => {
  const d = new Deque<number>(4);
  const expected: number[] = [];
  for (let i = 0; i < 100; i++) {
    d.pushBack(i);
    expected.push(i);
    if (i % 3 === 0) assert.equal(d.shift(), expected.shift());
  }
  assert.equal(d.length, expected.length);
  assert.deepEqual([...d], expected);
});

test('deque: pushFront and insertOrdered keep order', () => {
  const d = new Deque<number>();
  for (const v of [10, 20, 30, 40]) d.pushBack(v);
  d.shift();
  d.pushFront(5);
  const before = (v: number, e: number) => v < e;
  d.insertOrdered(25, before);
  d.insertOrdered(1, before);
  d.insertOrdered(99, before);
  for (let i = 0; i < 40; i++) d.insertOrdered(31 + (i % 5) / 10, before);
  const arr = [...d];
  assert.deepEqual(arr, [...arr].sort((a, b) => a - b));
  assert.equal(arr[0], 1);
  assert.equal(arr.at(-1), 99);
  assert.equal(d.length, 47);
});

test('deque: at() and peekFront on empty', () => {
  const d = new Deque<string>();
  assert.equal(d.peekFront(), undefined);
  assert.equal(d.shift(), undefined);
  assert.equal(d.at(0), undefined);
  d.pushBack('a');
  assert.equal(d.at(0), 'a');
  assert.equal(d.at(1), undefined);
});
