// The --state file: its JSON shape, and that a reader never sees half a write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DEFAULT_LAUNCHER_OPTIONS, planCluster } from '../../src/launcher/plan.js';
import { clusterState, removeStateFile, writeStateFile, type ProcessStatus } from '../../src/launcher/state.js';

const plan = planCluster({ ...DEFAULT_LAUNCHER_OPTIONS, dataDir: '/d', owners: 1, frontends: 1 });

test('shape: balancer URLs and pid, each node with id, role, pid, addresses, data dir, log', () => {
  const nodes = new Map<number, ProcessStatus>([
    [1, { pid: 11, up: true, restarts: 0 }],
    [101, { pid: undefined, up: false, restarts: 2 }],
  ]);
  assert.deepEqual(clusterState(plan, 7, { pid: 9, up: true, restarts: 0 }, nodes), {
    ready: true,
    pid: 7,
    lb: { amqp: 'amqp://127.0.0.1:5672/', http: 'http://127.0.0.1:15672', pid: 9 },
    nodes: [
      { id: 1, role: 'owner', pid: 11, up: true, http: 'http://127.0.0.1:25701', cluster: '127.0.0.1:25700',
        dataDir: '/d/owner-1', log: '/d/owner-1.log', restarts: 0 },
      { id: 101, role: 'frontend', pid: null, up: false, amqp: 'amqp://127.0.0.1:25702/', http: 'http://127.0.0.1:25703',
        dataDir: '/d/frontend-101', log: '/d/frontend-101.log', restarts: 2 },
    ],
  });
});

test('IPv6 URLs are bracketed', () => {
  const p6 = planCluster({ ...DEFAULT_LAUNCHER_OPTIONS, dataDir: '/d', owners: 1, frontends: 1, host: '::1' });
  const s = clusterState(p6, 1, { pid: undefined, up: false, restarts: 0 }, new Map());
  assert.equal(s.lb.amqp, 'amqp://[::1]:5672/');
  assert.equal(s.nodes[1]!.http, 'http://[::1]:25703');
  assert.equal(s.lb.pid, null);
});

// The reader runs in a worker thread, truly in parallel with the writes (a reader on the same
// event loop could never see the middle of a synchronous write).
const READER = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const stop = new Int32Array(workerData.stop);
let reads = 0, bad = 0;
while (Atomics.load(stop, 0) === 0) {
  try { JSON.parse(readFileSync(workerData.file, 'utf8')); } catch { bad++; }
  reads++;
}
parentPort.postMessage({ reads, bad });
`;

test('written atomically: a reader in parallel with 2000 rewrites always parses a whole state', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-state-'));
  const file = join(dir, 'state.json');
  const status = (pid: number): ProcessStatus => ({ pid, up: true, restarts: 0 });
  writeStateFile(file, clusterState(plan, 1, status(1), new Map()));
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(READER, { eval: true, workerData: { file, stop } });
  const result = new Promise<{ reads: number; bad: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await new Promise((r) => worker.once('online', r));
  for (let i = 0; i < 2000; i++) writeStateFile(file, clusterState(plan, 1, status(i), new Map([[1, status(1000 + i)]])));
  Atomics.store(new Int32Array(stop), 0, 1);
  const { reads, bad } = await result;
  assert.ok(reads > 0);
  assert.equal(bad, 0, `${bad} of ${reads} reads saw a partial or missing file`);
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { lb: { pid: number } }).lb.pid, 1999);
  assert.deepEqual(readdirSync(dir), ['state.json'], 'no temp file left behind');
  removeStateFile(file);
  removeStateFile(file); // removing twice is fine
  assert.deepEqual(readdirSync(dir), []);
  rmSync(dir, { recursive: true });
});
