// The protobuf wire format, for the messages Warren encodes and decodes by hand because they are per
// message (src/partition/codec.ts: Enqueue, PartitionBatch; src/rpc/owner-codec.ts: the Owner
// service's enqueue, delivery and settle traffic). The generated protobufjs code stays the reference
// for every message; these paths write the same bytes and read what it writes.
//
// 64-bit integers are plain numbers, exact below 2^53 (as u64() of a protobufjs Long). Field numbers
// of the hand-coded messages are below 16, so every tag is one byte.
import { isUtf8 } from 'node:buffer';

export const VARINT = 0;
const I64 = 1;
export const LEN = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const I32 = 5;
const MAX_GROUP_DEPTH = 100;

export const EMPTY_BYTES: Uint8Array = Buffer.alloc(0);

/** Bytes of a varint holding `v`: a non-negative integer (a negative one is a programmer error here). */
export function varintSize(v: number): number {
  if (!(v >= 0)) throw new RangeError(`protobuf: cannot write ${v} as an unsigned varint`);
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Bytes of an int32 (or enum) varint: a negative value takes ten, as two's complement 64-bit. */
export function int32Size(v: number): number {
  v |= 0;
  return v < 0 ? 10 : varintSize(v);
}

/** Bytes of a length-delimited field: its one-byte tag, the length and the payload. */
export function fieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

// ---- proto3 fields without presence: protobufjs leaves out defaults (0, '', empty bytes) ----------

export type Maybe<T> = T | null | undefined;

/** A uint64 field: absent when 0. */
export function u64Size(v: Maybe<number>): number {
  return v == null || v === 0 ? 0 : 1 + varintSize(v);
}
/** A uint32 field: absent when 0; written modulo 2^32, as protobufjs does. */
export function u32Size(v: Maybe<number>): number {
  return v == null || v === 0 ? 0 : 1 + varintSize(v >>> 0);
}
/** An enum (int32) field: absent when 0; a negative value takes ten bytes. */
export function enumSize(v: Maybe<number>): number {
  return v == null || v === 0 ? 0 : 1 + int32Size(v);
}
export function bytesSize(b: Maybe<Uint8Array>): number {
  return b == null || b.length === 0 ? 0 : fieldSize(b.length);
}
export function has(s: Maybe<string>): s is string {
  return s != null && s !== '';
}
export function hasBytes(b: Maybe<Uint8Array>): b is Uint8Array {
  return b != null && b.length > 0;
}
export function putU64(w: WireWriter, field: number, v: Maybe<number>): void {
  if (v != null && v !== 0) w.tag(field, VARINT).varint(v);
}
export function putU32(w: WireWriter, field: number, v: Maybe<number>): void {
  if (v != null && v !== 0) w.tag(field, VARINT).varint(v >>> 0);
}
export function putEnum(w: WireWriter, field: number, v: Maybe<number>): void {
  if (v != null && v !== 0) w.tag(field, VARINT).int32(v);
}
export function putBytes(w: WireWriter, field: number, b: Maybe<Uint8Array>): void {
  if (hasBytes(b)) w.tag(field, LEN).bytes(b);
}

/** Writes into a buffer of exactly the computed size. */
export class WireWriter {
  private readonly buf: Buffer;
  private at = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  get position(): number {
    return this.at;
  }
  tag(fieldNumber: number, wireType: number): this {
    this.buf[this.at++] = fieldNumber << 3 | wireType;
    return this;
  }
  /** A non-negative integer below 2^53. */
  varint(v: number): this {
    while (v >= 128) {
      this.buf[this.at++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.at++] = v;
    return this;
  }
  /** An int32 (or enum) value, as int32Size() counts it. */
  int32(v: number): this {
    v |= 0;
    if (v >= 0) return this.varint(v);
    let lo = v >>> 0;
    let hi = 0xffffffff;
    for (let i = 0; i < 9; i++) {
      this.buf[this.at++] = (lo & 0x7f) | 0x80;
      lo = (lo >>> 7 | hi << 25) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.at++] = lo;
    return this;
  }
  string(s: string, byteLength: number): this {
    this.varint(byteLength);
    this.at += this.buf.write(s, this.at, byteLength, 'utf8');
    return this;
  }
  bytes(b: Uint8Array): this {
    this.varint(b.byteLength);
    this.buf.set(b, this.at);
    this.at += b.byteLength;
    return this;
  }
  /** Writes again `length` bytes already written at `from` (a repeated string, prefix included). */
  copy(from: number, length: number): this {
    this.buf.copyWithin(this.at, from, from + length);
    this.at += length;
    return this;
  }
  done(): Buffer {
    if (this.at !== this.buf.length) throw new Error(`protobuf: encoded ${this.at} bytes, sized ${this.buf.length}`);
    return this.buf;
  }
}

/**
 * One string field across the items of a message being encoded. Consecutive items usually carry the
 * same vhost, queue, exchange, routing key...: each run of equal values is measured once (sizing
 * pass) and UTF-8 encoded once (writing pass), the run's later items copying the bytes written for
 * its first. Both passes must see the same values in the same order. One instance per message.
 */
export class StringRun {
  private readonly lengths: number[] = [];
  private measured: string | undefined;
  private written: string | undefined;
  private run = 0;
  private writtenAt = 0;
  private writtenSize = 0;

  /** Bytes of `s` as a length-delimited payload (length prefix and UTF-8), the tag not included. */
  measure(s: string): number {
    if (s !== this.measured) {
      this.measured = s;
      this.lengths.push(Buffer.byteLength(s));
    }
    const n = this.lengths[this.lengths.length - 1]!;
    return varintSize(n) + n;
  }

  /** Writes `s` (after its tag) as measure() sized it. */
  write(w: WireWriter, s: string): void {
    if (s === this.written) {
      w.copy(this.writtenAt, this.writtenSize);
      return;
    }
    this.written = s;
    this.writtenAt = w.position;
    w.string(s, this.lengths[this.run++]!);
    this.writtenSize = w.position - this.writtenAt;
  }
}

/**
 * The string last read for one field of the message being decoded: the same bytes in a later item
 * are compared, not decoded again, and give the same string. Offsets are into that message's
 * buffer, so one instance per decode.
 */
export class LastString {
  start = 0;
  length = -1;
  value = '';
}

/** Reads fields of [at, end) of a buffer; throws a RangeError on truncated or malformed input. */
export class WireReader {
  /** A Buffer over the same bytes (one per decode, not one per string). */
  private readonly buf: Buffer;
  constructor(bytes: Uint8Array, public at: number, public end: number) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  /** A field's tag: at most five bytes and 32 bits, as protobufjs reads tags (anything longer throws). */
  tag(): number {
    let v = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const b = this.byte();
      v |= (b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
    const last = this.byte();
    if (last > 0x0f) throw new RangeError('protobuf: invalid tag');
    return (v | last << 28) >>> 0;
  }
  /** Up to 64 bits (of a tenth byte, only its lowest); exact below 2^53 (as u64() of a Long). */
  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      v += (i < 9 ? b & 0x7f : b & 1) * scale;
      if (b < 0x80) return v;
      scale *= 128;
    }
    throw new RangeError('protobuf: varint too long');
  }
  /** A varint's low 32 bits, signed (int32 and enum fields: a negative value takes ten bytes). */
  int32(): number {
    let v = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      const b = this.byte();
      if (shift < 32) v |= (b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
    throw new RangeError('protobuf: varint too long');
  }
  /** A varint's low 32 bits (uint32 fields), as protobufjs reads them. */
  uint32(): number {
    return this.int32() >>> 0;
  }
  /** True when any of the varint's bits is set, as protobufjs reads a bool (bits past 64 included). */
  bool(): boolean {
    let v = false;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      if ((b & 0x7f) !== 0) v = true;
      if (b < 0x80) return v;
    }
    throw new RangeError('protobuf: varint too long');
  }
  /** Reads a length (at most five bytes, below 2^31, as protobufjs reads them) and returns where the field ends. */
  length(): number {
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte();
      if (shift === 28) {
        if (b > 7) throw new RangeError('protobuf: invalid length');
        n = (n | b << 28) >>> 0;
        break;
      }
      n |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    const end = this.at + n;
    if (end > this.end) throw new RangeError('protobuf: truncated field');
    return end;
  }
  /**
   * Enters a length-delimited field (an embedded message, a packed array): reads stop at its end
   * until leave(outer) with the value returned here.
   */
  enter(): number {
    const outer = this.end;
    this.end = this.length();
    return outer;
  }
  leave(outer: number): void {
    this.end = outer;
  }
  /** A packed repeated varint field (uint64 values, exact below 2^53): appends its values to `out`. */
  varints(out: number[]): void {
    const outer = this.enter();
    while (this.at < this.end) out.push(this.varint());
    this.leave(outer);
  }
  /** A view of the bytes, not a copy. */
  bytes(): Uint8Array {
    const end = this.length();
    const v = this.buf.subarray(this.at, end);
    this.at = end;
    return v;
  }
  /** A string field, decoded leniently (invalid UTF-8 becomes U+FFFD). */
  string(): string {
    const end = this.length();
    const v = this.buf.toString('utf8', this.at, end);
    this.at = end;
    return v;
  }
  /**
   * A string field that may repeat the one `last` holds (see LastString). Invalid UTF-8 throws, as
   * protobufjs's decoders do; it is checked only when the decoded text holds U+FFFD. Not `strict`:
   * decoded leniently instead, as string().
   */
  text(last: LastString, strict = true): string {
    const end = this.length();
    const start = this.at;
    const n = end - start;
    this.at = end;
    if (n === last.length && sameBytes(this.buf, last.start, start, n)) return last.value;
    const v = this.buf.toString('utf8', start, end);
    if (strict && v.includes('\uFFFD') && !isUtf8(this.buf.subarray(start, end))) throw new RangeError('protobuf: a string field is not UTF-8');
    last.start = start;
    last.length = n;
    last.value = v;
    return v;
  }
  /**
   * Skips the field whose tag was just read (an unknown field, or a known one of another wire type)
   * as protobufjs does: a varint of any length, a (deprecated) group with what it nests.
   */
  skip(tag: number, groupDepth = 0): void {
    if (tag < 8) throw new RangeError('protobuf: field number 0');
    switch (tag & 7) {
      case VARINT: while (this.byte() >= 0x80); break;
      case I64: this.at += 8; break;
      case LEN: this.at = this.length(); break;
      case START_GROUP: this.skipGroup(tag >>> 3, groupDepth + 1); break;
      case I32: this.at += 4; break;
      default: throw new RangeError(`protobuf: unexpected wire type ${tag & 7}`);
    }
    if (this.at > this.end) throw new RangeError('protobuf: truncated field');
  }
  private skipGroup(fieldNumber: number, depth: number): void {
    // protoc's and protobufjs's recursion limit (theirs also counts the enclosing messages).
    if (depth > MAX_GROUP_DEPTH) throw new RangeError('protobuf: groups nested too deep');
    for (;;) {
      const tag = this.tag();
      if ((tag & 7) === END_GROUP) {
        if (tag >>> 3 !== fieldNumber) throw new RangeError('protobuf: mismatched end-group tag');
        return;
      }
      this.skip(tag, depth);
    }
  }
  private byte(): number {
    if (this.at >= this.end) throw new RangeError('protobuf: truncated varint');
    return this.buf[this.at++]!;
  }
}

/** Whether buf[a, a + n) and buf[b, b + n) hold the same bytes. */
function sameBytes(buf: Buffer, a: number, b: number, n: number): boolean {
  if (n > 32) return buf.compare(buf, a, a + n, b, b + n) === 0;
  for (let i = 0; i < n; i++) if (buf[a + i] !== buf[b + i]) return false;
  return true;
}
