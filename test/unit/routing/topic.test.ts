// Topic trie: RabbitMQ-compatible matching (the binding/expectation table of RabbitMQ's own topic
// matching test), word-splitting corner cases, unbind, and a bounded scale check.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TopicMatcher, splitTopicKey } from '../../../src/routing/topic.js';
import { queueDest } from '../../../src/routing/types.js';

function matched(m: TopicMatcher, key: string): string[] {
  const out = new Set<string>();
  m.match(key, undefined, out);
  return [...out].map((d) => d.slice(2)).sort();
}

function trie(bindings: ReadonlyArray<readonly [string, string]>): TopicMatcher {
  const m = new TopicMatcher();
  for (const [key, q] of bindings) m.bind(queueDest(q), key, undefined);
  return m;
}

const RABBIT_BINDINGS: ReadonlyArray<readonly [string, string]> = [
  ['a.b.c', 't1'], ['a.*.c', 't2'], ['a.#.b', 't3'], ['a.b.b.c', 't4'], ['#', 't5'], ['#.#', 't6'],
  ['#.b', 't7'], ['*.*', 't8'], ['a.*', 't9'], ['*.b.c', 't10'], ['a.#', 't11'], ['a.#.#', 't12'],
  ['b.b.c', 't13'], ['a.b.b', 't14'], ['a.b', 't15'], ['b.c', 't16'], ['', 't17'], ['*.*.*', 't18'],
  ['vodka.martini', 't19'], ['a.b.c', 't20'], ['*.#', 't21'], ['#.*.#', 't22'], ['*.#.#', 't23'],
  ['#.#.#', 't24'], ['*', 't25'], ['#.b.#', 't26'],
];

const RABBIT_EXPECTED: ReadonlyArray<readonly [string, string[]]> = [
  ['a.b.c', ['t1', 't2', 't5', 't6', 't10', 't11', 't12', 't18', 't20', 't21', 't22', 't23', 't24', 't26']],
  ['a.b', ['t3', 't5', 't6', 't7', 't8', 't9', 't11', 't12', 't15', 't21', 't22', 't23', 't24', 't26']],
  ['a.b.b', ['t3', 't5', 't6', 't7', 't11', 't12', 't14', 't18', 't21', 't22', 't23', 't24', 't26']],
  ['', ['t5', 't6', 't17', 't24']],
  ['b.c.c', ['t5', 't6', 't18', 't21', 't22', 't23', 't24', 't26']],
  ['a.a.a.a.a', ['t5', 't6', 't11', 't12', 't21', 't22', 't23', 't24']],
  ['vodka.gin', ['t5', 't6', 't8', 't21', 't22', 't23', 't24']],
  ['vodka.martini', ['t5', 't6', 't8', 't19', 't21', 't22', 't23', 't24']],
  ['b.b.c', ['t5', 't6', 't10', 't13', 't18', 't21', 't22', 't23', 't24', 't26']],
  ['nothing.here.at.all', ['t5', 't6', 't21', 't22', 't23', 't24']],
  ['oneword', ['t5', 't6', 't21', 't22', 't23', 't24', 't25']],
];

describe('topic: RabbitMQ matching table', () => {
  const m = trie(RABBIT_BINDINGS);
  for (const [key, expected] of RABBIT_EXPECTED) {
    test(`routing key ${JSON.stringify(key)}`, () => {
      assert.deepEqual(matched(m, key), [...expected].sort());
    });
  }
});

describe('topic: corner cases', () => {
  test('splitting: "" is zero words, "a." and "." carry empty words', () => {
    assert.deepEqual(splitTopicKey(''), []);
    assert.deepEqual(splitTopicKey('a.'), ['a', '']);
    assert.deepEqual(splitTopicKey('.'), ['', '']);
    assert.deepEqual(splitTopicKey('a..b'), ['a', '', 'b']);
  });

  test('# matches zero words', () => {
    const m = trie([['a.#', 'q1'], ['#.a', 'q2'], ['a.#.b', 'q3']]);
    assert.deepEqual(matched(m, 'a'), ['q1', 'q2']);
    assert.deepEqual(matched(m, 'a.b'), ['q1', 'q3']);
    assert.deepEqual(matched(m, 'a.x.y.b'), ['q1', 'q3']);
    assert.deepEqual(matched(m, 'b.a'), ['q2']);
  });

  test('*.* needs exactly two words, empty ones included', () => {
    const m = trie([['*.*', 'q']]);
    assert.deepEqual(matched(m, 'a.b'), ['q']);
    assert.deepEqual(matched(m, '.'), ['q']);
    assert.deepEqual(matched(m, 'a.'), ['q']);
    assert.deepEqual(matched(m, 'a'), []);
    assert.deepEqual(matched(m, 'a.b.c'), []);
    assert.deepEqual(matched(m, ''), []);
  });

  test('empty words are literal words', () => {
    const m = trie([['a..b', 'lit'], ['a.*.b', 'star'], ['*', 'one']]);
    assert.deepEqual(matched(m, 'a..b'), ['lit', 'star']);
    assert.deepEqual(matched(m, 'a.b'), []);
    assert.deepEqual(matched(m, ''), []);
    assert.deepEqual(matched(m, 'x'), ['one']);
  });

  test('#.# behaves as # (including the empty key)', () => {
    const m = trie([['#.#', 'q']]);
    for (const k of ['', 'a', 'a.b.c', '.', 'a..']) assert.deepEqual(matched(m, k), ['q'], k);
  });

  test('empty binding key matches only the empty routing key', () => {
    const m = trie([['', 'q']]);
    assert.deepEqual(matched(m, ''), ['q']);
    assert.deepEqual(matched(m, 'a'), []);
    assert.deepEqual(matched(m, '.'), []);
  });

  test('a destination is reported once even when several bindings match', () => {
    const m = trie([['a.*', 'q'], ['#', 'q'], ['a.b', 'q']]);
    const out = new Set<string>();
    m.match('a.b', undefined, out);
    assert.equal(out.size, 1);
  });

  test('unbind removes exactly one reference and prunes the trie', () => {
    const m = trie([['a.*.c', 'q'], ['a.*.c', 'q'], ['a.#', 'r']]);
    assert.equal(m.size, 3);
    assert.equal(m.unbind(queueDest('q'), 'a.*.c', undefined), true);
    assert.deepEqual(matched(m, 'a.b.c'), ['q', 'r']);
    assert.equal(m.unbind(queueDest('q'), 'a.*.c', undefined), true);
    assert.deepEqual(matched(m, 'a.b.c'), ['r']);
    assert.equal(m.unbind(queueDest('q'), 'a.*.c', undefined), false);
    assert.equal(m.unbind(queueDest('r'), 'a.#.#', undefined), true, '"a.#.#" is the same trie path as "a.#"');
    assert.equal(m.size, 0);
    assert.deepEqual(matched(m, 'a.b.c'), []);
  });
});

describe('topic: scale', () => {
  test('10 000 bindings route 100 000 keys, each to exactly its binding', () => {
    const m = new TopicMatcher();
    const services = 100;
    for (let i = 0; i < 10_000; i++) {
      const s = `svc${i % services}`;
      const shape = i % 4;
      const key = shape === 0 ? `${s}.ev${i}.created` : shape === 1 ? `${s}.*.deleted${i}` : shape === 2 ? `${s}.ev${i}.#` : `*.ev${i}.updated`;
      m.bind(queueDest(`q${i}`), key, undefined);
    }
    const out = new Set<string>();
    // Correctness at scale only: speed is measured by benchmarks, not by timing a test on a shared machine.
    let hits = 0;
    for (let k = 0; k < 100_000; k++) {
      const i = (k * 7919) % 10_000;
      out.clear();
      m.match(`svc${i % services}.ev${i}.created`, undefined, out);
      hits += out.size;
    }
    // Key i matches binding i when shape 0 or 2 (shape 1 and 3 have other suffixes): half the keys.
    assert.equal(hits, 50_000);
  });
});
