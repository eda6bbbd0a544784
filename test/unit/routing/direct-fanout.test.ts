import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DirectMatcher } from '../../../src/routing/direct.js';
import { FanoutMatcher } from '../../../src/routing/fanout.js';
import { newMatcher } from '../../../src/routing/index.js';
import { destKind, destName, exchangeDest, queueDest } from '../../../src/routing/types.js';

function run(m: { match(k: string, h: undefined, out: Set<string>): void }, key: string): string[] {
  const out = new Set<string>();
  m.match(key, undefined, out);
  return [...out].sort();
}

describe('direct', () => {
  test('exact key match only, to queues and exchanges', () => {
    const m = new DirectMatcher();
    m.bind(queueDest('q1'), 'k', undefined);
    m.bind(exchangeDest('x2'), 'k', undefined);
    m.bind(queueDest('q3'), 'other', undefined);
    assert.deepEqual(run(m, 'k'), ['e:x2', 'q:q1']);
    assert.deepEqual(run(m, 'K'), []);
    assert.deepEqual(run(m, ''), []);
  });

  test('bindings differing only in arguments are counted separately', () => {
    const m = new DirectMatcher();
    m.bind(queueDest('q'), 'k', { a: 1 });
    m.bind(queueDest('q'), 'k', { a: 2 });
    assert.equal(m.unbind(queueDest('q'), 'k', { a: 1 }), true);
    assert.deepEqual(run(m, 'k'), ['q:q']);
    assert.equal(m.unbind(queueDest('q'), 'k', { a: 2 }), true);
    assert.deepEqual(run(m, 'k'), []);
    assert.equal(m.unbind(queueDest('q'), 'k', undefined), false);
    assert.equal(m.size, 0);
  });
});

describe('fanout', () => {
  test('every destination, whatever the key', () => {
    const m = new FanoutMatcher();
    m.bind(queueDest('a'), 'x', undefined);
    m.bind(queueDest('b'), '', undefined);
    assert.deepEqual(run(m, 'anything'), ['q:a', 'q:b']);
    assert.equal(m.unbind(queueDest('a'), 'x', undefined), true);
    assert.deepEqual(run(m, ''), ['q:b']);
  });
});

describe('destinations', () => {
  test('encode kind and name; names may contain colons', () => {
    assert.equal(destKind(queueDest('a:b')), 'queue');
    assert.equal(destName(queueDest('a:b')), 'a:b');
    assert.equal(destKind(exchangeDest('x')), 'exchange');
    assert.equal(newMatcher('topic').type, 'topic');
    assert.equal(newMatcher('headers').type, 'headers');
  });
});
