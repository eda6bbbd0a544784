// Both ends of Warren's gRPC connections announce FLOW_CONTROL_WINDOW as their HTTP/2 receive
// window (per stream in SETTINGS, and for the connection), instead of the protocol's 64 KiB. Seen
// from the other end with node's own http2, so a grpc-js upgrade that drops either path fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { FLOW_CONTROL_WINDOW, type BidiMethod } from '../../../src/rpc/bidi.js';
import { RpcChannel, RpcServer } from '../../../src/rpc/server.js';

const identity: BidiMethod<Uint8Array, Uint8Array> = {
  path: '/warren.test.Window/Echo',
  encodeRequest: (b) => b,
  decodeRequest: (b) => b,
  encodeResponse: (b) => b,
  decodeResponse: (b) => b,
};

async function until(what: string, ok: () => boolean): Promise<void> {
  const end = Date.now() + 5_000;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('an RpcServer session announces the wide window per stream and for the connection', async (t) => {
  const server = new RpcServer().unary(identity, async (req) => req);
  const port = await server.listen('127.0.0.1', 0);
  t.after(() => server.close());
  const client = http2.connect(`http://127.0.0.1:${port}`);
  t.after(() => client.destroy());
  await until('the server\'s stream window', () => client.remoteSettings?.initialWindowSize === FLOW_CONTROL_WINDOW);
  await until('the server\'s connection window', () => (client.state.remoteWindowSize ?? 0) >= FLOW_CONTROL_WINDOW);
  // Still a working gRPC server with the wider window.
  const channel = new RpcChannel(`127.0.0.1:${port}`);
  t.after(() => channel.close());
  assert.deepEqual([...await channel.unary(identity, Uint8Array.of(1, 2, 3), 5_000)], [1, 2, 3]);
});

test('an RpcChannel announces the wide window per stream and for the connection', async (t) => {
  let session: http2.ServerHttp2Session | undefined;
  const h2 = http2.createServer();
  h2.on('session', (s) => { session = s; });
  h2.on('stream', (stream) => stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true }));
  await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
  t.after(() => { session?.destroy(); h2.close(); });
  const channel = new RpcChannel(`127.0.0.1:${(h2.address() as AddressInfo).port}`);
  t.after(() => channel.close());
  await channel.unary(identity, Uint8Array.of(1), 5_000).catch(() => undefined); // connects; the answer does not matter
  await until('the client\'s stream window', () => session?.remoteSettings?.initialWindowSize === FLOW_CONTROL_WINDOW);
  await until('the client\'s connection window', () => (session?.state.remoteWindowSize ?? 0) >= FLOW_CONTROL_WINDOW);
});
