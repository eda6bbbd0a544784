// Splits captured client bytes into frames, and finds the raw field tables inside frames, walking
// the argument layout the spec gives (METHODS) rather than decoding, so the seeds are the exact
// bytes clients send (wire types, key order, nesting).
import { METHODS } from '../../src/amqp/generated.js';
import { FrameType, takeFrame, type Frame } from '../helpers/wire.js';

export interface RawFrame { readonly frame: Frame; readonly bytes: Buffer }

export function splitFrames(stream: Buffer): RawFrame[] {
  const out: RawFrame[] = [];
  let rest = stream;
  for (let t = takeFrame(rest); t !== undefined; t = takeFrame(rest)) {
    out.push({ frame: t.frame, bytes: rest.subarray(0, rest.length - t.rest.length) });
    rest = t.rest;
  }
  return out;
}

const FIXED_BYTES: Record<string, number> = { octet: 1, short: 2, long: 4, longlong: 8, timestamp: 8 };

/** Every field table (4-byte length prefix included) in a method's arguments or a content header. */
export function tablesOf(f: Frame): Buffer[] {
  const p = f.payload;
  if (f.type === FrameType.method && p.length >= 4) {
    const info = METHODS.find((m) => m.classId === p.readUInt16BE(0) && m.methodId === p.readUInt16BE(2));
    if (info === undefined) return [];
    const tables: Buffer[] = [];
    let o = 4;
    let inBits = false;
    for (const a of info.args) {
      if (a.type === 'bit') {
        if (!inBits) o += 1;
        inBits = true;
        continue;
      }
      inBits = false;
      if (a.type === 'shortstr') o += 1 + (p[o] ?? 0);
      else if (a.type === 'longstr' || a.type === 'table') {
        const n = 4 + p.readUInt32BE(o);
        if (a.type === 'table') tables.push(p.subarray(o, o + n));
        o += n;
      } else o += FIXED_BYTES[a.type] ?? 0;
    }
    return tables;
  }
  // Content header: class(2) weight(2) size(8) flags(2); headers is the third property, after two shortstrs.
  if (f.type === FrameType.header && p.length >= 14) {
    const flags = p.readUInt16BE(12);
    if ((flags & 0x2000) === 0 || (flags & 1) !== 0) return [];
    let o = 14;
    if (flags & 0x8000) o += 1 + (p[o] ?? 0);
    if (flags & 0x4000) o += 1 + (p[o] ?? 0);
    return [p.subarray(o, o + 4 + p.readUInt32BE(o))];
  }
  return [];
}
