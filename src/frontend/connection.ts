// One client connection: protocol header, start/tune/open handshake, heartbeats, channel
// multiplexing, and the single place where errors become connection.close (hard) or, through the
// channel, channel.close (soft).
//
// States: header → start-ok → tune-ok → open → running → closing (we sent close) → closed.
// While closing, every frame but connection.close / close-ok is discarded, as the spec requires.
import type { Socket } from 'node:net';
import { AmqpError, ReplyCode } from '../amqp/errors.js';
import { FrameParser, HEARTBEAT_FRAME, PROTOCOL_HEADER, encodeMethod, type Frame } from '../amqp/frames.js';
import { FRAME_MIN_SIZE, methodId, type Method, type MethodName } from '../amqp/generated.js';
import type { FieldTable } from '../amqp/table.js';
import { LoginRefused, MECHANISMS, parseCredentials, type Credentials } from './auth.js';
import { Channel } from './channel.js';
import type { ChannelInfo, ConnectionInfo, FrontendContext, LiveConnection } from './context.js';
import { Output } from './output.js';
import { deleteQueue } from './queues.js';
import type { AuthUser } from './ports.js';
import { serverProperties } from './server-properties.js';
import { readFresh } from '../util/read-point.js';

type State = 'header' | 'start-ok' | 'tune-ok' | 'open' | 'running' | 'closing' | 'closed';

/** Our states by the names rabbit_reader gives them in error texts. */
const RABBIT_STATE: Readonly<Record<State, string>> = {
  header: 'pre_init', 'start-ok': 'starting', 'tune-ok': 'tuning', open: 'opening', running: 'running',
  closing: 'closing', closed: 'closed',
};

/** How long we wait for close-ok after sending connection.close before dropping the socket. */
const CLOSE_OK_TIMEOUT_MS = 3000;
/** After answering a client's connection.close, how long we wait for it to end the socket. */
const CLOSE_LINGER_MS = 5000;
/** A client has this long to complete the handshake (RabbitMQ's handshake_timeout is 10 s). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

let nextConnectionSeq = 1;

export class Connection implements LiveConnection {
  readonly id: string;
  readonly out: Output;
  private state: State = 'header';
  private headerBuf: Buffer = Buffer.alloc(0);
  private readonly parser: FrameParser;
  private readonly channels = new Map<number, Channel>();
  /** Channels we sent channel.close on, awaiting close-ok; frames on them are dropped. */
  private readonly closingChannels = new Set<number>();
  user: AuthUser | undefined;
  vhost: string | undefined;
  channelMax: number;
  frameMaxBytes: number;
  private heartbeatSec = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private receivedSinceCheck = false;
  private missedHeartbeatChecks = 0;
  private clientProperties: FieldTable = {};
  private readonly connectedAtMs = Date.now();
  private blockedSent = false;
  private hasPublished = false;
  private yielding = false;
  private readHolds = 0;
  /** A connection method (login, vhost open) waits for the metadata read point; later frames wait in `held`. */
  private methodWaiting = false;
  private held: Frame[] = [];

  constructor(
    readonly socket: Socket,
    readonly ctx: FrontendContext,
    readonly tls: boolean,
  ) {
    this.id = `${ctx.connectionIdPrefix ?? ''}${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}#${nextConnectionSeq++}`;
    this.out = new Output(socket);
    this.parser = new FrameParser(ctx.config.frameMaxBytes);
    this.channelMax = ctx.config.channelMax;
    this.frameMaxBytes = ctx.config.frameMaxBytes;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => ctx.log.debug({ conn: this.id, err: err.message }, 'socket error'));
    socket.on('close', () => this.onSocketClosed());
    socket.on('drain', () => this.onDrain());
    this.handshakeTimer = setTimeout(() => this.abort('handshake timeout'), HANDSHAKE_TIMEOUT_MS);
    ctx.connections.add(this);
    ctx.counters.connectionsOpened++;
  }

  // ---- LiveConnection -------------------------------------------------------------------

  info(): ConnectionInfo {
    return {
      id: this.id, peer: `${this.socket.remoteAddress}:${this.socket.remotePort}`, user: this.user?.name,
      vhost: this.vhost, channels: this.channels.size, connectedAtMs: this.connectedAtMs,
      clientProperties: this.clientProperties, tls: this.tls,
    };
  }

  channelInfos(): ChannelInfo[] {
    return [...this.channels.values()].map((ch) => ch.info());
  }

  forceClose(replyCode: number, text: string): void {
    this.closeWith(new AmqpError(replyCode, text));
  }

  destroy(): void {
    this.abort('shutdown');
  }

  /**
   * Memory alarm: a connection that has published stops being read (TCP back-pressure reaches the
   * publisher) and, if it asked for the capability, is told connection.blocked / unblocked.
   */
  setBlocked(blocked: boolean, reason: string): void {
    if (this.state !== 'running') return;
    this.updateReading();
    if (!this.hasCapability('connection.blocked') || blocked === this.blockedSent) return;
    this.blockedSent = blocked;
    this.out.send(blocked ? encodeMethod(0, 'connection.blocked', { reason }) : encodeMethod(0, 'connection.unblocked', {}));
  }

  /**
   * Flow: a queue this connection publishes to has consumers that are not keeping up. Stop reading
   * this socket until the next event-loop turn, so the consumers' acks and deliveries are processed
   * before more publishes (RabbitMQ's credit flow puts such a connection in "flow" the same way).
   */
  yieldReading(): void {
    if (this.yielding || this.state !== 'running') return;
    this.yielding = true;
    this.updateReading();
    setImmediate(() => {
      this.yielding = false;
      this.updateReading();
    });
  }

  /** A channel's backlog of frames waiting for an owner is long: stop (true) or resume (false) reading. */
  holdReading(on: boolean): void {
    this.readHolds += on ? 1 : -1;
    this.updateReading();
  }

  /**
   * The one place the socket is paused or resumed: paused while the memory alarm blocks a
   * publishing connection, for a flow yield, or while a channel's backlog is held.
   */
  private updateReading(): void {
    if (this.isClosed()) return;
    const pause = (this.ctx.blocked && this.hasPublished) || this.yielding || this.readHolds > 0;
    if (pause && !this.socket.isPaused()) this.socket.pause();
    else if (!pause && this.socket.isPaused()) this.socket.resume();
  }

  /** Called by channels on each publish; a publishing connection is paused at once while the alarm is on. */
  notePublish(): void {
    if (this.hasPublished) return;
    this.hasPublished = true;
    if (this.ctx.blocked) this.setBlocked(true, 'low on memory');
  }

  /** Whether the client announced `name` (e.g. consumer_cancel_notify) in its client-properties capabilities. */
  hasCapability(name: string): boolean {
    const caps = this.clientProperties['capabilities'];
    return typeof caps === 'object' && caps !== null && (caps as FieldTable)[name] === true;
  }

  /** The client's address and port, as logged. */
  get peer(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? 0}`;
  }

  /** The client-provided connection name (client-properties connection_name), if any. */
  get clientName(): string | undefined {
    const n = this.clientProperties['connection_name'];
    return typeof n === 'string' ? n : undefined;
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  // ---- input ------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.receivedSinceCheck = true;
    if (this.state === 'closed') return;
    try {
      if (this.state === 'header') {
        const rest = this.readProtocolHeader(chunk);
        if (rest === undefined || rest.length === 0) return;
        chunk = rest;
      }
      this.onFrames(this.parser.push(chunk));
    } catch (err) {
      this.fail(err);
    }
  }

  /** Frames in arrival order: behind a connection method that waits, they wait too. */
  private onFrames(frames: readonly Frame[]): void {
    for (const frame of frames) {
      if (this.isClosed()) return;
      if (this.methodWaiting) this.held.push(frame);
      else this.onFrame(frame);
    }
  }

  /** Returns the bytes after the header, or undefined when the header is incomplete or wrong (already handled). */
  private readProtocolHeader(chunk: Buffer): Buffer | undefined {
    this.headerBuf = Buffer.concat([this.headerBuf, chunk]);
    if (this.headerBuf.length < PROTOCOL_HEADER.length) {
      // A wrong prefix can be refused before 8 bytes arrive.
      if (!PROTOCOL_HEADER.subarray(0, this.headerBuf.length).equals(this.headerBuf)) this.refuseProtocol();
      return undefined;
    }
    if (!this.headerBuf.subarray(0, 8).equals(PROTOCOL_HEADER)) {
      this.refuseProtocol();
      return undefined;
    }
    const rest = this.headerBuf.subarray(8);
    this.headerBuf = Buffer.alloc(0);
    this.state = 'start-ok';
    this.out.send(encodeMethod(0, 'connection.start', {
      versionMajor: 0, versionMinor: 9, serverProperties: serverProperties(),
      mechanisms: Buffer.from(MECHANISMS), locales: Buffer.from('en_US'),
    }));
    return rest;
  }

  /** Unsupported protocol: answer with the header we speak and close (AMQP 0-9-1 §4.2.2). */
  private refuseProtocol(): void {
    this.state = 'closed';
    this.socket.end(PROTOCOL_HEADER);
  }

  private onFrame(frame: Frame): void {
    if (frame.type === 8) {
      if (frame.channel !== 0) throw new AmqpError(ReplyCode.UnexpectedFrame, `heartbeat frame on channel ${frame.channel}`);
      return;
    }
    if (frame.channel === 0) {
      if (frame.type !== 1) {
        throw new AmqpError(ReplyCode.UnexpectedFrame, `expected method frame, got non method frame instead`);
      }
      this.onConnectionMethod(frame.method);
      return;
    }
    if (this.state === 'closing') return;
    if (this.state !== 'running') {
      throw new AmqpError(ReplyCode.ChannelError, `unexpected frame on channel ${frame.channel} before connection.open`);
    }
    if (this.closingChannels.has(frame.channel)) {
      this.onClosingChannelFrame(frame);
      return;
    }
    const channel = this.channels.get(frame.channel);
    if (channel === undefined) {
      this.openChannel(frame);
      return;
    }
    channel.onFrame(frame);
  }

  /**
   * We sent channel.close and wait for close-ok; everything else on the channel is dropped. A
   * client close crossing ours (it had not read ours yet) is answered, and the channel still waits
   * for the close-ok the client owes for our close (RabbitMQ's channel 'closing' state).
   */
  private onClosingChannelFrame(frame: Frame): void {
    if (frame.type !== 1) return;
    if (frame.method.name === 'channel.close-ok') this.closingChannels.delete(frame.channel);
    else if (frame.method.name === 'channel.close') this.out.send(encodeMethod(frame.channel, 'channel.close-ok', {}));
  }

  private openChannel(frame: Frame): void {
    if (frame.type !== 1 || frame.method.name !== 'channel.open') {
      const m = frame.type === 1 ? methodId(frame.method.name) : { classId: 0, methodId: 0 };
      throw new AmqpError(ReplyCode.ChannelError, `expected 'channel.open'`, m.classId, m.methodId);
    }
    // RabbitMQ enforces channel_max as a count of open channels (530), checked first.
    if (this.channels.size >= this.channelMax) {
      throw new AmqpError(ReplyCode.NotAllowed,
        `number of channels opened (${this.channels.size}) has reached the negotiated channel_max (${this.channelMax})`, 20, 10);
    }
    if (frame.channel > this.channelMax) {
      throw new AmqpError(ReplyCode.ChannelError,
        `channel ${frame.channel} is above the negotiated channel_max ${this.channelMax}`, 20, 10);
    }
    const ch = new Channel(this, frame.channel);
    this.channels.set(frame.channel, ch);
    this.ctx.counters.channelsOpened++;
    this.out.send(encodeMethod(frame.channel, 'channel.open-ok', { channelId: Buffer.alloc(0) }));
  }

  // ---- connection class -------------------------------------------------------------------

  private onConnectionMethod(m: Method): void {
    if (this.state === 'closing') {
      if (m.name === 'connection.close-ok') this.finish();
      else if (m.name === 'connection.close') this.out.send(encodeMethod(0, 'connection.close-ok', {}));
      return;
    }
    let pending: Promise<void> | void;
    try {
      pending = this.dispatchConnectionMethod(m);
    } catch (err) {
      throw againstMethod(err, m);
    }
    if (pending !== undefined) this.waitFor(pending, m);
  }

  /**
   * A connection method waits (a login or a vhost missing from a metadata view that trails, until
   * the view reached the leader's read point): the socket is not read meanwhile, frames already
   * read wait in `held`, and are handled once the method is answered.
   */
  private waitFor(pending: Promise<void>, m: Method): void {
    this.methodWaiting = true;
    this.holdReading(true);
    const settled = (err?: { readonly error: unknown }): void => {
      this.methodWaiting = false;
      this.holdReading(false);
      if (this.isClosed()) return;
      try {
        if (err !== undefined) throw againstMethod(err.error, m);
        const held = this.held;
        this.held = [];
        this.onFrames(held);
      } catch (e) {
        this.fail(e);
      }
    };
    pending.then(() => settled(), (error: unknown) => settled({ error }));
  }

  /**
   * A handshake lookup answered from the metadata view, with the read-point rule
   * (src/util/read-point.ts): `read` looks up and, on a hit, carries on; a refusal it throws that
   * `mayBeStale` accepts waits once for the view to catch up and runs `read` again. `refused` logs
   * the final refusal.
   */
  private freshLookup(read: () => void, mayBeStale: (err: unknown) => boolean, refused: (err: unknown) => void): Promise<void> | void {
    const fail = (err: unknown): never => {
      refused(err);
      throw err;
    };
    let result: Promise<void> | void;
    try {
      // A connection closed while it waited does nothing more.
      result = readFresh(this.ctx.meta.sync, mayBeStale, () => {
        if (this.state !== 'closing' && this.state !== 'closed') read();
      });
    } catch (err) {
      return fail(err);
    }
    return result === undefined ? undefined : result.catch(fail);
  }

  private dispatchConnectionMethod(m: Method): Promise<void> | void {
    switch (m.name) {
      case 'connection.start-ok': return this.onStartOk(m.args.mechanism, m.args.response, m.args.clientProperties);
      case 'connection.tune-ok': return this.onTuneOk(m.args.channelMax, m.args.frameMax, m.args.heartbeat);
      case 'connection.open': return this.onOpen(m.args.virtualHost);
      case 'connection.close':
        this.out.send(encodeMethod(0, 'connection.close-ok', {}));
        this.finish('client');
        return;
      case 'connection.update-secret':
        this.expect('running', m.name);
        this.out.send(encodeMethod(0, 'connection.update-secret-ok', {}));
        return;
      default: {
        const id = methodId(m.name);
        throw new AmqpError(ReplyCode.ChannelError, `unexpected method in connection state ${RABBIT_STATE[this.state]}`,
          id.classId, id.methodId);
      }
    }
  }

  private expect(state: State, name: MethodName): void {
    if (this.state !== state) {
      const id = methodId(name);
      throw new AmqpError(ReplyCode.CommandInvalid, `${name} not expected in state ${this.state}`, id.classId, id.methodId);
    }
  }

  private onStartOk(mechanism: string, response: Buffer, clientProperties: FieldTable): Promise<void> | void {
    this.expect('start-ok', 'connection.start-ok');
    this.clientProperties = clientProperties;
    const creds = parseCredentials(mechanism, response);
    return this.freshLookup(() => this.login(mechanism, creds),
      (err) => err instanceof LoginRefused && err.mayBeStale,
      (err) => {
        if (!(err instanceof LoginRefused)) return;
        this.ctx.log.warn({ conn: this.id, peer: this.peer, user: creds?.user, mechanism, reason: err.reason }, 'login refused');
      });
  }

  private login(mechanism: string, creds: Credentials | undefined): void {
    if (creds === undefined) throw new LoginRefused(mechanism, 'malformed credentials');
    const user = this.ctx.meta.authenticate(creds.user, creds.password);
    if (user === undefined) throw new LoginRefused(mechanism, this.ctx.meta.userExists(creds.user) ? 'bad password' : 'unknown user');
    if (user.loopbackOnly && !isLoopback(this.socket.remoteAddress)) {
      throw new LoginRefused(mechanism, 'user may only connect via localhost (loopback_users)');
    }
    this.user = user;
    this.state = 'tune-ok';
    this.out.send(encodeMethod(0, 'connection.tune', {
      channelMax: this.ctx.config.channelMax, frameMax: this.ctx.config.frameMaxBytes, heartbeat: this.ctx.config.heartbeatSec,
    }));
  }

  private onTuneOk(channelMax: number, frameMax: number, heartbeatSec: number): void {
    this.expect('tune-ok', 'connection.tune-ok');
    const serverFrameMax = this.ctx.config.frameMaxBytes;
    if (frameMax !== 0 && frameMax < FRAME_MIN_SIZE) {
      throw new AmqpError(ReplyCode.NotAllowed, `frame_max=${frameMax} < ${FRAME_MIN_SIZE} min size`, 10, 31);
    }
    if (frameMax > serverFrameMax) {
      throw new AmqpError(ReplyCode.NotAllowed, `frame_max=${frameMax} > ${serverFrameMax} max size`, 10, 31);
    }
    if (channelMax > this.ctx.config.channelMax) {
      throw new AmqpError(ReplyCode.NotAllowed, `channel_max=${channelMax} > ${this.ctx.config.channelMax} max channels`, 10, 31);
    }
    this.frameMaxBytes = frameMax === 0 ? serverFrameMax : frameMax;
    this.parser.frameMaxBytes = this.frameMaxBytes;
    this.channelMax = channelMax === 0 ? this.ctx.config.channelMax : channelMax;
    this.heartbeatSec = heartbeatSec;
    this.state = 'open';
  }

  private onOpen(vhost: string): Promise<void> | void {
    this.expect('open', 'connection.open');
    const user = this.user as AuthUser;
    // 530: the vhost does not exist, or the user has no permissions in it (both may be a moment old).
    const refused = (err: unknown): boolean => err instanceof AmqpError && err.replyCode === ReplyCode.NotAllowed;
    return this.freshLookup(() => this.open(user, vhost), refused,
      (err) => {
        if (!refused(err)) return;
        this.ctx.log.warn({ conn: this.id, peer: this.peer, user: user.name, vhost, reason: (err as AmqpError).replyText }, 'vhost access refused');
      });
  }

  private open(user: AuthUser, vhost: string): void {
    this.ctx.meta.openVhost(user, vhost);
    this.ctx.log.info({ conn: this.id, peer: this.peer, user: user.name, vhost, name: this.clientName }, 'connection accepted');
    this.vhost = vhost;
    this.state = 'running';
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.startHeartbeats();
    this.out.send(encodeMethod(0, 'connection.open-ok', { knownHosts: '' }));
  }

  // ---- heartbeats ---------------------------------------------------------------------------

  /**
   * We send a heartbeat when nothing else went out for half the interval, and drop the connection
   * when nothing came in for two full intervals (RabbitMQ's behaviour: no close frame, the peer is gone).
   */
  private startHeartbeats(): void {
    if (this.heartbeatSec <= 0) return;
    const halfMs = (this.heartbeatSec * 1000) / 2;
    this.heartbeatTimer = setInterval(() => {
      if (!this.out.sentSinceCheck) this.out.send(HEARTBEAT_FRAME);
      this.out.sentSinceCheck = false;
      // A paused socket (memory alarm) is not read, so its heartbeats go unseen: like RabbitMQ's
      // pause_monitor, a blocked connection is not dropped for them.
      if (this.receivedSinceCheck || this.socket.isPaused()) {
        this.receivedSinceCheck = false;
        this.missedHeartbeatChecks = 0;
      } else if (++this.missedHeartbeatChecks >= 4) {
        this.abort(`missed heartbeats from client, timeout: ${this.heartbeatSec}s`);
      }
    }, halfMs);
    this.heartbeatTimer.unref();
  }

  // ---- errors and closing ---------------------------------------------------------------------

  /** Channel-level (soft) error: channel.close, then wait for close-ok. Called by Channel. */
  closeChannel(channel: Channel, err: AmqpError): void {
    this.ctx.log.warn({
      conn: this.id, channel: channel.id, user: this.user?.name, vhost: this.vhost, code: err.replyCode, text: err.replyText,
      classId: err.classId, methodId: err.methodId,
    }, 'channel error');
    // Frames the channel queued behind the failed method arrived after it: they meet the closing state.
    const queued = channel.takeBacklog();
    this.releaseChannel(channel);
    this.closingChannels.add(channel.id);
    this.out.send(encodeMethod(channel.id, 'channel.close', err.closeArgs()));
    for (const f of queued) if (this.closingChannels.has(channel.id)) this.onClosingChannelFrame(f);
  }

  /** Client closed a channel (channel.close → close-ok). */
  channelClosedByClient(channel: Channel): void {
    this.releaseChannel(channel);
    this.out.send(encodeMethod(channel.id, 'channel.close-ok', {}));
  }

  private releaseChannel(channel: Channel): void {
    if (this.channels.delete(channel.id)) {
      this.ctx.counters.channelsClosed++;
      channel.release();
    }
  }

  /** Any error thrown while handling input: hard AMQP errors and bugs close the connection. */
  fail(err: unknown): void {
    if (err instanceof AmqpError) {
      this.closeWith(err);
      return;
    }
    this.ctx.log.error({ conn: this.id, err }, 'internal error');
    this.closeWith(new AmqpError(ReplyCode.InternalError, 'internal error'));
  }

  private closeWith(err: AmqpError): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.ctx.log.warn({
      conn: this.id, peer: this.peer, user: this.user?.name, vhost: this.vhost, code: err.replyCode, text: err.replyText,
      classId: err.classId, methodId: err.methodId,
    }, 'connection error');
    if (this.state === 'header') {
      this.abort(err.replyText);
      return;
    }
    this.out.send(encodeMethod(0, 'connection.close', err.closeArgs()));
    this.state = 'closing';
    this.releaseAllChannels();
    setTimeout(() => this.abort('close-ok timeout'), CLOSE_OK_TIMEOUT_MS).unref();
  }

  /** Orderly end after close / close-ok: flush what is queued, then end the socket. */
  /**
   * Orderly end of the handshake. When we sent connection.close and the client answered close-ok,
   * we end the socket. When the client closed and we answered close-ok, the client ends the socket
   * once it has read the close-ok, as with RabbitMQ: ending it ourselves at once lets a client see
   * EOF race the close-ok it is waiting for (amqp091-go TestConcurrentClose). A client that never
   * does is ended after CLOSE_LINGER_MS. Either way the close-ok is written before any end.
   */
  private finish(by: 'client' | 'server' = 'server'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.releaseAllChannels();
    this.out.flush();
    if (by === 'server') this.socket.end();
    else setTimeout(() => this.socket.end(), CLOSE_LINGER_MS).unref();
  }

  private abort(reason: string): void {
    if (this.state === 'closed') return;
    this.ctx.log.info({ conn: this.id, reason }, 'dropping connection');
    this.state = 'closed';
    this.releaseAllChannels();
    this.socket.destroy();
  }

  private releaseAllChannels(): void {
    for (const ch of [...this.channels.values()]) this.releaseChannel(ch);
  }

  private onSocketClosed(): void {
    if (this.vhost !== undefined && this.ctx.connections.has(this)) {
      this.ctx.log.info({ conn: this.id, peer: this.peer, user: this.user?.name, vhost: this.vhost, name: this.clientName }, 'connection closed');
    }
    this.state = 'closed';
    this.releaseAllChannels();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.ctx.connections.delete(this)) {
      this.ctx.counters.connectionsClosed++;
      this.deleteExclusiveQueues();
    }
  }

  private deleteExclusiveQueues(): void {
    for (const q of this.ctx.meta.exclusiveQueues(this.id)) {
      deleteQueue(this.ctx, { vhost: q.vhost, name: q.name }).catch((err: unknown) => {
        this.ctx.log.warn({ conn: this.id, queue: q.name, err }, 'failed to delete exclusive queue');
      });
    }
  }

  private onDrain(): void {
    for (const ch of this.channels.values()) ch.onWritable();
  }
}

/** As on channels: an error not tied to a method is reported against the one being handled. */
function againstMethod(err: unknown, m: Method): unknown {
  if (err instanceof AmqpError && err.classId === 0) {
    const id = methodId(m.name);
    err.classId = id.classId;
    err.methodId = id.methodId;
  }
  return err;
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
