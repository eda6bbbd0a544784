// Field tables: every RabbitMQ type decodes, plain values get the documented wire types, typed values
// keep theirs, malformed input becomes an AmqpError, and amqplib's codec agrees in both directions.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FIELD_TAGS, decodeTable, encodeTable, tableSize } from '../../../src/amqp/index.js';
import type { FieldTable } from '../../../src/amqp/index.js';
import { AmqpError } from '../../../src/amqp/errors.js';
import { EVERY_TYPE_TABLE, EVERY_TYPE_TABLE_DECODED } from './fixtures.js';

const require = createRequire(import.meta.url);
const codec = require(path.join(path.dirname(require.resolve('amqplib')), 'lib', 'codec.js')) as {
  encodeTable(buf: Buffer, val: unknown, offset: number): number;
  decodeFields(slice: Buffer): Record<string, unknown>;
};

/** A table from hand-written entry bytes: key, tag and value bytes per entry. */
function rawTable(entries: [key: string, tag: string, value: number[]][]): Buffer {
  const body = Buffer.concat(entries.map(([k, tag, v]) => Buffer.concat([Buffer.from([k.length]), Buffer.from(k), Buffer.from(tag), Buffer.from(v)])));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** The single value tag of a one-entry table. */
function tagOf(value: unknown): string {
  const buf = encodeTable({ k: value } as FieldTable);
  return String.fromCharCode(buf[4 + 2]!);
}

describe('decodeTable', () => {
  test('decodes every type in RabbitMQ\'s list from hand-written bytes', () => {
    const buf = rawTable([
      ['t', 't', [1]], ['f0', 't', [0]],
      ['b', 'b', [0xfb]], ['B', 'B', [0xfb]],
      ['s', 's', [0xfe, 0xd4]], ['u', 'u', [0xfe, 0xd4]],
      ['I', 'I', [0xff, 0xff, 0xff, 0xfe]], ['i', 'i', [0xff, 0xff, 0xff, 0xfe]],
      ['l', 'l', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd]],
      ['lb', 'l', [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
      ['f', 'f', [0x3f, 0xc0, 0, 0]], ['d', 'd', [0x40, 0x0a, 0, 0, 0, 0, 0, 0]],
      ['D', 'D', [2, 0, 0, 0x30, 0x39]],
      ['S', 'S', [0, 0, 0, 2, 0x68, 0x69]],
      ['x', 'x', [0, 0, 0, 2, 0, 0xff]],
      ['T', 'T', [0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00]],
      ['V', 'V', []],
      ['A', 'A', [0, 0, 0, 7, 0x49, 0, 0, 0, 5, 0x56, 0x56]],
      ['F', 'F', [0, 0, 0, 4, 1, 0x6b, 0x74, 1]],
    ]);
    const { table, end } = decodeTable(buf, 0);
    assert.equal(end, buf.length);
    assert.deepEqual(table, {
      t: true, f0: false, b: -5, B: 251, s: -300, u: 65_236, I: -2, i: 4_294_967_294, l: -3,
      lb: 2n ** 63n - 1n, f: 1.5, d: 3.25, D: { $type: 'D', value: { places: 2, digits: 12_345 } },
      S: 'hi', x: Buffer.from([0, 0xff]), T: 1_700_000_000, V: null, A: [5, null, null], F: { k: true },
    });
    const tags = new Set('tbBsuIilfdDSxTVAF');
    for (const tag of FIELD_TAGS) assert.ok(tags.has(tag), `tag ${tag} covered`);
  });

  test('reads at an offset and stops at the table end', () => {
    const inner = rawTable([['a', 'S', [0, 0, 0, 1, 0x7a]]]);
    const buf = Buffer.concat([Buffer.from([9, 9, 9]), inner, Buffer.from([7, 7])]);
    assert.deepEqual(decodeTable(buf, 3), { table: { a: 'z' }, end: 3 + inner.length });
  });

  test('an unknown type tag is 502 SYNTAX_ERROR', () => {
    const buf = rawTable([['q', 'Q', [1]]]);
    assert.throws(() => decodeTable(buf, 0), (e: unknown) => e instanceof AmqpError && e.replyCode === 502 && /'Q'|"Q"/.test(e.message));
  });

  test('truncation anywhere is 501 FRAME_ERROR, never a RangeError', () => {
    const full = encodeTable(EVERY_TYPE_TABLE);
    for (let cut = 0; cut < full.length; cut++) {
      assert.throws(() => decodeTable(full.subarray(0, cut), 0), (e: unknown) => e instanceof AmqpError && e.replyCode === 501, `cut ${cut}`);
      // A limit inside a larger buffer is respected too.
      assert.throws(() => decodeTable(full, 0, cut), (e: unknown) => e instanceof AmqpError && e.replyCode === 501, `limit ${cut}`);
    }
  });

  test('a nested length that overruns its parent is rejected', () => {
    const buf = rawTable([['F', 'F', [0, 0, 0, 50, 1, 0x6b, 0x74, 1]]]);
    assert.throws(() => decodeTable(buf, 0), (e: unknown) => e instanceof AmqpError && e.replyCode === 501);
  });

  test('a "__proto__" key is data, not a prototype change', () => {
    const buf = rawTable([['__proto__', 'S', [0, 0, 0, 1, 0x7a]]]);
    const { table } = decodeTable(buf, 0);
    assert.equal(Object.getPrototypeOf(table), Object.prototype);
    assert.deepEqual(Object.keys(table), ['__proto__']);
  });
});

describe('encodeTable', () => {
  test('plain values get the documented wire types', () => {
    assert.equal(tagOf(true), 't');
    assert.equal(tagOf(0), 'I');
    assert.equal(tagOf(-(2 ** 31)), 'I');
    assert.equal(tagOf(2 ** 31 - 1), 'I');
    assert.equal(tagOf(2 ** 31), 'l');
    assert.equal(tagOf(-(2 ** 31) - 1), 'l');
    assert.equal(tagOf(0.5), 'd');
    assert.equal(tagOf('s'), 'S');
    assert.equal(tagOf(Buffer.from('x')), 'x');
    assert.equal(tagOf(null), 'V');
    assert.equal(tagOf([]), 'A');
    assert.equal(tagOf({}), 'F');
    assert.equal(tagOf(5n), 'l');
  });

  test('typed values keep their wire type (x-death count as l, time as T)', () => {
    const buf = encodeTable({ count: { $type: 'l', value: 3 }, time: { $type: 'T', value: 1_700_000_000 } });
    assert.equal(buf.toString('hex'), [
      '0000001d', // 29 = (1 + 5 + 1 + 8) + (1 + 4 + 1 + 8)
      '05', Buffer.from('count').toString('hex'), '6c', '0000000000000003',
      '04', Buffer.from('time').toString('hex'), '54', '000000006553f100',
    ].join(''));
  });

  test('undefined entries are skipped and the size is exact', () => {
    const table = { a: 'x', b: undefined } as unknown as FieldTable;
    const buf = encodeTable(table);
    assert.equal(buf.length, tableSize(table));
    assert.deepEqual(decodeTable(buf, 0).table, { a: 'x' });
  });

  test('every type round-trips through encode and decode', () => {
    const buf = encodeTable(EVERY_TYPE_TABLE);
    assert.equal(buf.length, tableSize(EVERY_TYPE_TABLE));
    assert.deepEqual(decodeTable(buf, 0), { table: EVERY_TYPE_TABLE_DECODED, end: buf.length });
  });

  test('an empty table is four zero bytes', () => {
    assert.equal(encodeTable({}).toString('hex'), '00000000');
  });

  test('a key longer than 255 bytes is refused', () => {
    assert.throws(() => encodeTable({ ['k'.repeat(256)]: 1 }), RangeError);
  });
});

describe('against amqplib', () => {
  test('amqplib decodes our encoding of every type', () => {
    const theirs = codec.decodeFields(encodeTable(EVERY_TYPE_TABLE).subarray(4));
    // amqplib renders D and T with its own '!' wrapper and int64 as a number; compare type by type.
    assert.deepEqual(theirs.D, { '!': 'decimal', value: { places: 2, digits: 12_345 } });
    assert.deepEqual(theirs.T, { '!': 'timestamp', value: 1_700_000_000 });
    for (const key of ['t', 'b', 'B', 's', 'u', 'I', 'i', 'l', 'f', 'd', 'S', 'V', 'A', 'F', 'x']) {
      assert.deepEqual(theirs[key], EVERY_TYPE_TABLE_DECODED[key], key);
    }
    assert.equal(BigInt(theirs.lbig as number | bigint), 2n ** 62n);
  });

  test('we decode amqplib\'s encoding, including its narrow integer choices', () => {
    const value = {
      small: 5, neg: -200, mid: 40_000, big: 2 ** 40, frac: 0.25, str: 'ü', yes: false, none: null,
      list: [1, 'two'], nested: { a: 'b' }, bytes: Buffer.from([1, 2]),
      dec: { '!': 'decimal', value: { places: 1, digits: 5 } }, ts: { '!': 'timestamp', value: 42 },
      u8: { '!': 'uint8', value: 200 }, u16: { '!': 'uint16', value: 65_000 }, u32: { '!': 'uint32', value: 3e9 },
      f32: { '!': 'float', value: 0.5 },
    };
    const scratch = Buffer.alloc(4096);
    const len = codec.encodeTable(scratch, value, 0);
    assert.deepEqual(decodeTable(scratch.subarray(0, len), 0).table, {
      small: 5, neg: -200, mid: 40_000, big: 2 ** 40, frac: 0.25, str: 'ü', yes: false, none: null,
      list: [1, 'two'], nested: { a: 'b' }, bytes: Buffer.from([1, 2]),
      dec: { $type: 'D', value: { places: 1, digits: 5 } }, ts: 42, u8: 200, u16: 65_000, u32: 3e9, f32: 0.5,
    });
  });

  test('tables of strings, booleans, arrays and nested tables encode byte-identically', () => {
    const value = { a: 'x', b: true, c: ['y', false], d: { e: 'z' }, f: Buffer.from([9]) };
    const scratch = Buffer.alloc(1024);
    const len = codec.encodeTable(scratch, value, 0);
    assert.equal(encodeTable(value).toString('hex'), scratch.subarray(0, len).toString('hex'));
  });
});
