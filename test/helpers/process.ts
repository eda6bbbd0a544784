// `warren start` as a child process on free loopback ports, for tests that restart or kill -9 it.
// The broker's JSON log lines are collected; the ports are read from its 'warren started' record.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(import.meta.dirname, '..', '..');

export type LogRecord = { readonly msg?: string } & { readonly [k: string]: unknown };

export interface WarrenProcess {
  readonly child: ChildProcess;
  readonly amqpPort: number;
  readonly httpPort: number;
  readonly url: string;
  readonly records: LogRecord[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startWarrenProcess(dataDir: string, extraArgs: readonly string[] = [], timeoutMs = 30_000): Promise<WarrenProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'start',
    '--bind', '127.0.0.1', '--amqp-port', '0', '--http-port', '0', '--data-dir', dataDir, '--log-level', 'info', ...extraArgs],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  const records: LogRecord[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = new Promise<LogRecord>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('warren did not start in time')), timeoutMs);
    void exited.then(() => { clearTimeout(timer); reject(new Error('warren exited before it started')); });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let r: LogRecord;
      try { r = JSON.parse(line) as LogRecord; } catch { return; }
      records.push(r);
      if (r.msg === 'warren started') { clearTimeout(timer); resolve(r); }
    });
  });
  const r = await started;
  const amqpPort = r['amqpPort'] as number;
  return {
    child, amqpPort, httpPort: r['httpPort'] as number, url: `amqp://guest:guest@127.0.0.1:${amqpPort}`, records, exited,
    kill: async (signal: NodeJS.Signals = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
