// AMQP 0-9-1 field tables and arrays (RabbitMQ's dialect: the errata type tags, not the spec's).
//
// Wire: table = long-uint byte length, then (shortstr key, 1-byte type tag, value)*; array = long-uint
// byte length, then (type tag, value)*. Tags follow RabbitMQ's rabbit_binary_parser:
//   t bool   b int8   B uint8   s int16   u uint16   I int32   i uint32   l int64   f float32
//   d float64   D decimal(places u8, digits u32)   S longstr   x byte array   T timestamp u64 (s)
//   V void   A array   F table
//
// Decoding keeps tables plain JS: numbers for every integer type (int64 and timestamps become a
// bigint only when they do not fit a double exactly), strings for S, Buffers for x. Re-encoding a decoded table therefore
// chooses wire types again; a caller that must preserve one (x-death `count` is 'l', `time` is 'T')
// wraps the value in a TypedValue.

import { AmqpError, ReplyCode } from './errors.js';
import { shortstrText } from './wire.js';

export type FieldTag = 't' | 'b' | 'B' | 's' | 'u' | 'I' | 'i' | 'l' | 'f' | 'd' | 'D' | 'S' | 'T' | 'x' | 'V' | 'A' | 'F';

/** An explicit wire type for the encoder. Decimals decode as `{ $type: 'D', value: { places, digits } }`. */
export type TypedValue = { readonly $type: FieldTag; readonly value: unknown };

export type FieldValue = boolean | number | bigint | string | Buffer | null | FieldTable | FieldValue[] | TypedValue;
export interface FieldTable {
  [key: string]: FieldValue;
}

export interface Decimal {
  readonly places: number;
  readonly digits: number;
}

/** Every tag this codec understands, in the order of the README's list. */
export const FIELD_TAGS: readonly FieldTag[] = ['t', 'b', 'B', 's', 'u', 'I', 'i', 'l', 'f', 'd', 'D', 'S', 'A', 'T', 'F', 'V', 'x'];

const TWO_32 = 0x1_0000_0000;

// ---------------------------------------------------------------------------------------------
// Decoding

/** Thrown for a table or array whose bytes do not parse; the frame decoder adds class/method ids. */
function malformed(detail: string): AmqpError {
  return new AmqpError(ReplyCode.FrameError, `cannot decode field table: ${detail}`);
}

function need(end: number, o: number, n: number): void {
  if (o + n > end) throw malformed('truncated');
}

/**
 * Decodes the table whose 4-byte length prefix starts at `offset`. `limit` bounds every read (the end of
 * the enclosing frame payload); bytes past it are never touched even when `buf` is a larger chunk.
 * Returns the offset just after the table. Throws AmqpError 501 on truncation and 502 on an unknown tag.
 */
export function decodeTable(buf: Buffer, offset: number, limit: number = buf.length): { table: FieldTable; end: number } {
  need(limit, offset, 4);
  const end = offset + 4 + buf.readUInt32BE(offset);
  if (end > limit) throw malformed('table length exceeds its container');
  return { table: decodeEntries(buf, offset + 4, end), end };
}

/**
 * Decoded numbers lose their wire type (a short and a long both become a JS number). Tables remember
 * the tag of each numeric entry under this non-enumerable symbol, for the few places that must name
 * the type the client sent (RabbitMQ's "the value '1000' of type 'short'" in equivalence errors).
 */
const WIRE_TAGS: unique symbol = Symbol('warren.wireTags');
const NUMERIC_TAGS = new Set<number>([0x62, 0x42, 0x73, 0x75, 0x49, 0x69, 0x6c, 0x66, 0x64, 0x54]);

/** The wire tag a numeric entry of a decoded table arrived with; undefined for other entries or built tables. */
export function wireTag(table: FieldTable, key: string): FieldTag | undefined {
  return (table as { [WIRE_TAGS]?: Record<string, FieldTag> })[WIRE_TAGS]?.[key];
}

function rememberTag(table: FieldTable, key: string, tag: number): void {
  const holder = table as { [WIRE_TAGS]?: Record<string, FieldTag> };
  let tags = holder[WIRE_TAGS];
  if (tags === undefined) {
    tags = Object.create(null) as Record<string, FieldTag>;
    Object.defineProperty(table, WIRE_TAGS, { value: tags, enumerable: false });
  }
  tags[key] = String.fromCharCode(tag) as FieldTag;
}

function decodeEntries(buf: Buffer, start: number, end: number): FieldTable {
  const table: FieldTable = {};
  let o = start;
  while (o < end) {
    const keyLen = buf[o]!;
    need(end, o + 1, keyLen + 1);
    const key = decodeKey(buf, o + 1, o + 1 + keyLen);
    const tag = buf[o + 1 + keyLen]!;
    if (NUMERIC_TAGS.has(tag)) rememberTag(table, key, tag);
    const r = decodeValue(buf, o + 1 + keyLen, end);
    // defineProperty-free assignment is safe: a key "__proto__" would hit the setter, so guard it.
    if (key === '__proto__') Object.defineProperty(table, key, { value: r.value, enumerable: true, writable: true, configurable: true });
    else table[key] = r.value;
    o = r.end;
  }
  return table;
}

/** A field name: a short string (see shortstrText for bytes that are not UTF-8). */
const decodeKey = shortstrText;

function decodeArray(buf: Buffer, start: number, end: number): FieldValue[] {
  const out: FieldValue[] = [];
  let o = start;
  while (o < end) {
    const r = decodeValue(buf, o, end);
    out.push(r.value);
    o = r.end;
  }
  return out;
}

/** Reads one tagged value at `o` (the tag byte). */
function decodeValue(buf: Buffer, o: number, end: number): { value: FieldValue; end: number } {
  need(end, o, 1);
  const tag = buf[o]!;
  o += 1;
  switch (tag) {
    case 0x74 /* t */: need(end, o, 1); return { value: buf[o]! !== 0, end: o + 1 };
    case 0x62 /* b */: need(end, o, 1); return { value: buf.readInt8(o), end: o + 1 };
    case 0x42 /* B */: need(end, o, 1); return { value: buf[o]!, end: o + 1 };
    case 0x73 /* s */: need(end, o, 2); return { value: buf.readInt16BE(o), end: o + 2 };
    case 0x75 /* u */: need(end, o, 2); return { value: buf.readUInt16BE(o), end: o + 2 };
    case 0x49 /* I */: need(end, o, 4); return { value: buf.readInt32BE(o), end: o + 4 };
    case 0x69 /* i */: need(end, o, 4); return { value: buf.readUInt32BE(o), end: o + 4 };
    case 0x6c /* l */: need(end, o, 8); return { value: readInt64(buf, o), end: o + 8 };
    case 0x66 /* f */: need(end, o, 4); return { value: buf.readFloatBE(o), end: o + 4 };
    case 0x64 /* d */: need(end, o, 8); return { value: buf.readDoubleBE(o), end: o + 8 };
    case 0x44 /* D */: {
      need(end, o, 5);
      const value: TypedValue = { $type: 'D', value: { places: buf[o]!, digits: buf.readUInt32BE(o + 1) } };
      return { value, end: o + 5 };
    }
    case 0x53 /* S */: {
      const len = readLength(buf, o, end);
      return { value: buf.toString('utf8', o + 4, o + 4 + len), end: o + 4 + len };
    }
    case 0x78 /* x */: {
      const len = readLength(buf, o, end);
      return { value: Buffer.from(buf.subarray(o + 4, o + 4 + len)), end: o + 4 + len };
    }
    case 0x54 /* T */: need(end, o, 8); return { value: readUInt64(buf, o), end: o + 8 };
    case 0x56 /* V */: return { value: null, end: o };
    case 0x41 /* A */: {
      const len = readLength(buf, o, end);
      return { value: decodeArray(buf, o + 4, o + 4 + len), end: o + 4 + len };
    }
    case 0x46 /* F */: {
      const len = readLength(buf, o, end);
      return { value: decodeEntries(buf, o + 4, o + 4 + len), end: o + 4 + len };
    }
    default:
      throw new AmqpError(ReplyCode.SyntaxError, `unsupported field table type ${JSON.stringify(String.fromCharCode(tag))} (0x${tag.toString(16)})`);
  }
}

/** A 4-byte length prefix at `o` whose content must fit before `end`. */
function readLength(buf: Buffer, o: number, end: number): number {
  need(end, o, 4);
  const len = buf.readUInt32BE(o);
  need(end, o + 4, len);
  return len;
}

function readInt64(buf: Buffer, o: number): number | bigint {
  const hi = buf.readInt32BE(o);
  const lo = buf.readUInt32BE(o + 4);
  const n = hi * TWO_32 + lo;
  return Number.isSafeInteger(n) ? n : buf.readBigInt64BE(o);
}

/** Timestamps as for int64: a number when exact, else a bigint (a double would silently round it). */
function readUInt64(buf: Buffer, o: number): number | bigint {
  const n = buf.readUInt32BE(o) * TWO_32 + buf.readUInt32BE(o + 4);
  return Number.isSafeInteger(n) ? n : buf.readBigUInt64BE(o);
}

// ---------------------------------------------------------------------------------------------
// Encoding: size first, then write into one exact allocation (no scratch buffer, no limit on size).

/** Encoded size of a table including its 4-byte length prefix. `undefined` entries are skipped. */
export function tableSize(table: FieldTable): number {
  let n = 4;
  for (const key in table) {
    const v = table[key];
    if (v === undefined) continue;
    n += 1 + shortKeyLength(key) + valueSize(v);
  }
  return n;
}

/** The table with its 4-byte length prefix, as it appears in method arguments and properties. */
export function encodeTable(table: FieldTable): Buffer {
  const buf = Buffer.allocUnsafe(tableSize(table));
  const end = writeTable(buf, 0, table);
  if (end !== buf.length) throw new Error(`table encoder wrote ${end} bytes, sized ${buf.length}`);
  return buf;
}

/** Writes `table` (with its length prefix) at `offset`; returns the offset after it. */
export function writeTable(buf: Buffer, offset: number, table: FieldTable): number {
  let o = offset + 4;
  for (const key in table) {
    const v = table[key];
    if (v === undefined) continue;
    const len = buf.write(key, o + 1, 'utf8');
    buf[o] = len;
    o = writeValue(buf, o + 1 + len, v);
  }
  buf.writeUInt32BE(o - offset - 4, offset);
  return o;
}

function shortKeyLength(key: string): number {
  const len = Buffer.byteLength(key, 'utf8');
  if (len > 255) throw new RangeError(`field table key longer than 255 bytes: ${key.slice(0, 40)}...`);
  return len;
}

type Plan = { readonly tag: FieldTag; readonly value: unknown };

const TWO_63 = 2n ** 63n;

/** Chooses the wire type of a value (see the module comment for the mapping). */
function plan(v: unknown): Plan {
  switch (typeof v) {
    case 'boolean': return { tag: 't', value: v };
    case 'string': return { tag: 'S', value: v };
    // A bigint at or above 2^63 can only be a decoded timestamp: 'T' is the one unsigned 64-bit type.
    case 'bigint': return { tag: v >= TWO_63 ? 'T' : 'l', value: v };
    case 'number':
      // Only safe integers go out as integer types. Beyond 2^53 a number is a double that happens to be
      // integral (a decoded 'd' of 1e300 or 7e16): 'l' cannot hold the former and would bring the latter
      // back as a bigint; exact big integers are bigints already.
      if (!Number.isSafeInteger(v)) return { tag: 'd', value: v };
      return { tag: v >= -0x8000_0000 && v <= 0x7fff_ffff ? 'I' : 'l', value: v };
    case 'undefined': return { tag: 'V', value: null };
    case 'object':
      if (v === null) return { tag: 'V', value: null };
      if (Buffer.isBuffer(v)) return { tag: 'x', value: v };
      if (Array.isArray(v)) return { tag: 'A', value: v };
      if (isTyped(v)) return { tag: v.$type, value: v.value };
      return { tag: 'F', value: v };
    default:
      throw new TypeError(`cannot encode a ${typeof v} in a field table`);
  }
}

function isTyped(v: object): v is TypedValue {
  return typeof (v as { $type?: unknown }).$type === 'string' && 'value' in v && Object.keys(v).length === 2;
}

function valueSize(v: unknown): number {
  const p = plan(v);
  const x = p.value;
  switch (p.tag) {
    case 't': case 'b': case 'B': return 2;
    case 's': case 'u': return 3;
    case 'I': case 'i': case 'f': return 5;
    case 'l': case 'd': case 'T': return 9;
    case 'D': return 6;
    case 'V': return 1;
    case 'S': return 5 + (typeof x === 'string' ? Buffer.byteLength(x, 'utf8') : asBuffer(x).length);
    case 'x': return 5 + asBuffer(x).length;
    case 'A': {
      let n = 5;
      for (const item of asArray(x)) n += valueSize(item);
      return n;
    }
    case 'F': return 1 + tableSize(x as FieldTable);
  }
}

function writeValue(buf: Buffer, o: number, v: unknown): number {
  const p = plan(v);
  const x = p.value;
  buf[o] = p.tag.charCodeAt(0);
  o += 1;
  switch (p.tag) {
    case 't': buf[o] = x ? 1 : 0; return o + 1;
    case 'b': return buf.writeInt8(num(x), o);
    case 'B': return buf.writeUInt8(num(x), o);
    case 's': return buf.writeInt16BE(num(x), o);
    case 'u': return buf.writeUInt16BE(num(x), o);
    case 'I': return buf.writeInt32BE(num(x), o);
    case 'i': return buf.writeUInt32BE(num(x), o);
    case 'l': return buf.writeBigInt64BE(BigInt(x as number | bigint), o);
    case 'T': return buf.writeBigUInt64BE(BigInt(x as number | bigint), o);
    case 'f': return buf.writeFloatBE(num(x), o);
    case 'd': return buf.writeDoubleBE(num(x), o);
    case 'D': {
      const d = x as Decimal;
      buf.writeUInt8(d.places, o);
      return buf.writeUInt32BE(d.digits, o + 1);
    }
    case 'V': return o;
    case 'S':
      if (typeof x === 'string') {
        const len = buf.write(x, o + 4, 'utf8');
        buf.writeUInt32BE(len, o);
        return o + 4 + len;
      }
      return writeBytes(buf, o, asBuffer(x));
    case 'x': return writeBytes(buf, o, asBuffer(x));
    case 'A': {
      let p2 = o + 4;
      for (const item of asArray(x)) p2 = writeValue(buf, p2, item);
      buf.writeUInt32BE(p2 - o - 4, o);
      return p2;
    }
    case 'F': return writeTable(buf, o, x as FieldTable);
  }
}

function writeBytes(buf: Buffer, o: number, bytes: Buffer): number {
  buf.writeUInt32BE(bytes.length, o);
  bytes.copy(buf, o + 4);
  return o + 4 + bytes.length;
}

function num(x: unknown): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'bigint') return Number(x);
  throw new TypeError(`expected a number in a typed field value, got ${typeof x}`);
}

function asBuffer(x: unknown): Buffer {
  if (Buffer.isBuffer(x)) return x;
  throw new TypeError(`expected a Buffer in a typed field value, got ${typeof x}`);
}

function asArray(x: unknown): readonly unknown[] {
  if (Array.isArray(x)) return x;
  throw new TypeError(`expected an array in a typed 'A' field value, got ${typeof x}`);
}
