// Regression tests for inputs the coverage-guided fuzzers (test/fuzz/, docs/fuzzing.md) found.
// Each test carries the crashing input inline, as the fuzzer wrote it, and checks the invariant that
// input broke.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameParser, encodeMethod } from '../../../src/amqp/frames.js';
import { decodeTable, encodeTable } from '../../../src/amqp/table.js';

describe('fuzz findings: field tables', () => {
  test('a decoded double holding an integer beyond int64 re-encodes (was RangeError from writeBigInt64BE)', () => {
    // table.fuzz crash-b80d16aa: key "\x13\0B..." => 'd' 0x6f74706565b02d24fb... = 7.7e243, an integer-valued double.
    // The encoder chose 'l' for every integer and threw; re-encoding happens on dead-lettering and BCC stripping.
    const input = Buffer.from('000000130042130042b000421300646f747065b02d24fb', 'hex');
    const { table } = decodeTable(input, 0);
    const again = decodeTable(encodeTable(table), 0).table;
    assert.deepEqual(again, table);
    for (const v of [1e300, -1e300, 2 ** 63, -(2 ** 64)]) {
      const buf = encodeTable({ v });
      assert.equal(String.fromCharCode(buf[6]!), 'd', `${v} must be sent as a double`);
      assert.equal(decodeTable(buf, 0).table['v'], v);
    }
    // Safe integers beyond int32 still go out as 'l'.
    assert.equal(String.fromCharCode(encodeTable({ v: Number.MAX_SAFE_INTEGER })[6]!), 'l');
    assert.equal(String.fromCharCode(encodeTable({ v: -(2 ** 40) })[6]!), 'l');
  });

  test('an integral double beyond 2^53 stays a number through a re-encode (came back as a bigint via \'l\')', () => {
    // table.fuzz crash-c978efa2: entries "" 'B' 94, "\0\0" 'V', "B\x03" 'd' 0x436f130356004258 (= 7.0e16, integral).
    const input = Buffer.from('0000001300425e0200005602420364436f1303560042580356000056005625', 'hex');
    const { table } = decodeTable(input, 0);
    assert.equal(typeof table['B\x03'], 'number');
    const again = decodeTable(encodeTable(table), 0).table;
    assert.deepEqual(again, table);
    assert.equal(typeof again['B\x03'], 'number');
  });

  test('a timestamp beyond 2^53 decodes exactly and round-trips (was a rounded number that came back as a different bigint)', () => {
    // table.fuzz crash-66f39555: three entries with key "", the last a 'T' of 0x005f5f70726f746f (> 2^53).
    const input = Buffer.from('0000001e006c003f000000000027006c023b0000090041000054005f5f70726f746f5f5f', 'hex');
    const { table } = decodeTable(input, 0);
    assert.equal(table[''], 0x005f5f70726f746fn);
    assert.deepEqual(decodeTable(encodeTable(table), 0).table, table);
    // The largest timestamp has no signed 64-bit form: it goes back out as 'T'.
    const max = Buffer.from('0000000b' + '01' + '54' + '54' + 'ffffffffffffffff', 'hex'); // key "T", tag 'T'
    const t = decodeTable(max, 0).table;
    assert.equal(t['T'], 2n ** 64n - 1n);
    const again = encodeTable(t);
    assert.equal(String.fromCharCode(again[4 + 2]!), 'T');
    assert.deepEqual(decodeTable(again, 0).table, t);
  });

  test('a field name that is not UTF-8 decodes to a name that still fits a shortstr (was RangeError on re-encode)', () => {
    // table.fuzz crash-bac54dd8: a 111-byte key "t" + 0x92 x 84 + "price" ...; U+FFFD per 0x92 made it 300+ UTF-8 bytes.
    const input = Buffer.from(
      '000000726f74929292929292929292929292929292929292929292929292929292929292929292929292929292929292929292929292929292929292929292929292929292929292929292929292929292929292929292929292707269636592929292929270726f746f7479706592925f70726f746f5f5f736b6f8e7258',
      'hex');
    const { table } = decodeTable(input, 0);
    const [key] = Object.keys(table);
    assert.ok(key !== undefined && Buffer.byteLength(key) === 111, 'the name keeps its byte length');
    assert.equal(key, `t${"?".repeat(84)}price${"?".repeat(6)}prototype??_pro`);
    assert.deepEqual(decodeTable(encodeTable(table), 0).table, table);
    // A UTF-8 name is untouched.
    const name = Buffer.from('clé€', 'utf8');
    const utf8 = Buffer.concat([Buffer.from([0, 0, 0, name.length + 2, name.length]), name, Buffer.from('V')]);
    assert.deepEqual(Object.keys(decodeTable(utf8, 0).table), ['clé€']);
  });
});


describe('fuzz findings: short strings', () => {
  // A queue name of 200 bytes 0xff decoded (UTF-8, U+FFFD per byte) to a 600-byte string, so echoing it
  // in queue.declare-ok threw RangeError and the connection got 541; the same for routing keys in
  // basic.deliver. Short strings now decode as field names do (wire.ts shortstrText).
  test('a decoded shortstr that is not UTF-8 re-encodes', () => {
    const args = Buffer.concat([Buffer.from([0, 0, 200]), Buffer.alloc(200, 0xff), Buffer.from([0, 0, 0, 0, 0])]);
    const payload = Buffer.concat([Buffer.from([0, 50, 0, 10]), args]);
    const frame = Buffer.concat([Buffer.from([1, 0, 1]), Buffer.alloc(4), payload, Buffer.from([0xce])]);
    frame.writeUInt32BE(payload.length, 3);
    const [decoded] = new FrameParser(0).push(frame);
    const method = decoded?.type === 1 ? decoded.method : undefined;
    if (method?.name !== 'queue.declare') throw new Error('expected queue.declare');
    const queue = method.args.queue;
    assert.doesNotThrow(() => encodeMethod(1, 'queue.declare-ok', { queue, messageCount: 0, consumerCount: 0 }));
  });

  // frames.fuzz crash-6f602d68: basic.reject with delivery-tag 0xfffffffffffffff9. The generated codec decodes
  // longlong as hi * 2^32 + lo in a double, which rounds to 2^64; writeUInt64 then throws. Broker impact is the
  // rounded tag in 406 texts (RabbitMQ prints it exactly); marked todo until the generated codec is fixed.
  test('a longlong near 2^64 decodes exactly and re-encodes', { todo: 'generated.ts longlong decoding' }, () => {
    const input = Buffer.from('0100010000000d003c005afffffffffffffff901ce', 'hex');
    const [decoded] = new FrameParser(131072).push(input);
    const method = decoded?.type === 1 ? decoded.method : undefined;
    if (method?.name !== 'basic.reject') throw new Error('expected basic.reject');
    assert.equal(BigInt(method.args.deliveryTag), 0xfffffffffffffff9n);
    assert.deepEqual(encodeMethod(1, 'basic.reject', method.args), input);
  });
});

