// Hand-written runtime helpers of the generated codec (src/amqp/generated.ts imports them):
// payload rendering for error texts, decode failures, short strings and 64-bit writes.
import { isUtf8 } from 'node:buffer';
import { AmqpError } from './errors.js';

/** Erlang-style rendering of the first 16 bytes of [start, end), as RabbitMQ prints payloads: <<1,2,...>>. */
export function payloadSnippet(buf: Buffer, start: number, end: number): string {
  const n = Math.min(end - start, 16);
  const bytes: string[] = [];
  for (let i = 0; i < n; i++) bytes.push(String(buf[start + i]!));
  if (end - start > n) bytes.push('...');
  return `<<${bytes.join(',')}>>`;
}

export function cannotDecode(classId: number, methodId: number, buf: Buffer, start: number, end: number): AmqpError {
  return new AmqpError(501, `cannot decode ${payloadSnippet(buf, start, end)}`, classId, methodId);
}

export function cannotDecodeProperties(buf: Buffer, start: number, end: number): AmqpError {
  return new AmqpError(501, `cannot decode content properties ${payloadSnippet(buf, start, end)}`);
}

/**
 * The text of a short string (names, routing keys, field names). UTF-8 in practice and decoded
 * exactly; for bytes that are not UTF-8 (RabbitMQ accepts them) every byte >= 0x80 becomes '?'.
 * The usual U+FFFD replacement would be as lossy and would triple the length, so a 255-byte value
 * could no longer be sent back as a shortstr (declare-ok, deliver, dead-lettering re-encode them).
 */
export function shortstrText(buf: Buffer, start: number, end: number): string {
  const bytes = buf.subarray(start, end);
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let text = '';
  for (const b of bytes) text += b < 0x80 ? String.fromCharCode(b) : '?';
  return text;
}

export function shortstrLength(s: string, field: string): number {
  const len = Buffer.byteLength(s, 'utf8');
  if (len > 255) throw new RangeError(`shortstr '${field}' is ${len} bytes; the limit is 255`);
  return len;
}

export function writeShortstr(buf: Buffer, o: number, s: string): number {
  const len = buf.write(s, o + 1, 'utf8');
  buf[o] = len;
  return o + 1 + len;
}

/** Unsigned 64-bit big-endian from a JS number (integers below 2^53; delivery tags and sizes stay there). */
export function writeUInt64(buf: Buffer, v: number, o: number): number {
  buf.writeUInt32BE(Math.floor(v / 0x100000000), o);
  buf.writeUInt32BE(v >>> 0, o + 4);
  return o + 8;
}
