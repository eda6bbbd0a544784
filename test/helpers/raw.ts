// A raw TCP AMQP client for tests that need to see or send exact frames: protocol header
// negotiation, tune values, heartbeats and malformed input. It speaks just enough of the
// handshake (PLAIN only) to reach an open channel; everything else is hand-built frames
// from ./wire.js.
import { connect, type Socket } from 'node:net';
import {
  FrameType, M, PROTOCOL_HEADER, Writer, argsOf, bodyFrame, headerFrame, isMethod, methodFrame, parseClose, parseStart,
  parseTune, takeFrame, type CloseInfo, type Frame, type StartInfo, type TuneInfo,
} from './wire.js';

export const DEFAULT_WAIT_MS = 5000;

export interface HandshakeOptions {
  readonly user?: string;
  readonly pass?: string;
  readonly vhost?: string;
  /** Tune-ok values; 0 keeps the server's proposal. */
  readonly channelMax?: number;
  readonly frameMaxBytes?: number;
  readonly heartbeatSec?: number;
}

export interface HandshakeResult { readonly start: StartInfo; readonly tune: TuneInfo }

type Waiter = { readonly match: (f: Frame) => boolean; readonly resolve: (f: Frame) => void };

/**
 * Contract: every received frame is either handed to the first waiter that matches it or kept
 * in `inbox` for later `nextFrame` calls; heartbeats are counted and kept too. `ended` resolves
 * once the server closes the TCP connection (FIN or reset).
 */
export class RawClient {
  private buf: Buffer = Buffer.alloc(0);
  private readonly inbox: Frame[] = [];
  private waiters: Waiter[] = [];
  private bytesWaiter: (() => void) | undefined;
  /** Every byte received, for protocol-header tests that never reach framing. */
  received: Buffer = Buffer.alloc(0);
  heartbeatsReceived = 0;
  closedByPeer = false;
  readonly ended: Promise<void>;

  private constructor(readonly socket: Socket) {
    this.ended = new Promise((resolve) => socket.once('close', () => { this.closedByPeer = true; resolve(); }));
    socket.on('error', () => { /* a reset is reported through `ended` */ });
    socket.on('data', (d: Buffer) => this.onData(d));
  }

  static open(host: string, port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      s.once('connect', () => { s.removeListener('error', reject); s.setNoDelay(true); resolve(new RawClient(s)); });
      s.once('error', reject);
    });
  }

  write(b: Buffer): void { if (!this.socket.destroyed) this.socket.write(b); }
  destroy(): void { this.socket.destroy(); }

  /** Resolves with the first `n` bytes ever received (before any frame parsing). */
  async firstBytes(n: number, timeoutMs = DEFAULT_WAIT_MS): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n && !this.closedByPeer) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await Promise.race([new Promise<void>((r) => { this.bytesWaiter = r; }), this.ended, delay(left)]);
    }
    return this.received.subarray(0, n);
  }

  /** Next frame (other than heartbeats unless asked) in arrival order. */
  nextFrame(match: (f: Frame) => boolean = (f) => f.type !== FrameType.heartbeat, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame> {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as Frame);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`raw: no matching frame within ${timeoutMs} ms (closedByPeer=${this.closedByPeer})`));
      }, timeoutMs);
      const waiter: Waiter = { match, resolve: (f) => { clearTimeout(timer); resolve(f); } };
      this.waiters.push(waiter);
    });
  }

  nextMethod(method: readonly [number, number], channel = 0, timeoutMs = DEFAULT_WAIT_MS): Promise<Frame> {
    return this.nextFrame((f) => f.channel === channel && isMethod(f, method), timeoutMs);
  }

  /**
   * Waits for the server's connection.close, answers close-ok, and returns code and text.
   * Fails if the socket ends without a close frame.
   */
  async expectConnectionClose(timeoutMs = DEFAULT_WAIT_MS): Promise<CloseInfo> {
    const f = await Promise.race([
      this.nextMethod(M.connectionClose, 0, timeoutMs),
      this.ended.then(async () => {
        await delay(50); // frames that arrived with the FIN are already in the inbox
        const i = this.inbox.findIndex((x) => isMethod(x, M.connectionClose));
        if (i >= 0) return this.inbox.splice(i, 1)[0] as Frame;
        throw new Error('raw: socket closed without connection.close');
      }),
    ]);
    const info = parseClose(f);
    this.write(methodFrame(0, M.connectionCloseOk));
    return info;
  }

  /** Runs header → start → start-ok → tune → tune-ok → open → open-ok. */
  async handshake(opts: HandshakeOptions = {}): Promise<HandshakeResult> {
    this.write(PROTOCOL_HEADER.subarray(0, 4));
    this.write(Buffer.from([0, 0, 9, 1]));
    const start = parseStart(await this.nextMethod(M.connectionStart));
    const response = Buffer.from(`\0${opts.user ?? 'guest'}\0${opts.pass ?? 'guest'}`, 'utf8');
    this.write(methodFrame(0, M.connectionStartOk, new Writer()
      .table({ product: 'warren-raw-test', capabilities: { authentication_failure_close: true } })
      .shortstr('PLAIN').longstr(response).shortstr('en_US').build()));
    const tune = parseTune(await this.nextMethod(M.connectionTune));
    this.write(methodFrame(0, M.connectionTuneOk, new Writer()
      .short(opts.channelMax ?? tune.channelMax)
      .long(opts.frameMaxBytes ?? tune.frameMaxBytes)
      .short(opts.heartbeatSec ?? 0).build()));
    this.write(methodFrame(0, M.connectionOpen, new Writer().shortstr(opts.vhost ?? '/').shortstr('').bits(false).build()));
    const opened = await this.nextFrame((f) => f.channel === 0 && (isMethod(f, M.connectionOpenOk) || isMethod(f, M.connectionClose)));
    if (isMethod(opened, M.connectionClose)) {
      this.inbox.unshift(opened); // left for expectConnectionClose
      throw new Error('raw: connection closed by the server during connection.open');
    }
    return { start, tune };
  }

  async openChannel(channel: number): Promise<void> {
    this.write(methodFrame(channel, M.channelOpen, new Writer().shortstr('').build()));
    await this.nextMethod(M.channelOpenOk, channel);
  }

  /** Sends queue.declare (exclusive, so it goes with the connection) and waits for declare-ok. */
  async declareQueue(channel: number, name: string): Promise<string> {
    this.write(methodFrame(channel, M.queueDeclare, new Writer()
      .short(0).shortstr(name).bits(false, false, true, true, false).table({}).build()));
    const ok = await this.nextMethod(M.queueDeclareOk, channel);
    return argsOf(ok).shortstr();
  }

  /** basic.publish + header + body frames, the body split so no frame exceeds `frameMaxBytes`. */
  publish(channel: number, exchange: string, routingKey: string, body: Buffer, frameMaxBytes = 131072, properties?: Buffer): void {
    this.write(methodFrame(channel, M.basicPublish, new Writer().short(0).shortstr(exchange).shortstr(routingKey).bits(false, false).build()));
    this.write(headerFrame(channel, body.length, 60, properties));
    const chunk = frameMaxBytes - 8;
    for (let off = 0; off < body.length; off += chunk) this.write(bodyFrame(channel, body.subarray(off, off + chunk)));
  }

  /**
   * basic.get (no-ack); returns the body, the size of every body frame it arrived in, and the
   * raw property section of the content header (flags + property list).
   */
  async get(channel: number, queue: string): Promise<{ body: Buffer; bodyFrameSizes: number[]; properties: Buffer } | undefined> {
    this.write(methodFrame(channel, M.basicGet, new Writer().short(0).shortstr(queue).bits(true).build()));
    const reply = await this.nextFrame((f) => f.channel === channel && (isMethod(f, M.basicGetOk) || isMethod(f, M.basicGetEmpty)));
    if (isMethod(reply, M.basicGetEmpty)) return undefined;
    const header = await this.nextFrame((f) => f.channel === channel && f.type === FrameType.header);
    const size = Number(header.payload.readBigUInt64BE(4));
    const parts: Buffer[] = [];
    let got = 0;
    while (got < size) {
      const b = await this.nextFrame((f) => f.channel === channel && f.type === FrameType.body);
      parts.push(b.payload);
      got += b.payload.length;
    }
    return { body: Buffer.concat(parts), bodyFrameSizes: parts.map((p) => p.length + 8), properties: header.payload.subarray(12) };
  }

  async close(): Promise<void> {
    if (this.closedByPeer) return;
    this.write(methodFrame(0, M.connectionClose, new Writer().short(200).shortstr('bye').short(0).short(0).build()));
    await Promise.race([this.nextMethod(M.connectionCloseOk).catch(() => undefined), this.ended]);
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.received = Buffer.concat([this.received, d]);
    this.bytesWaiter?.();
    this.buf = Buffer.concat([this.buf, d]);
    // A bare protocol header (the server refusing our version) is not a frame.
    if (this.buf.length >= 8 && this.buf.subarray(0, 4).toString('latin1') === 'AMQP') { this.buf = this.buf.subarray(8); }
    for (let t = takeFrame(this.buf); t !== undefined; t = takeFrame(this.buf)) {
      this.buf = t.rest;
      if (t.frame.type === FrameType.heartbeat) this.heartbeatsReceived += 1;
      const w = this.waiters.find((x) => x.match(t.frame));
      if (w) { this.waiters = this.waiters.filter((x) => x !== w); w.resolve(t.frame); } else this.inbox.push(t.frame);
    }
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Opens a raw connection and completes the handshake plus channel 1. */
export async function rawOpenChannel(host: string, port: number, opts: HandshakeOptions = {}): Promise<{ raw: RawClient } & HandshakeResult> {
  const raw = await RawClient.open(host, port);
  const hs = await raw.handshake(opts);
  await raw.openChannel(1);
  return { raw, ...hs };
}
