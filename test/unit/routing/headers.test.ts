// Headers exchange: rabbit_exchange_type_headers semantics (x-match variants, x- keys, void = presence,
// Erlang value equality) and binding validation texts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HeadersMatcher, headersMatch, validateHeadersBinding } from '../../../src/routing/headers.js';
import { queueDest } from '../../../src/routing/types.js';
import type { FieldTable } from '../../../src/amqp/table.js';

describe('headers: x-match', () => {
  test('all (explicit and default) needs every key with an equal value', () => {
    for (const args of [{ 'x-match': 'all', a: 1, b: 'x' }, { a: 1, b: 'x' }] as FieldTable[]) {
      assert.equal(headersMatch(args, { a: 1, b: 'x', c: true }), true);
      assert.equal(headersMatch(args, { a: 1 }), false);
      assert.equal(headersMatch(args, { a: 2, b: 'x' }), false);
      assert.equal(headersMatch(args, undefined), false);
    }
  });

  test('any needs one key with an equal value', () => {
    const args = { 'x-match': 'any', a: 1, b: 'x' };
    assert.equal(headersMatch(args, { b: 'x' }), true);
    assert.equal(headersMatch(args, { a: 2, b: 'y' }), false);
    assert.equal(headersMatch(args, {}), false);
  });

  test('no considered keys: all matches everything, any matches nothing', () => {
    assert.equal(headersMatch({ 'x-match': 'all' }, undefined), true);
    assert.equal(headersMatch({}, { z: 1 }), true);
    assert.equal(headersMatch({ 'x-match': 'any' }, { z: 1 }), false);
    assert.equal(headersMatch({ 'x-match': 'all', 'x-foo': 1 }, {}), true, 'x- keys are ignored by all');
  });

  test('all/any ignore x- keys; all-with-x/any-with-x match them; x-match itself never', () => {
    assert.equal(headersMatch({ 'x-match': 'all', 'x-k': 1, a: 1 }, { a: 1 }), true);
    assert.equal(headersMatch({ 'x-match': 'any', 'x-k': 1 }, { 'x-k': 1 }), false);
    assert.equal(headersMatch({ 'x-match': 'all-with-x', 'x-k': 1, a: 1 }, { a: 1 }), false);
    assert.equal(headersMatch({ 'x-match': 'all-with-x', 'x-k': 1, a: 1 }, { a: 1, 'x-k': 1 }), true);
    assert.equal(headersMatch({ 'x-match': 'any-with-x', 'x-k': 1, a: 1 }, { 'x-k': 1 }), true);
    assert.equal(headersMatch({ 'x-match': 'all-with-x' }, { 'x-match': 'nope' }), true, 'x-match is not a header to match');
  });

  test('a void binding value matches presence of the header', () => {
    assert.equal(headersMatch({ a: null }, { a: 'anything' }), true);
    assert.equal(headersMatch({ a: null }, { a: null }), true);
    assert.equal(headersMatch({ a: null }, { b: 1 }), false);
    assert.equal(headersMatch({ a: 1 }, { a: null }), false);
  });

  test('values compare like Erlang ==', () => {
    assert.equal(headersMatch({ a: 1 }, { a: 1.0 }), true);
    assert.equal(headersMatch({ a: 5 }, { a: 5n }), true);
    assert.equal(headersMatch({ a: 1 }, { a: '1' }), false);
    assert.equal(headersMatch({ a: true }, { a: 1 }), false);
    assert.equal(headersMatch({ a: 'true' }, { a: true }), false);
    assert.equal(headersMatch({ a: 'abc' }, { a: Buffer.from('abc') }), true, 'longstr and byte array are both binaries');
    assert.equal(headersMatch({ a: [1, 'x'] }, { a: [1, 'x'] }), true);
    assert.equal(headersMatch({ a: [1, 'x'] }, { a: [1] }), false);
    assert.equal(headersMatch({ a: { b: 1 } }, { a: { b: 1 } }), true);
    assert.equal(headersMatch({ a: { b: 1 } }, { a: { b: 2 } }), false);
  });
});

describe('headers: matcher and validation', () => {
  test('bindings are identified by destination and arguments, in any key order', () => {
    const m = new HeadersMatcher();
    m.bind(queueDest('q1'), '', { 'x-match': 'any', a: 1, b: 2 });
    m.bind(queueDest('q2'), '', { c: 3 });
    const out = new Set<string>();
    m.match('ignored', { b: 2, c: 3 }, out);
    assert.deepEqual([...out].sort(), ['q:q1', 'q:q2']);
    assert.equal(m.unbind(queueDest('q1'), '', { b: 2, a: 1, 'x-match': 'any' }), true);
    assert.equal(m.unbind(queueDest('q1'), '', { b: 2, a: 1 }), false, 'different arguments, different binding');
    out.clear();
    m.match('', { b: 2, c: 3 }, out);
    assert.deepEqual([...out], ['q:q2']);
    assert.equal(m.size, 1);
  });

  test('invalid x-match values and types give RabbitMQ texts', () => {
    assert.equal(validateHeadersBinding({ 'x-match': 'any' }), undefined);
    assert.equal(validateHeadersBinding({ a: 1 }), undefined);
    assert.equal(validateHeadersBinding({ 'x-match': 'some' }),
      'Invalid x-match field value <<"some">>; expected all, any, all-with-x, or any-with-x');
    assert.equal(validateHeadersBinding({ 'x-match': 5 }),
      'Invalid x-match field type signedint (value 5); expected longstr');
  });
});
