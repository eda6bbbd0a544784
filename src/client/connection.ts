// A lean AMQP 0-9-1 client connection on Warren's codec (src/amqp): PLAIN login, tune negotiation,
// optional heartbeats, channels. Built for load generation: no promise or closure per message, one
// socket write per event-loop turn, and back-pressure reported to the caller instead of buffered.
//
// Write path contract: every frame is appended to `out`; the first append in a turn schedules one
// flush (process.nextTick) that hands all of them to the socket as a single buffer. `write()` returns
// false once the bytes queued here plus the socket's own buffer exceed HIGH_WATER_BYTES; callers then
// wait for whenWritable(), which fires after the socket's 'drain' (or at once after a flush the
// socket accepted under its own high-water mark).
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { FrameParser, FRAME_MIN_SIZE, HEARTBEAT_FRAME, PROTOCOL_HEADER, encodeMethod } from '../amqp/index.js';
import type { ArgsOf, FieldTable, Frame, Method } from '../amqp/index.js';
import { Channel, type ChannelTransport } from './channel.js';
import { ClientError, ClientErrorCode } from './errors.js';

export interface ConnectOptions {
  /** Heartbeat to ask for, in seconds: 0 turns heartbeats off; unset accepts the server's proposal. */
  heartbeatSec?: number;
  /** Largest frame to accept/send (default 128 KiB; the smaller of this and the server's wins). */
  frameMaxBytes?: number;
  /** Shown by the broker's management UI (client property connection_name). */
  connectionName?: string;
  /** Handshake deadline (default 10 s). */
  timeoutMs?: number;
}

const DEFAULT_FRAME_MAX_BYTES = 131_072;
const DEFAULT_TIMEOUT_MS = 10_000;
const HIGH_WATER_BYTES = 512 * 1024;
const CHANNEL_MAX = 2047;
const SOCKET_LINGER_MS = 1000;

export interface ParsedUrl {
  readonly tls: boolean; readonly host: string; readonly port: number;
  readonly username: string; readonly password: string; readonly vhost: string;
}

/** amqp[s]://user:pass@host:port/vhost, with RabbitMQ's URI rules (empty path → "/", %2F → "/"). */
export function parseAmqpUrl(url: string): ParsedUrl {
  const u = new URL(url);
  if (u.protocol !== 'amqp:' && u.protocol !== 'amqps:') throw new Error(`not an AMQP URL: ${url}`);
  const tls = u.protocol === 'amqps:';
  return {
    tls, host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: u.port ? Number(u.port) : tls ? 5671 : 5672,
    username: u.username ? decodeURIComponent(u.username) : 'guest',
    password: u.password ? decodeURIComponent(u.password) : 'guest',
    vhost: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : '/',
  };
}

/** tune-ok values: the smaller non-zero limit wins; a requested heartbeat of 0 turns heartbeats off. */
export function negotiateTune(server: ArgsOf<'connection.tune'>, wanted: { frameMaxBytes: number; heartbeatSec?: number | undefined }): ArgsOf<'connection.tune-ok'> {
  const lower = (a: number, b: number): number => (a === 0 ? b : b === 0 ? a : Math.min(a, b));
  return {
    channelMax: lower(server.channelMax, CHANNEL_MAX),
    frameMax: lower(server.frameMax, wanted.frameMaxBytes),
    heartbeat: wanted.heartbeatSec === undefined ? server.heartbeat : wanted.heartbeatSec === 0 ? 0 : lower(server.heartbeat, wanted.heartbeatSec),
  };
}

export async function connect(url: string, options: ConnectOptions = {}): Promise<Connection> {
  const p = parseAmqpUrl(url);
  const socket = p.tls ? tlsConnect({ host: p.host, port: p.port, servername: p.host }) : netConnect({ host: p.host, port: p.port });
  socket.setNoDelay(true);
  const conn = new Connection(socket, p, options);
  await conn.opened;
  return conn;
}

export class Connection implements ChannelTransport {
  /** Called once when the connection fails other than by close(). */
  onError: ((err: ClientError) => void) | undefined;
  frameMaxBytes = FRAME_MIN_SIZE;
  heartbeatSec = 0;
  serverProperties: FieldTable = {};
  readonly opened: Promise<void>;
  private openWaiter!: { resolve: () => void; reject: (e: Error) => void };
  private readonly parser = new FrameParser(FRAME_MIN_SIZE);
  private readonly channels = new Map<number, Channel>();
  private nextChannelId = 1;
  private channelMax = CHANNEL_MAX;
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private writableWaiters: Array<() => void> = [];
  private failure: ClientError | undefined;
  private closeResolve: (() => void) | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private receivedSinceTick = true;
  private sentSinceTick = false;
  private missedTicks = 0;

  constructor(private readonly socket: Socket, private readonly url: ParsedUrl, private readonly options: ConnectOptions) {
    this.opened = new Promise((resolve, reject) => { this.openWaiter = { resolve, reject }; });
    this.opened.catch(() => {}); // also observed by connect(); avoid an unhandled rejection here
    const deadline = setTimeout(() => this.fail(new ClientError(ClientErrorCode.SocketClosed, 'AMQP handshake timed out')),
      options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.opened.then(() => clearTimeout(deadline), () => clearTimeout(deadline));
    socket.once(url.tls ? 'secureConnect' : 'connect', () => this.write(PROTOCOL_HEADER));
    socket.on('data', this.onData);
    socket.on('drain', this.wakeWriters);
    socket.on('error', (err) => this.fail(new ClientError(ClientErrorCode.SocketClosed, `socket error: ${err.message}`, 0, '', 0, 0, { cause: err })));
    socket.on('close', () => {
      this.closeResolve?.();
      this.fail(new ClientError(ClientErrorCode.SocketClosed, 'socket closed'));
    });
  }

  get closed(): boolean { return this.failure !== undefined; }

  async createChannel(): Promise<Channel> {
    if (this.failure) throw this.failure;
    let id = this.nextChannelId;
    while (this.channels.has(id)) id = (id % this.channelMax) + 1;
    this.nextChannelId = (id % this.channelMax) + 1;
    const ch = new Channel(id, this);
    this.channels.set(id, ch);
    await ch.open();
    return ch;
  }

  /** ChannelTransport: queue bytes for this turn's single socket write. */
  write(buf: Buffer): boolean {
    if (this.failure) throw this.failure;
    this.out.push(buf);
    this.outBytes += buf.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
    return this.writable;
  }

  get writable(): boolean {
    return this.outBytes + this.socket.writableLength < HIGH_WATER_BYTES;
  }

  /** Calls `cb` once (never synchronously) when write() would return true again. */
  whenWritable(cb: () => void): void {
    this.writableWaiters.push(cb);
    if (this.writable && !this.socket.writableNeedDrain) setImmediate(this.wakeWriters);
  }

  release(channelId: number): void {
    this.channels.delete(channelId);
  }

  /** connection.close and wait for close-ok (or the socket closing); then the socket is ended. */
  async close(): Promise<void> {
    if (this.failure) return;
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve) => {
      this.closeResolve = resolve;
      timer = setTimeout(resolve, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS); // a wedged server: give up
    });
    this.write(encodeMethod(0, 'connection.close', { replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 }));
    await done;
    clearTimeout(timer);
    this.fail(new ClientError(ClientErrorCode.ConnectionClosed, 'connection closed by the client'));
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.out.length === 0 || this.socket.destroyed) return;
    const buf = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    this.sentSinceTick = true;
    // false: the socket emits 'drain' once its buffer is empty, which wakes the waiters.
    if (this.socket.write(buf) && this.writableWaiters.length > 0) setImmediate(this.wakeWriters);
  };

  private readonly wakeWriters = (): void => {
    if (!this.writable || this.writableWaiters.length === 0) return;
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w();
  };

  private readonly onData = (chunk: Buffer): void => {
    this.receivedSinceTick = true;
    let frames: Frame[];
    try {
      frames = this.parser.push(chunk);
    } catch (err) {
      this.fail(new ClientError(ClientErrorCode.Protocol, `bad frame from the server: ${(err as Error).message}`, 0, '', 0, 0, { cause: err }));
      return;
    }
    for (const f of frames) {
      if (this.failure) return;
      if (f.channel === 0) {
        if (f.type === 1) this.handleConnectionMethod(f.method);
      } else {
        this.channels.get(f.channel)?.handleFrame(f);
      }
    }
  };

  private handleConnectionMethod(m: Method): void {
    switch (m.name) {
      case 'connection.start': {
        if (!m.args.mechanisms.toString().split(' ').includes('PLAIN')) {
          this.fail(new ClientError(ClientErrorCode.Protocol, `server does not offer PLAIN: ${m.args.mechanisms.toString()}`));
          return;
        }
        this.serverProperties = m.args.serverProperties;
        const { username, password } = this.url;
        this.write(encodeMethod(0, 'connection.start-ok', {
          clientProperties: {
            product: 'warren-client', platform: `Node.js ${process.version}`,
            ...(this.options.connectionName === undefined ? {} : { connection_name: this.options.connectionName }),
            capabilities: { publisher_confirms: true, consumer_cancel_notify: true, 'basic.nack': true, authentication_failure_close: true },
          },
          mechanism: 'PLAIN', response: Buffer.from(`\0${username}\0${password}`), locale: 'en_US',
        }));
        return;
      }
      case 'connection.tune': {
        const ok = negotiateTune(m.args, { frameMaxBytes: this.options.frameMaxBytes ?? DEFAULT_FRAME_MAX_BYTES,
          heartbeatSec: this.options.heartbeatSec });
        this.frameMaxBytes = ok.frameMax;
        this.parser.frameMaxBytes = ok.frameMax;
        this.channelMax = ok.channelMax;
        this.heartbeatSec = ok.heartbeat;
        this.write(encodeMethod(0, 'connection.tune-ok', ok));
        this.write(encodeMethod(0, 'connection.open', { virtualHost: this.url.vhost, capabilities: '', insist: false }));
        return;
      }
      case 'connection.open-ok':
        this.startHeartbeats();
        this.openWaiter.resolve();
        return;
      case 'connection.close':
        this.write(encodeMethod(0, 'connection.close-ok', {}));
        this.flush();
        this.fail(ClientError.fromClose(ClientErrorCode.ConnectionClosed, m.args));
        return;
      case 'connection.close-ok':
        this.closeResolve?.();
        return;
      default: // connection.blocked / unblocked: back-pressure is visible through write() already
    }
  }

  /** Sends a heartbeat when idle for half the interval; gives up after two silent intervals (as RabbitMQ does). */
  private startHeartbeats(): void {
    if (this.heartbeatSec === 0) return;
    this.heartbeatTimer = setInterval(() => {
      if (!this.sentSinceTick) this.write(HEARTBEAT_FRAME);
      this.sentSinceTick = false;
      this.missedTicks = this.receivedSinceTick ? 0 : this.missedTicks + 1;
      this.receivedSinceTick = false;
      if (this.missedTicks >= 4) this.fail(new ClientError(ClientErrorCode.SocketClosed, 'missed heartbeats from the server'));
    }, (this.heartbeatSec * 1000) / 2);
    this.heartbeatTimer.unref();
  }

  private fail(err: ClientError): void {
    if (this.failure) return;
    const byClient = this.closeResolve !== undefined;
    this.failure = err;
    clearInterval(this.heartbeatTimer);
    this.openWaiter.reject(err);
    for (const ch of [...this.channels.values()]) ch.fail(err, !byClient);
    this.channels.clear();
    // end() lets queued bytes (a close-ok) go out; the timer covers a peer that never closes its side.
    this.socket.end();
    setTimeout(() => this.socket.destroy(), SOCKET_LINGER_MS).unref();
    if (!byClient) this.onError?.(err);
  }
}
