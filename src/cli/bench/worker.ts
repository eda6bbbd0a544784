// A bench worker thread: owns either every producer or every consumer of a run, and answers the main
// thread's requests (see workers.ts for the protocol). Entry point: started by BenchWorker, never imported.
import { parentPort, workerData } from 'node:worker_threads';
import { BenchStats } from './stats.js';
import { Producer } from './producer.js';
import { Consumer } from './consumer.js';
import { loadDriver } from './drivers.js';
import { openAll, range, withTimeout } from './async.js';
import type { WorkerInit, WorkerReply, WorkerReport, WorkerRequest } from './workers.js';

const CLOSE_TIMEOUT_MS = 3000;

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('bench worker: not started as a worker thread');
const stats = new BenchStats();
let errorsReported = 0;
let producers: Producer[] = [];
let consumers: Consumer[] = [];

function report(): WorkerReport {
  const r: WorkerReport = {
    counters: stats.counters(),
    latencyUs: stats.latencyIntervalUs.snapshot(),
    // Context is already in the text ("producer 0 channel: ...").
    errors: stats.errors.slice(errorsReported),
  };
  stats.latencyIntervalUs.reset();
  errorsReported = stats.errors.length;
  return r;
}

async function perform(req: WorkerRequest): Promise<void> {
  const { opts, queue } = init;
  switch (req.op) {
    case 'open': {
      const driver = await loadDriver(opts.client);
      if (init.role === 'producers') {
        producers = await openAll(range(opts.producers).map((i) => Producer.open(driver, opts, queue, stats, i)), CLOSE_TIMEOUT_MS);
      } else {
        consumers = await openAll(range(opts.consumers).map((i) => Consumer.open(driver, opts, queue, stats, i)), CLOSE_TIMEOUT_MS);
      }
      return;
    }
    case 'start':
      for (const p of producers) p.start();
      return;
    case 'stop':
      for (const p of producers) p.stop();
      return;
    case 'drain':
      await Promise.all(producers.map((p) => p.waitForConfirms(req.timeoutMs)));
      return;
    case 'close':
      for (const p of producers) p.stop();
      await Promise.all([...producers, ...consumers].map((x) => withTimeout(x.close(), Math.min(req.timeoutMs, CLOSE_TIMEOUT_MS))));
      return;
    case 'report':
      return;
  }
}

port.on('message', (req: WorkerRequest) => {
  perform(req).then(
    () => { const m: WorkerReply = { id: req.id, ok: true, report: report() }; port.postMessage(m); },
    (err: unknown) => {
      const m: WorkerReply = { id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) };
      port.postMessage(m);
    },
  );
});
