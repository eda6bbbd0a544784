// A watcher that stops reading must not grow an owner's memory: once HTTP/2 flow control holds the
// owner's writes and more than `maxQueuedBytes` wait for that watcher, the owner ends its stream (a
// real frontend then reconnects and resumes); watchers that read are unaffected. The stalled
// watcher is a child process that blocks its event loop (meta-stalled-client.ts): a grpc-js client
// in the same process would read the socket eagerly into its own buffer, which never stalls the
// owner. One owner (a single voter), real gRPC on 127.0.0.1.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { eventually, startOwners, stateOf, withTimeout, type Cluster } from './meta-owners.js';

const MAX_QUEUED = 256 * 1024;
let c: Cluster | undefined;
let child: ReturnType<typeof spawn> | undefined;

after(async () => {
  if (child?.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  await c?.close();
});

test('an owner drops a watcher that stopped reading, and keeps serving the others', { timeout: 60_000 }, async () => {
  c = await startOwners(1, { maxQueuedBytes: MAX_QUEUED, progressMs: 100 });
  const owner = await c.leader();
  const f = await c.frontend();
  const hub = owner.service.hub;
  const watchers = hub.watcherCount;

  child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'meta-stalled-client.ts'), owner.address, '30000'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  await withTimeout(new Promise<void>((resolve) => {
    createInterface({ input: child!.stdout! }).on('line', (l) => { if (l === 'R') resolve(); });
  }), 15_000, 'the stalled client to start watching');
  assert.equal(hub.watcherCount, watchers + 1);

  const pad = 'p'.repeat(16 * 1024);
  let sent = 0;
  while (hub.stats.dropped === 0 && sent < 1_000) {
    await f.meta.port.declareExchange({
      vhost: '/', name: `x-${sent++}`, type: 'fanout', passive: false, durable: true, autoDelete: false, internal: false,
      arguments: { 'x-pad': pad },
    });
  }
  assert.equal(hub.stats.dropped, 1, `dropped after ${sent} changes of 16 KiB`);
  assert.ok(sent * pad.length > MAX_QUEUED, 'more than the limit was produced before the drop');
  await eventually(() => hub.watcherCount === watchers, 5_000, 'the stalled watcher to be gone');
  // The reading frontend kept up throughout.
  await eventually(() => f.backend.appliedIndex === owner.replica.app.appliedIndex, 5_000, 'the reading frontend to be current');
  assert.deepEqual(stateOf(f.backend.machine), stateOf(owner.replica.app.machine));
});
