// `warren bench`: a PerfTest-like load generator against any AMQP 0-9-1 broker (Warren or
// RabbitMQ), on Warren's own lean client (src/client) or amqplib (--client), with producers and
// consumers in separate worker threads. Options and output are described in docs/bench.md.
//
// Output contract: human-readable progress lines and a summary on stdout; with --json, one JSON
// object per line on stdout instead ({"kind":"progress",...} each second, then exactly one
// {"kind":"summary",...} as the last line). Diagnostics go to stderr. Exit status 0 after a
// completed run, 1 when the run could not start or a connection/channel error occurred.
import { Command, Option } from 'commander';
import { CLIENT_KINDS } from './bench/driver.js';
import { DEFAULT_BENCH_OPTIONS, QUEUE_TYPES, validateBenchOptions, type BenchOptions } from './bench/options.js';
import { runBench } from './bench/run.js';
import { formatProgress, formatSummary } from './bench/stats.js';

export { runBench } from './bench/run.js';
export type { BenchOptions } from './bench/options.js';
export type { SummaryRecord, ProgressRecord } from './bench/stats.js';

/** How long the process may linger after the summary before the bench forces its exit. */
const EXIT_GRACE_MS = 5000;

/** Flag values are checked by validateBenchOptions (exit 2); a non-number becomes NaN there. */
function num(value: string): number {
  return value.trim() === '' ? Number.NaN : Number(value);
}

interface RawFlags {
  url: string; producers: number; consumers: number; size: number; duration: number; drain: number;
  confirm: number; prefetch: number; autoack: boolean; queue?: string; persistent: boolean; queueType?: string; rate: number;
  json: boolean; multiAckEvery: number; client: string;
}

function toOptions(f: RawFlags): BenchOptions {
  return validateBenchOptions({
    url: f.url, producers: f.producers, consumers: f.consumers, sizeBytes: f.size, durationSec: f.duration,
    drainSec: f.drain, confirm: f.confirm, prefetch: f.prefetch, autoAck: f.autoack, queue: f.queue,
    persistent: f.persistent, queueType: f.queueType as BenchOptions['queueType'], ratePerSec: f.rate, json: f.json, multiAckEvery: f.multiAckEvery,
    client: f.client as BenchOptions['client'],
  });
}

export function benchCommand(): Command {
  const d = DEFAULT_BENCH_OPTIONS;
  return new Command('bench')
    .description('load generator: publish and consume against an AMQP 0-9-1 broker, report rates and latency')
    .option('--url <url>', 'broker URL', d.url)
    .option('--producers <n>', 'producer connections', num, d.producers)
    .option('--consumers <n>', 'consumer connections', num, d.consumers)
    .option('--size <bytes>', 'message body size (>= 8: the first 8 bytes carry the send time)', num, d.sizeBytes)
    .option('--duration <seconds>', 'length of the timed run', num, d.durationSec)
    .option('--drain <seconds>', 'after the run, wait at most this long for confirms and consumers', num, d.drainSec)
    .option('--confirm <n>', 'publisher confirms with at most n unconfirmed per producer (0 = off)', num, d.confirm)
    .option('--prefetch <n>', 'basic.qos prefetch per consumer (0 = unlimited)', num, d.prefetch)
    .option('--autoack', 'consume with no-ack (the broker needs no basic.ack)', false)
    .option('--queue <name>', 'queue to use (default: a fresh unique non-durable auto-delete queue, deleted at the end)')
    .option('--persistent', 'publish with deliveryMode 2 (and declare the queue durable)', false)
    .addOption(new Option('--queue-type <type>', 'x-queue-type of the declared queue (quorum: durable, not auto-delete)').choices(QUEUE_TYPES))
    .option('--rate <n>', 'msg/s cap per producer (0 = unlimited)', num, d.ratePerSec)
    .addOption(new Option('--multi-ack-every <n>', 'ack with multiple=true every n deliveries (1 = ack each)')
      .argParser(num).default(d.multiAckEvery))
    .addOption(new Option('--client <name>', 'AMQP client for producers and consumers').choices(CLIENT_KINDS).default(d.client))
    .option('--json', 'machine-readable output: one JSON object per line', false)
    .action(async (flags: RawFlags) => {
      process.exitCode = await benchAction(flags);
    });
}

async function benchAction(flags: RawFlags): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = toOptions(flags);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 2;
  }
  const out = (line: string): void => { process.stdout.write(line + '\n'); };
  // Ctrl-C ends the timed window early; the run still drains, cleans up and prints its summary.
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    const summary = await runBench(opts, {
      signal: abort.signal,
      onProgress: (p) => out(opts.json ? JSON.stringify(p) : formatProgress(p, opts.confirm > 0)),
    });
    out(opts.json ? JSON.stringify(summary) : formatSummary(summary));
    const code = summary.errors.length > 0 ? 1 : 0;
    // Every connection was closed (each with a timeout); if a wedged broker still holds a socket
    // open, exit anyway rather than hang. unref(): the timer alone keeps nothing alive.
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
    return code;
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
