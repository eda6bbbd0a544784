// One gRPC server per node carrying every service it offers (Raft streams, Owner, Meta), and one
// client channel per peer address on which any method can be called. Methods are described by
// BidiMethod-shaped codecs (src/rpc/contracts.ts, src/raft/transport/transport.ts); like bidi.ts
// this module speaks to @grpc/grpc-js so that nothing above src/rpc does.
import * as grpc from '@grpc/grpc-js';
import type * as http2 from 'node:http2';
import { wrapDuplex, CHANNEL_OPTIONS, FLOW_CONTROL_WINDOW, type BidiMethod, type BidiStream } from './bidi.js';

/** The server's end of a server-streaming call. */
export interface ServerStream<Res> {
  /** False: the transport buffer is full (keep writing sparingly, or wait for onDrain). */
  write(msg: Res): boolean;
  end(): void;
  onDrain(cb: () => void): void;
  /** Fires once when the call ends for any reason (client cancelled, ended, connection lost). */
  onClose(cb: () => void): void;
}

/** The client's end of a server-streaming call. */
export interface ClientStream<Res> {
  onData(cb: (msg: Res) => void): void;
  /** Fires exactly once: err is undefined when the server ended the stream normally. */
  onClose(cb: (err?: Error) => void): void;
  cancel(): void;
}

/** A unary call failed below the application: transport, deadline, or a handler that threw. */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(message: string, readonly code: number) {
    super(message);
  }
}

type Handler = grpc.UntypedHandleCall;

/**
 * The encoded message as the Buffer grpc-js wants, without a copy: protobufjs already returns a
 * Buffer on Node (Buffer.from(buffer) would copy every message, bodies and log entries included).
 */
function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * Gives every session the server accepts FLOW_CONTROL_WINDOW as its receive window, per stream and
 * for the connection (bidi.ts says why). grpc-js has a client option for it but no server one, so
 * this reaches its HTTP/2 servers through a private field; if a grpc-js upgrade renames it, the
 * windows stay at the default (slower, not wrong) and the rpc window test fails.
 */
function widenReceiveWindows(server: grpc.Server): void {
  const servers = (server as unknown as { http2Servers?: Map<http2.Http2Server, unknown> }).http2Servers;
  if (!(servers instanceof Map)) return;
  for (const h2 of servers.keys()) {
    h2.on('session', (session: http2.ServerHttp2Session) => {
      session.settings({ initialWindowSize: FLOW_CONTROL_WINDOW });
      session.setLocalWindowSize(FLOW_CONTROL_WINDOW);
    });
  }
}

export class RpcServer {
  private readonly server = new grpc.Server(CHANNEL_OPTIONS);
  private readonly defs: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  private readonly handlers: Record<string, Handler> = {};
  private boundPort = 0;
  private started = false;

  private add<Req, Res>(method: BidiMethod<Req, Res>, requestStream: boolean, responseStream: boolean, handler: Handler): void {
    if (this.started) throw new Error(`rpc: ${method.path} registered after listen()`);
    const key = method.path;
    this.defs[key] = {
      path: method.path, requestStream, responseStream,
      requestSerialize: (r: Req) => asBuffer(method.encodeRequest(r)),
      requestDeserialize: (b: Buffer) => method.decodeRequest(b),
      responseSerialize: (r: Res) => asBuffer(method.encodeResponse(r)),
      responseDeserialize: (b: Buffer) => method.decodeResponse(b),
    } as grpc.MethodDefinition<unknown, unknown>;
    this.handlers[key] = handler;
  }

  /** A unary method: the handler's answer is sent; a throw becomes an INTERNAL status (the caller sees RpcError). */
  unary<Req, Res>(method: BidiMethod<Req, Res>, handle: (req: Req) => Promise<Res>): this {
    this.add(method, false, false, ((call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => {
      handle(call.request).then((res) => cb(null, res), (err: unknown) => {
        cb({ code: grpc.status.INTERNAL, details: err instanceof Error ? err.message : String(err) });
      });
    }) as Handler);
    return this;
  }

  serverStream<Req, Res>(method: BidiMethod<Req, Res>, handle: (req: Req, out: ServerStream<Res>) => void): this {
    this.add(method, false, true, ((call: grpc.ServerWritableStream<Req, Res>) => {
      let closed = false;
      const closeCbs: Array<() => void> = [];
      const fire = (): void => {
        if (closed) return;
        closed = true;
        for (const cb of closeCbs) cb();
      };
      call.on('cancelled', fire);
      call.on('close', fire);
      call.on('error', fire);
      call.on('finish', fire);
      handle(call.request, {
        write: (m) => (closed ? false : call.write(m)),
        end: () => {
          if (!closed) call.end();
        },
        onDrain: (cb) => call.on('drain', cb),
        onClose: (cb) => {
          if (closed) cb();
          else closeCbs.push(cb);
        },
      });
    }) as Handler);
    return this;
  }

  bidi<Req, Res>(method: BidiMethod<Req, Res>, handle: (stream: BidiStream<Req, Res>) => void): this {
    this.add(method, true, true, ((call: grpc.ServerDuplexStream<Req, Res>) => {
      handle(wrapDuplex<Req, Res>(call as grpc.ServerDuplexStream<unknown, unknown>));
    }) as Handler);
    return this;
  }

  /** Binds host:port (0 picks a free port) and serves every method registered so far. */
  async listen(host: string, port: number): Promise<number> {
    this.server.addService(this.defs, this.handlers);
    this.started = true;
    this.boundPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    widenReceiveWindows(this.server);
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  close(): Promise<void> {
    this.server.forceShutdown();
    return Promise.resolve();
  }
}

/** A channel to one address: any method of any service, called as its kind asks. */
export class RpcChannel {
  private readonly client: grpc.Client;

  constructor(readonly address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  }

  /** Rejects with RpcError when the call fails below the application (unreachable, deadline, server error). */
  unary<Req, Res>(method: BidiMethod<Req, Res>, req: Req, timeoutMs: number): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        method.path,
        (r: Req) => asBuffer(method.encodeRequest(r)),
        (b: Buffer) => method.decodeResponse(b),
        req,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => {
          if (err) reject(new RpcError(`rpc ${method.path} to ${this.address}: ${err.details || err.message}`, err.code));
          else resolve(res as Res);
        },
      );
    });
  }

  serverStream<Req, Res>(method: BidiMethod<Req, Res>, req: Req): ClientStream<Res> {
    const call = this.client.makeServerStreamRequest(
      method.path,
      (r: Req) => asBuffer(method.encodeRequest(r)),
      (b: Buffer) => method.decodeResponse(b),
      req,
    );
    let closed = false;
    const closeCbs: Array<(err?: Error) => void> = [];
    const fire = (err?: Error): void => {
      if (closed) return;
      closed = true;
      for (const cb of closeCbs) cb(err);
    };
    call.on('error', (err: Error) => fire(err));
    call.on('end', () => fire());
    call.on('close', () => fire());
    return {
      onData: (cb) => call.on('data', (m: Res) => cb(m)),
      onClose: (cb) => {
        if (closed) cb();
        else closeCbs.push(cb);
      },
      cancel: () => {
        call.cancel();
        fire(new Error('rpc: stream cancelled'));
      },
    };
  }

  bidi<Req, Res>(method: BidiMethod<Req, Res>): BidiStream<Res, Req> {
    const raw = this.client.makeBidiStreamRequest(
      method.path,
      (r: Req) => asBuffer(method.encodeRequest(r)),
      (b: Buffer) => method.decodeResponse(b),
    );
    return wrapDuplex<Res, Req>(raw as grpc.ClientDuplexStream<unknown, unknown>);
  }

  close(): void {
    this.client.close();
  }
}

/** A channel to one address on which bidi streams of one method can be opened repeatedly. */
export class BidiClient<Req, Res> {
  private readonly channel: RpcChannel;

  constructor(address: string, private readonly method: BidiMethod<Req, Res>) {
    this.channel = new RpcChannel(address);
  }

  open(): BidiStream<Res, Req> {
    return this.channel.bidi(this.method);
  }

  close(): void {
    this.channel.close();
  }
}
