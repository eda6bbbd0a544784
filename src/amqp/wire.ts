// Hand-written runtime helpers of the generated codec (src/amqp/generated.ts imports them):
// payload rendering for error texts, decode failures, short strings and 64-bit writes.
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
