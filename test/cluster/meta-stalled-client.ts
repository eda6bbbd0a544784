// A Watch client that stops reading its socket: it opens Meta.Watch, prints "R" on the first
// event, then blocks its event loop (so neither it nor HTTP/2 reads anything and the owner's
// flow-control window fills) for the given milliseconds, then exits.
// Usage: node --import tsx test/cluster/meta-stalled-client.ts <host:port> <blockMs>
import { META } from '../../src/rpc/contracts.js';
import { RpcChannel } from '../../src/rpc/server.js';

const [address, blockMs] = process.argv.slice(2);
const stream = new RpcChannel(address!).serverStream(META.watch, { fromIndex: 0 });
let blocked = false;
stream.onData(() => {
  if (blocked) return;
  blocked = true;
  process.stdout.write('R\n', () => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(blockMs));
    process.exit(0);
  });
});
