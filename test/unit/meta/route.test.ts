// Routing through the metadata: default exchange, the four types, e2e bindings with cycles,
// alternate exchanges, errors on the publish path.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MetaMachine } from '../../../src/meta/machine.js';
import { bindQ, bindX, declareQ, declareX, route, throwsAmqp } from './helpers.js';

function setup(): MetaMachine {
  const m = new MetaMachine();
  for (const q of ['q1', 'q2', 'q3']) declareQ(m, q);
  return m;
}

describe('route', () => {
  test('default exchange: the queue named by the routing key, if any', () => {
    const m = setup();
    assert.deepEqual(route(m, '', 'q1'), ['q1']);
    assert.deepEqual(route(m, '', 'missing'), []);
  });

  test('direct, fanout, topic and headers exchanges', () => {
    const m = setup();
    bindQ(m, 'q1', 'amq.direct', 'k');
    bindQ(m, 'q2', 'amq.fanout');
    bindQ(m, 'q3', 'amq.topic', '*.error.#');
    bindQ(m, 'q1', 'amq.headers', '', { 'x-match': 'any', level: 'error', code: 500 });
    assert.deepEqual(route(m, 'amq.direct', 'k'), ['q1']);
    assert.deepEqual(route(m, 'amq.fanout', 'whatever'), ['q2']);
    assert.deepEqual(route(m, 'amq.topic', 'app.error'), ['q3']);
    assert.deepEqual(route(m, 'amq.topic', 'error'), []);
    assert.deepEqual(route(m, 'amq.headers', '', { code: 500.0 }), ['q1']);
    assert.deepEqual(route(m, 'amq.headers', '', { code: '500' }), []);
    assert.deepEqual(route(m, 'amq.headers', ''), []);
  });

  test('exchange-to-exchange bindings, each queue once, cycles stop', () => {
    const m = setup();
    declareX(m, 'a', 'fanout');
    declareX(m, 'b', 'fanout');
    declareX(m, 'c', 'direct');
    bindX(m, 'b', 'a');
    bindX(m, 'a', 'b'); // cycle a <-> b
    bindX(m, 'c', 'b');
    bindQ(m, 'q1', 'a');
    bindQ(m, 'q1', 'b');
    bindQ(m, 'q2', 'c', 'k');
    assert.deepEqual(route(m, 'a', 'k'), ['q1', 'q2']);
    assert.deepEqual(route(m, 'a', 'other'), ['q1']);
    const out: string[] = [];
    m.route('/', 'a', 'k', undefined, out);
    assert.equal(out.length, 2, 'no duplicates');
  });

  test('internal exchanges: 403 to publish, but reachable through e2e bindings', () => {
    const m = setup();
    declareX(m, 'int', 'fanout', { internal: true });
    bindQ(m, 'q3', 'int');
    throwsAmqp(() => route(m, 'int'), 403, "ACCESS_REFUSED - cannot publish to internal exchange 'int' in vhost '/'");
    declareX(m, 'front', 'fanout');
    bindX(m, 'int', 'front');
    assert.deepEqual(route(m, 'front'), ['q3']);
  });

  test('missing exchange is 404', () => {
    const m = setup();
    throwsAmqp(() => route(m, 'nope'), 404, "NOT_FOUND - no exchange 'nope' in vhost '/'");
    throwsAmqp(() => route(m, 'x', '', undefined, '/novhost'), 404, "NOT_FOUND - no exchange 'x' in vhost '/novhost'");
  });

  test('alternate exchange: used only when the exchange matched nothing', () => {
    const m = setup();
    declareX(m, 'ae', 'fanout');
    bindQ(m, 'q3', 'ae');
    declareX(m, 'main', 'direct', { arguments: { 'alternate-exchange': 'ae' } });
    bindQ(m, 'q1', 'main', 'k');
    assert.deepEqual(route(m, 'main', 'k'), ['q1']);
    assert.deepEqual(route(m, 'main', 'unmatched'), ['q3']);
  });

  test('alternate exchanges chain, a missing one is ignored, and AE cycles stop', () => {
    const m = setup();
    declareX(m, 'x1', 'direct', { arguments: { 'alternate-exchange': 'x2' } });
    declareX(m, 'x2', 'direct', { arguments: { 'alternate-exchange': 'x1' } });
    declareX(m, 'x3', 'direct', { arguments: { 'alternate-exchange': 'gone' } });
    bindQ(m, 'q2', 'x2', 'b');
    assert.deepEqual(route(m, 'x1', 'b'), ['q2']);
    assert.deepEqual(route(m, 'x1', 'zzz'), []);
    assert.deepEqual(route(m, 'x3', 'zzz'), []);
  });

  test('routing follows unbind and queue deletion', () => {
    const m = setup();
    bindQ(m, 'q1', 'amq.topic', '#');
    assert.deepEqual(route(m, 'amq.topic', 'a.b'), ['q1']);
    m.apply({ type: 'queue.delete', vhost: '/', name: 'q1' });
    assert.deepEqual(route(m, 'amq.topic', 'a.b'), []);
    assert.deepEqual(route(m, '', 'q1'), []);
  });

  // Speed is measured by the benchmarks (npm run bench), not by timing a test on a shared machine;
  // this checks that 100 000 routes over 1 000 topic bindings each find exactly their queue.
  test('publish hot path: 100 000 routes through a topic exchange with 1 000 bindings', () => {
    const m = new MetaMachine();
    for (let i = 0; i < 1000; i++) {
      declareQ(m, `q${i}`);
      bindQ(m, `q${i}`, 'amq.topic', `orders.${i}.*`);
    }
    const out: string[] = [];
    for (let k = 0; k < 100_000; k++) {
      out.length = 0;
      m.route('/', 'amq.topic', `orders.${k % 1000}.created`, undefined, out);
      if (out.length !== 1 || out[0] !== `q${k % 1000}`) assert.fail(`key ${k}: ${out.join(',')}`);
    }
  });
});
