// AMQP 0-9-1 framing: a push parser that never sees a socket, and the frame encoders.
//
//   frame:          type(1) channel(2) size(4) payload(size) frame-end(1) = 0xCE
//   method payload: class-id(2) method-id(2) arguments
//   header payload: class-id(2) weight(2)=0 body-size(8) property-flags(2..) properties
//   body payload:   raw bytes, at most frame-max - 8 per frame
//   heartbeat:      empty payload, channel 0
//
// The parser mirrors rabbit_reader's checks and order: the frame size is checked against frame-max as
// soon as the 7-byte header is in (allowing RabbitMQ's 8-byte fudge for clients that forget the frame
// overhead), then the frame-end octet, then the frame type and payload layout. All failures are hard
// AmqpErrors; the connection layer turns them into connection.close.

import { AmqpError, ReplyCode } from './errors.js';
import {
  FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD, basicPropertiesSize, decodeBasicProperties,
  decodeMethodArgs, encodeMethodFrame, payloadSnippet, writeBasicProperties, writeUInt64,
} from './generated.js';
import type { ArgsOf, BasicProperties, Method, MethodName } from './generated.js';

/** What a client sends first: "AMQP" 0 0 9 1. */
export const PROTOCOL_HEADER: Buffer = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

export const HEARTBEAT_FRAME: Buffer = Buffer.from([FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, FRAME_END]);

/** type(1) + channel(2) + size(4) + frame-end(1). */
export const FRAME_OVERHEAD_BYTES = 8;
const HEADER_BYTES = 7;
/** class-id(2) weight(2) body-size(8), before the property flags. */
const CONTENT_HEADER_PREFIX_BYTES = 12;
const BASIC_CLASS_ID = 60;
const TWO_32 = 0x1_0000_0000;

export type Frame =
  | { readonly type: 1; readonly channel: number; readonly method: Method }
  | {
    readonly type: 2; readonly channel: number; readonly classId: number; readonly bodySize: number;
    readonly properties: BasicProperties;
    /** The whole header payload (class-id .. properties), for byte-exact re-delivery. */
    readonly raw: Buffer;
  }
  | { readonly type: 3; readonly channel: number; readonly payload: Buffer }
  | { readonly type: 8; readonly channel: number };

function frameError(type: number, buf: Buffer, start: number, end: number, reason: string): AmqpError {
  // rabbit_reader's text: "type ~p, ~s octets = ~p: ~p" with "all" or "first 16".
  const which = end - start <= 16 ? 'all' : 'first 16';
  return new AmqpError(ReplyCode.FrameError, `type ${type}, ${which} octets = ${payloadSnippet(buf, start, end)}: ${reason}`);
}

/**
 * Incremental frame decoder. Feed it bytes in any split; it returns whole frames in arrival order.
 *
 * Ownership: frames wholly inside one pushed chunk are views into that chunk (body payloads, longstr
 * arguments and header `raw` are not copied), so callers must not reuse chunk memory after pushing it
 * (Node's socket 'data' buffers are never reused). A frame split across chunks is assembled with one
 * copy. After a throw the parser has lost sync and must be discarded, along with the connection; frames
 * that preceded the bad one in the same chunk are not returned.
 */
export class FrameParser {
  /** Largest accepted frame including the 8 overhead bytes; 0 means no limit (AMQP's "frame-max 0"). */
  frameMaxBytes: number;
  /** Bytes of an incomplete frame, oldest first. */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** Total size of the frame being assembled in `parts`, or 0 while its 7-byte header is incomplete. */
  private needBytes = 0;

  constructor(frameMaxBytes: number) {
    this.frameMaxBytes = frameMaxBytes;
  }

  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    let rest = chunk;
    if (this.partsBytes > 0) {
      const consumed = this.continuePartial(chunk, frames);
      if (consumed < 0) return frames;
      rest = chunk.subarray(consumed);
    }
    let o = 0;
    while (rest.length - o >= HEADER_BYTES) {
      const total = this.frameTotal(rest, o);
      if (rest.length - o < total) break;
      frames.push(decodeFrame(rest, o, total));
      o += total;
    }
    if (o < rest.length) this.stash(rest.subarray(o));
    return frames;
  }

  /**
   * Adds `chunk` to the incomplete frame. Returns how many bytes of `chunk` completed it (that frame is
   * appended to `frames`), or -1 when the whole chunk was absorbed and the frame is still incomplete.
   */
  private continuePartial(chunk: Buffer, frames: Frame[]): number {
    if (this.needBytes === 0) {
      const missing = HEADER_BYTES - this.partsBytes;
      if (chunk.length < missing) {
        this.append(chunk);
        return -1;
      }
      const header = Buffer.concat([...this.parts, chunk.subarray(0, missing)], HEADER_BYTES);
      this.needBytes = this.frameTotal(header, 0);
    }
    const missing = this.needBytes - this.partsBytes;
    if (chunk.length < missing) {
      this.append(chunk);
      return -1;
    }
    const frameBuf = Buffer.concat([...this.parts, chunk.subarray(0, missing)], this.needBytes);
    this.parts = [];
    this.partsBytes = 0;
    this.needBytes = 0;
    frames.push(decodeFrame(frameBuf, 0, frameBuf.length));
    return missing;
  }

  private append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.parts.push(chunk);
    this.partsBytes += chunk.length;
  }

  private stash(tail: Buffer): void {
    this.parts = [tail];
    this.partsBytes = tail.length;
    this.needBytes = tail.length >= HEADER_BYTES ? this.frameTotal(tail, 0) : 0;
  }

  /** Size of the frame whose header is at `o`, after the frame-max check (rabbit_reader's fudge included). */
  private frameTotal(buf: Buffer, o: number): number {
    const payloadBytes = buf.readUInt32BE(o + 3);
    const max = this.frameMaxBytes;
    if (max !== 0 && payloadBytes > max) {
      throw frameError(buf[o]!, buf, 0, 0, `{frame_too_large,${payloadBytes},${max - FRAME_OVERHEAD_BYTES}}`);
    }
    return payloadBytes + FRAME_OVERHEAD_BYTES;
  }
}

/** Decodes the complete frame of `total` bytes at `o` (frame-end not yet checked). */
function decodeFrame(buf: Buffer, o: number, total: number): Frame {
  const type = buf[o]!;
  const channel = buf.readUInt16BE(o + 1);
  const start = o + HEADER_BYTES;
  const end = o + total - 1;
  const marker = buf[end]!;
  if (marker !== FRAME_END) throw frameError(type, buf, start, end, `{invalid_frame_end_marker,${marker}}`);
  switch (type) {
    case FRAME_METHOD:
      return { type: 1, channel, method: decodeMethodPayload(buf, start, end) };
    case FRAME_HEADER:
      return decodeHeaderPayload(channel, buf, start, end);
    case FRAME_BODY:
      return { type: 3, channel, payload: buf.subarray(start, end) };
    case FRAME_HEARTBEAT:
      if (end !== start) throw frameError(type, buf, start, end, 'unknown_frame');
      return { type: 8, channel };
    default:
      throw frameError(type, buf, start, end, 'unknown_frame');
  }
}

function decodeMethodPayload(buf: Buffer, start: number, end: number): Method {
  if (end - start < 4) throw frameError(FRAME_METHOD, buf, start, end, 'unknown_frame');
  const classId = buf.readUInt16BE(start);
  const methodId = buf.readUInt16BE(start + 2);
  let method: Method | undefined;
  try {
    method = decodeMethodArgs(classId, methodId, buf, start + 4, end);
  } catch (err) {
    // Table decoding does not know which method it serves; attach the ids for connection.close.
    if (err instanceof AmqpError && err.classId === 0) {
      err.classId = classId;
      err.methodId = methodId;
    }
    throw err;
  }
  if (method === undefined) {
    throw new AmqpError(ReplyCode.NotImplemented, `unknown method class ${classId} method ${methodId}`, classId, methodId);
  }
  return method;
}

function decodeHeaderPayload(channel: number, buf: Buffer, start: number, end: number): Frame {
  if (end - start < CONTENT_HEADER_PREFIX_BYTES + 2) throw frameError(FRAME_HEADER, buf, start, end, 'unknown_frame');
  const classId = buf.readUInt16BE(start);
  const bodySize = buf.readUInt32BE(start + 4) * TWO_32 + buf.readUInt32BE(start + 8);
  if (!Number.isSafeInteger(bodySize)) {
    throw new AmqpError(ReplyCode.FrameError, `content body size ${bodySize} is too large`, classId, 0);
  }
  // Only class basic has content; a header for another class gets empty properties and the channel
  // reports the class mismatch (505 UNEXPECTED_FRAME) as RabbitMQ's command assembler does.
  const properties = classId === BASIC_CLASS_ID ? decodeBasicProperties(buf, start + CONTENT_HEADER_PREFIX_BYTES, end) : {};
  return { type: 2, channel, classId, bodySize, properties, raw: buf.subarray(start, end) };
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** One complete method frame. */
export function encodeMethod<N extends MethodName>(channel: number, name: N, args: ArgsOf<N>): Buffer {
  return encodeMethodFrame(channel, name, args);
}

/**
 * A method frame, a content header frame and the body frames (each carrying at most frameMaxBytes - 8
 * bytes; none for an empty body), in one buffer. `header` is either BasicProperties (encoded here) or
 * the raw header payload of a received type-2 frame, reused byte-for-byte except the body-size field,
 * which is rewritten when it differs from `body.length`. frameMaxBytes 0 means no limit.
 */
export function encodeContent<N extends MethodName>(
  channel: number, name: N, args: ArgsOf<N>, header: BasicProperties | Buffer, body: Buffer, frameMaxBytes: number,
): Buffer {
  const methodFrame = encodeMethodFrame(channel, name, args);
  const headerPayloadBytes = Buffer.isBuffer(header)
    ? header.length
    : CONTENT_HEADER_PREFIX_BYTES + basicPropertiesSize(header);
  if (frameMaxBytes !== 0 && frameMaxBytes <= FRAME_OVERHEAD_BYTES) throw new RangeError(`frameMaxBytes ${frameMaxBytes} is too small`);
  const chunkBytes = frameMaxBytes === 0 ? Math.max(body.length, 1) : frameMaxBytes - FRAME_OVERHEAD_BYTES;
  const bodyFrames = Math.ceil(body.length / chunkBytes);
  const out = Buffer.allocUnsafe(methodFrame.length + headerPayloadBytes + FRAME_OVERHEAD_BYTES * (1 + bodyFrames) + body.length);
  let o = methodFrame.copy(out, 0);
  o = writeFrameHeader(out, o, FRAME_HEADER, channel, headerPayloadBytes);
  const headerStart = o;
  if (Buffer.isBuffer(header)) {
    if (header.length < CONTENT_HEADER_PREFIX_BYTES + 2) throw new RangeError('raw content header is too short');
    o += header.copy(out, o);
    writeUInt64(out, body.length, headerStart + 4);
  } else {
    out.writeUInt16BE(BASIC_CLASS_ID, o);
    out.writeUInt16BE(0, o + 2);
    writeUInt64(out, body.length, o + 4);
    o = writeBasicProperties(out, o + CONTENT_HEADER_PREFIX_BYTES, header);
  }
  out[o++] = FRAME_END;
  for (let b = 0; b < body.length; b += chunkBytes) {
    const n = Math.min(chunkBytes, body.length - b);
    o = writeFrameHeader(out, o, FRAME_BODY, channel, n);
    o += body.copy(out, o, b, b + n);
    out[o++] = FRAME_END;
  }
  if (o !== out.length) throw new Error(`content encoder wrote ${o} of ${out.length} bytes`);
  return out;
}

function writeFrameHeader(buf: Buffer, o: number, type: number, channel: number, payloadBytes: number): number {
  buf[o] = type;
  buf.writeUInt16BE(channel, o + 1);
  buf.writeUInt32BE(payloadBytes, o + 3);
  return o + HEADER_BYTES;
}
