// Fuzz target (b): the field-table decoder (src/amqp/table.ts).
//
// Input: a field table as it appears on the wire (4-byte length prefix, then entries), e.g. the
// client-properties of start-ok, queue.declare arguments, or the headers property.
// Invariants, each a finding when broken:
//   - decodeTable only throws AmqpError, and allocates nothing sized by an unchecked length;
//   - `limit` is honoured: the same bytes followed by junk decode identically (nothing past the
//     limit is read), and the returned end is within it;
//   - a decoded table re-encodes (the broker re-encodes client tables: dead-lettered headers,
//     x-death, declare arguments), and decoding that yields the same values.
import { isDeepStrictEqual } from 'node:util';
import { AmqpError } from '../../../src/amqp/errors.js';
import { decodeTable, encodeTable, type FieldTable } from '../../../src/amqp/table.js';
import { withAllocationBound } from '../alloc-guard.js';

const JUNK = Buffer.from([0x00, 0x00, 0x00, 0x10, 0x53, 0xff, 0xff, 0xff, 0xff, 0x46]);

type Decoded = { table: FieldTable; end: number } | AmqpError;

function decode(buf: Buffer, limit: number): Decoded {
  try {
    return decodeTable(buf, 0, limit);
  } catch (err) {
    if (err instanceof AmqpError) return err;
    throw err;
  }
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`table oracle: ${what}`);
}

/** JSON-ish view for comparisons: -0 and 0 are the same number on the wire's integer types. */
function normalize(v: unknown): unknown {
  if (typeof v === 'number' && Object.is(v, -0)) return 0;
  if (Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) return v.map(normalize);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: normalize(x), enumerable: true });
    return out;
  }
  return v;
}

export function fuzz(data: Buffer): void {
  withAllocationBound(data.length, () => {
    const r = decode(data, data.length);
    const padded = decode(Buffer.concat([data, JUNK]), data.length);
    if (r instanceof AmqpError) {
      check(padded instanceof AmqpError && padded.replyText === r.replyText, 'bytes past the limit changed the error');
      return;
    }
    check(!(padded instanceof AmqpError) && isDeepStrictEqual(padded, r), 'bytes past the limit changed the result');
    check(r.end >= 4 && r.end <= data.length, `end ${r.end} outside [4, ${data.length}]`);
    const again = decodeTable(encodeTable(r.table), 0);
    check(isDeepStrictEqual(normalize(again.table), normalize(r.table)), 'decoded table does not round-trip through encodeTable');
  });
}
