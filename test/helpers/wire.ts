// A deliberately tiny, hand-written AMQP 0-9-1 encoder/decoder for tests that must speak the
// protocol below any client library (malformed frames, raw handshakes). It shares no code with
// Warren's codec on purpose: a bug there must not be mirrored here.
//
// Frame layout (spec 2.3.5): type octet, channel short, size long, payload, frame-end 0xCE.

export const FRAME_END = 0xce;
export const FrameType = { method: 1, header: 2, body: 3, heartbeat: 8 } as const;

export const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]); // "AMQP" 0 0 9 1

/** Class and method ids used by the raw tests (from the 0-9-1 spec). */
export const M = {
  connectionStart: [10, 10], connectionStartOk: [10, 11], connectionTune: [10, 30],
  connectionTuneOk: [10, 31], connectionOpen: [10, 40], connectionOpenOk: [10, 41],
  connectionClose: [10, 50], connectionCloseOk: [10, 51],
  channelOpen: [20, 10], channelOpenOk: [20, 11], channelFlow: [20, 20], channelFlowOk: [20, 21],
  channelClose: [20, 40], channelCloseOk: [20, 41],
  queueDeclare: [50, 10], queueDeclareOk: [50, 11], queueBind: [50, 20], queueBindOk: [50, 21],
  queueDelete: [50, 40], queueDeleteOk: [50, 41],
  basicPublish: [60, 40], basicGet: [60, 70], basicGetOk: [60, 71], basicGetEmpty: [60, 72],
  basicAck: [60, 80], basicNack: [60, 120], confirmSelect: [85, 10], confirmSelectOk: [85, 11],
} as const satisfies Record<string, readonly [number, number]>;

export type TableValue = string | number | boolean | Buffer | { [k: string]: TableValue };

/** Appends big-endian fields; `bits` packs consecutive booleans into octets as the spec requires. */
export class Writer {
  private readonly parts: Buffer[] = [];

  octet(n: number): this { return this.push(Buffer.from([n & 0xff])); }
  short(n: number): this { const b = Buffer.alloc(2); b.writeUInt16BE(n); return this.push(b); }
  long(n: number): this { const b = Buffer.alloc(4); b.writeUInt32BE(n); return this.push(b); }
  longlong(n: number): this { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return this.push(b); }
  shortstr(s: string): this { const b = Buffer.from(s, 'utf8'); return this.octet(b.length).push(b); }
  longstr(s: string | Buffer): this { const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s; return this.long(b.length).push(b); }
  bits(...flags: boolean[]): this {
    let byte = 0;
    flags.forEach((f, i) => { if (f) byte |= 1 << i; });
    return this.octet(byte);
  }
  table(t: Record<string, TableValue>): this { const body = encodeTableBody(t); return this.long(body.length).push(body); }
  raw(b: Buffer): this { return this.push(b); }
  build(): Buffer { return Buffer.concat(this.parts); }

  private push(b: Buffer): this { this.parts.push(b); return this; }
}

function encodeTableBody(t: Record<string, TableValue>): Buffer {
  const w = new Writer();
  for (const [k, v] of Object.entries(t)) {
    w.shortstr(k);
    if (typeof v === 'string') w.raw(Buffer.from('S')).longstr(v);
    else if (typeof v === 'boolean') w.raw(Buffer.from('t')).octet(v ? 1 : 0);
    else if (typeof v === 'number') w.raw(Buffer.from('I')).long(v >>> 0);
    else if (Buffer.isBuffer(v)) w.raw(Buffer.from('x')).longstr(v);
    else w.raw(Buffer.from('F')).table(v);
  }
  return w.build();
}

/** Sequential big-endian reader over one frame payload. */
export class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  octet(): number { const v = this.buf.readUInt8(this.pos); this.pos += 1; return v; }
  short(): number { const v = this.buf.readUInt16BE(this.pos); this.pos += 2; return v; }
  long(): number { const v = this.buf.readUInt32BE(this.pos); this.pos += 4; return v; }
  longlong(): bigint { const v = this.buf.readBigUInt64BE(this.pos); this.pos += 8; return v; }
  shortstr(): string { const n = this.octet(); const s = this.buf.toString('utf8', this.pos, this.pos + n); this.pos += n; return s; }
  longstr(): Buffer { const n = this.long(); const b = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return b; }
  /** Tables are returned undecoded: the raw tests only need to step over them. */
  skipTable(): void { const n = this.long(); this.pos += n; }
}

export function encodeFrame(type: number, channel: number, payload: Buffer, frameEnd = FRAME_END): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt8(type, 0);
  head.writeUInt16BE(channel, 1);
  head.writeUInt32BE(payload.length, 3);
  return Buffer.concat([head, payload, Buffer.from([frameEnd])]);
}

export function methodFrame(channel: number, method: readonly [number, number], args: Buffer = Buffer.alloc(0)): Buffer {
  const payload = new Writer().short(method[0]).short(method[1]).raw(args).build();
  return encodeFrame(FrameType.method, channel, payload);
}

/**
 * A content header frame. `properties` is the encoded property section (flags then values);
 * by default no properties are set (flags 0).
 */
export function headerFrame(channel: number, bodySizeBytes: number, classId = 60, properties?: Buffer): Buffer {
  const payload = new Writer().short(classId).short(0).longlong(bodySizeBytes).raw(properties ?? Buffer.from([0, 0])).build();
  return encodeFrame(FrameType.header, channel, payload);
}

export function bodyFrame(channel: number, body: Buffer): Buffer {
  return encodeFrame(FrameType.body, channel, body);
}

export const heartbeatFrame = (): Buffer => encodeFrame(FrameType.heartbeat, 0, Buffer.alloc(0));

export interface Frame { readonly type: number; readonly channel: number; readonly payload: Buffer }

export function methodIdOf(f: Frame): readonly [number, number] | undefined {
  if (f.type !== FrameType.method || f.payload.length < 4) return undefined;
  return [f.payload.readUInt16BE(0), f.payload.readUInt16BE(2)];
}

export function isMethod(f: Frame, m: readonly [number, number]): boolean {
  const id = methodIdOf(f);
  return id !== undefined && id[0] === m[0] && id[1] === m[1];
}

/** Arguments of a method frame, after the class and method ids. */
export const argsOf = (f: Frame): Reader => new Reader(f.payload.subarray(4));

/** connection.close and channel.close share this layout. */
export interface CloseInfo { readonly code: number; readonly text: string; readonly classId: number; readonly methodId: number }

export function parseClose(f: Frame): CloseInfo {
  const r = argsOf(f);
  return { code: r.short(), text: r.shortstr(), classId: r.short(), methodId: r.short() };
}

export interface TuneInfo { readonly channelMax: number; readonly frameMaxBytes: number; readonly heartbeatSec: number }

export function parseTune(f: Frame): TuneInfo {
  const r = argsOf(f);
  return { channelMax: r.short(), frameMaxBytes: r.long(), heartbeatSec: r.short() };
}

export interface StartInfo { readonly versionMajor: number; readonly versionMinor: number; readonly mechanisms: string[]; readonly locales: string[] }

export function parseStart(f: Frame): StartInfo {
  const r = argsOf(f);
  const versionMajor = r.octet();
  const versionMinor = r.octet();
  r.skipTable();
  const mechanisms = r.longstr().toString('utf8').split(' ').filter((s) => s.length > 0);
  const locales = r.longstr().toString('utf8').split(' ').filter((s) => s.length > 0);
  return { versionMajor, versionMinor, mechanisms, locales };
}

/**
 * Pops one complete frame from the front of `buf`, or returns undefined if more bytes are
 * needed. Frame-end validation is the server's job, not ours: we trust what the broker sends.
 */
export function takeFrame(buf: Buffer): { frame: Frame; rest: Buffer } | undefined {
  if (buf.length < 7) return undefined;
  const size = buf.readUInt32BE(3);
  if (buf.length < 7 + size + 1) return undefined;
  const frame = { type: buf.readUInt8(0), channel: buf.readUInt16BE(1), payload: buf.subarray(7, 7 + size) };
  return { frame, rest: buf.subarray(8 + size) };
}
