// Thin wrapper over @grpc/grpc-js for long-lived bidirectional streams with caller-supplied binary
// codecs (protobufjs static code), so no proto-loader or reflection is involved. The rest of the
// tree sees only the small interfaces below; this directory is the only importer of grpc-js.
import * as grpc from '@grpc/grpc-js';

export interface BidiMethod<Req, Res> {
  /** Full gRPC method path, e.g. `/warren.v1.Raft/Stream`. */
  readonly path: string;
  encodeRequest(req: Req): Uint8Array;
  decodeRequest(buf: Uint8Array): Req;
  encodeResponse(res: Res): Uint8Array;
  decodeResponse(buf: Uint8Array): Res;
}

/** One end of a bidi stream: receives In, sends Out. */
export interface BidiStream<In, Out> {
  /** False means the transport buffer is full: wait for onDrain before writing more. */
  write(msg: Out): boolean;
  end(): void;
  /** Tears the stream down; onClose fires. */
  cancel(): void;
  onData(cb: (msg: In) => void): void;
  onDrain(cb: () => void): void;
  /** Fires exactly once, when the stream ends for any reason. */
  onClose(cb: (err?: Error) => void): void;
}

/** Generous: snapshot chunks and large append batches travel on these streams. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const channelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  // The caller runs its own back-off per stream; keep the channel's reconnects quick.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
};

type RawDuplex = grpc.ClientDuplexStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

function wrap<In, Out>(raw: RawDuplex): BidiStream<In, Out> {
  let closed = false;
  const closeCbs: Array<(err?: Error) => void> = [];
  const fireClose = (err?: Error): void => {
    if (closed) return;
    closed = true;
    for (const cb of closeCbs) {
      if (err) cb(err);
      else cb();
    }
  };
  raw.on('error', (err: Error) => fireClose(err));
  raw.on('end', () => fireClose());
  raw.on('close', () => fireClose());
  // Server-side streams also signal a cancelled call by 'cancelled'.
  raw.on('cancelled', () => fireClose(new Error('rpc: stream cancelled')));
  return {
    write: (msg) => (closed ? false : raw.write(msg)),
    end: () => {
      if (!closed) raw.end();
    },
    cancel: () => {
      if ('cancel' in raw) raw.cancel();
      else raw.destroy();
      fireClose(new Error('rpc: stream cancelled'));
    },
    onData: (cb) => raw.on('data', (m: In) => cb(m)),
    onDrain: (cb) => raw.on('drain', cb),
    onClose: (cb) => {
      if (closed) cb();
      else closeCbs.push(cb);
    },
  };
}

export interface BidiServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves one bidi method on host:port (port 0 picks one); each incoming call goes to onStream. */
export function serveBidi<Req, Res>(
  host: string,
  port: number,
  method: BidiMethod<Req, Res>,
  onStream: (stream: BidiStream<Req, Res>) => void,
): Promise<BidiServer> {
  const server = new grpc.Server(channelOptions);
  const def: grpc.ServiceDefinition = {
    stream: {
      path: method.path,
      requestStream: true,
      responseStream: true,
      requestSerialize: (r: Req) => Buffer.from(method.encodeRequest(r)),
      requestDeserialize: (b: Buffer) => method.decodeRequest(b),
      responseSerialize: (r: Res) => Buffer.from(method.encodeResponse(r)),
      responseDeserialize: (b: Buffer) => method.decodeResponse(b),
    },
  };
  server.addService(def, {
    stream: (call: grpc.ServerDuplexStream<unknown, unknown>) => onStream(wrap<Req, Res>(call)),
  });
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, boundPort) => {
      if (err) {
        reject(err);
        return;
      }
      resolve({
        port: boundPort,
        close: () => new Promise<void>((res) => {
          server.forceShutdown();
          res();
        }),
      });
    });
  });
}

/** A channel to one address on which bidi streams of one method can be opened repeatedly. */
export class BidiClient<Req, Res> {
  private readonly client: grpc.Client;

  constructor(address: string, private readonly method: BidiMethod<Req, Res>) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), channelOptions);
  }

  open(): BidiStream<Res, Req> {
    const raw = this.client.makeBidiStreamRequest(
      this.method.path,
      (r: Req) => Buffer.from(this.method.encodeRequest(r)),
      (b: Buffer) => this.method.decodeResponse(b),
    );
    return wrap<Res, Req>(raw as grpc.ClientDuplexStream<unknown, unknown>);
  }

  close(): void {
    this.client.close();
  }
}
