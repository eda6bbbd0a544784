// Fuzz target (a): the frame parser, fed arbitrary bytes in arbitrary chunks.
//
// Input: a client byte stream after the protocol header (what Connection hands FrameParser).
// Invariants, each a finding when broken:
//   - FrameParser.push only ever throws AmqpError (a RangeError from a read past the end, a TypeError,
//     an allocation sized by an unchecked length field — see alloc-guard.ts — are parser bugs);
//   - the split does not matter: whole input, one byte at a time and pseudo-random chunks (seeded by
//     the input) yield the same frames and the same first error (frames of the chunk that fails are
//     dropped by contract, so a failing run's frames must be a prefix of the byte-wise ones);
//   - every decoded method and content header re-encodes, and re-decodes to the same value.
import { isDeepStrictEqual } from 'node:util';
import { AmqpError } from '../../../src/amqp/errors.js';
import { FrameParser, encodeContent, encodeMethod, type Frame } from '../../../src/amqp/frames.js';
import { withAllocationBound } from '../alloc-guard.js';
import { chunkSizes } from '../chunks.js';
import { knownIssue } from '../known-issues.js';

/** Warren's default frame_max, and 0 ("no limit", the parser's other mode). */
const FRAME_MAX_CHOICES = [131072, 0, 4096];

interface Outcome {
  readonly frames: Frame[];
  readonly error: AmqpError | undefined;
}

function parse(data: Buffer, sizes: readonly number[], frameMaxBytes: number): Outcome {
  const parser = new FrameParser(frameMaxBytes);
  const frames: Frame[] = [];
  let o = 0;
  try {
    for (const n of sizes) {
      frames.push(...parser.push(data.subarray(o, o + n)));
      o += n;
    }
  } catch (err) {
    if (err instanceof AmqpError) return { frames, error: err };
    throw err;
  }
  return { frames, error: undefined };
}

function errorKey(e: AmqpError | undefined): string {
  return e === undefined ? 'none' : `${e.replyCode} ${e.classId}/${e.methodId} ${e.replyText}`;
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`frames oracle: ${what}`);
}

function compare(name: string, got: Outcome, ref: Outcome): void {
  check(errorKey(got.error) === errorKey(ref.error), `${name} error ${errorKey(got.error)} != byte-wise ${errorKey(ref.error)}`);
  if (ref.error === undefined) {
    check(isDeepStrictEqual(got.frames, ref.frames), `${name} frames differ from byte-wise frames`);
  } else {
    check(got.frames.length <= ref.frames.length && isDeepStrictEqual(got.frames, ref.frames.slice(0, got.frames.length)),
      `${name} frames are not a prefix of the byte-wise frames`);
  }
}

/** Re-encodes a decoded frame and decodes it again; the value must survive. */
function roundTrip(frame: Frame): void {
  try {
    roundTripOrThrow(frame);
  } catch (err) {
    if (!(err instanceof RangeError) || knownIssue(err) === undefined) throw err;
  }
}

function roundTripOrThrow(frame: Frame): void {
  let bytes: Buffer;
  if (frame.type === 1) bytes = encodeMethod(frame.channel, frame.method.name, frame.method.args);
  else if (frame.type === 2 && frame.classId === 60) {
    const all = encodeContent(frame.channel, 'basic.publish', { ticket: 0, exchange: '', routingKey: '', mandatory: false, immediate: false },
      frame.properties, Buffer.alloc(0), 0);
    bytes = all.subarray(all.readUInt32BE(3) + 8);
  } else return;
  const again = new FrameParser(0).push(bytes);
  check(again.length === 1, `re-encoded frame parsed into ${again.length} frames`);
  const a = again[0];
  if (frame.type === 1) check(a?.type === 1 && isDeepStrictEqual(a.method, frame.method), `method ${frame.method.name} does not round-trip`);
  if (frame.type === 2) check(a?.type === 2 && isDeepStrictEqual(a.properties, frame.properties), 'content properties do not round-trip');
}

export function fuzz(data: Buffer): void {
  withAllocationBound(data.length, () => {
    const frameMaxBytes = FRAME_MAX_CHOICES[data.length % FRAME_MAX_CHOICES.length] ?? 0;
    const byteWise = parse(data, new Array<number>(data.length).fill(1), frameMaxBytes);
    compare('whole-buffer', parse(data, [data.length], frameMaxBytes), byteWise);
    compare('random-chunk', parse(data, chunkSizes(data), frameMaxBytes), byteWise);
    for (const f of byteWise.frames) roundTrip(f);
  });
}
