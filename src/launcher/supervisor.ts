// One child process kept running the way a StatefulSet keeps a pod: started with its stdout and
// stderr appended to its log file, probed until ready, restarted after a delay whenever it dies
// (same command, so same id and data), stopped with SIGTERM and, after a grace, SIGKILL. A process
// that keeps dying before it is ready (a bad flag, a configuration the cluster refuses) is restarted
// ever more slowly, as Kubernetes backs off a crash-looping pod (crashLoopDelay).
//
// Contract: onChange fires after every change of pid or readiness; the owner of the Supervised reads
// status() then. After stop() resolves the child has exited and nothing restarts it.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, fstatSync, writeSync } from 'node:fs';
import { STOP_WITH_LAUNCHER_ENV } from './commands.js';
import type { ProcessStatus } from './state.js';

export interface SupervisedSpec {
  /** For messages: `owner-1`, `haproxy`. */
  readonly name: string;
  readonly argv: readonly [string, ...string[]];
  readonly logFile: string;
  readonly restartDelayMs: number;
  /**
   * Set (NAME=1) in the child's environment, with its stdin a pipe from the launcher that is never
   * written: the child reads end-of-file when the launcher is gone however it died (kill -9
   * included), and a Warren node then stops (STOP_WITH_LAUNCHER_ENV). (haproxy: see haproxyArgv.)
   */
  readonly stopWithLauncher?: boolean;
  /** Resolves once the process serves (e.g. /readyz answers 200); must give up when the signal aborts. */
  readonly probe: (signal: AbortSignal) => Promise<void>;
}

/** The longest wait between two starts of a process that never became ready. */
export const MAX_CRASH_LOOP_DELAY_MS = 60_000;

/**
 * How long to wait before the next start after `failedStarts` consecutive exits before readiness
 * (0: it was ready, then died): the configured delay for a death after readiness or a first failed
 * start, then doubling (from at least 1 s) up to MAX_CRASH_LOOP_DELAY_MS.
 */
export function crashLoopDelay(baseMs: number, failedStarts: number): number {
  if (failedStarts <= 1) return baseMs;
  return Math.min(Math.max(baseMs, 1_000) * 2 ** (failedStarts - 1), Math.max(baseMs, MAX_CRASH_LOOP_DELAY_MS));
}

export interface SupervisorEvents {
  onChange(): void;
  /** One human-readable line (started, exited, restarting). */
  onMessage(line: string): void;
}

export class Supervised {
  private child: ChildProcess | undefined;
  private up = false;
  private restarts = 0;
  /** Consecutive incarnations that exited before they were ready. */
  private failedStarts = 0;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Aborts the probe of the current incarnation when it exits or the launcher stops. */
  private probeAbort: AbortController | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly spec: SupervisedSpec, private readonly events: SupervisorEvents) {}

  status(): ProcessStatus {
    return { pid: this.child?.pid, up: this.up, restarts: this.restarts };
  }

  start(): void {
    if (this.stopping) return;
    const { argv, logFile, name } = this.spec;
    // The log is appended to across restarts; a marker line separates the incarnations.
    const fd = openSync(logFile, 'a');
    writeSync(fd, `--- warren cluster: starting ${name} (${new Date().toISOString()}): ${argv.join(' ')}\n`);
    let child: ChildProcess;
    try {
      child = this.spec.stopWithLauncher === true
        ? spawn(argv[0], argv.slice(1), { stdio: ['pipe', fd, fd], env: { ...process.env, [STOP_WITH_LAUNCHER_ENV]: '1' } })
        : spawn(argv[0], argv.slice(1), { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd); // the child holds its own copy
    }
    this.child = child;
    const abort = new AbortController();
    this.probeAbort = abort;
    this.exited = new Promise<void>((resolve) => {
      // 'error' without 'exit' happens when the binary cannot be spawned at all (ENOENT).
      let done = false;
      const onGone = (how: string): void => {
        if (done) return;
        done = true;
        abort.abort();
        this.onExit(child, how);
        resolve();
      };
      child.once('exit', (code, signal) => onGone(signal ? `killed by ${signal}` : `exited with code ${code}`));
      child.once('error', (err) => onGone(`could not run: ${err.message}`));
    });
    if (child.pid !== undefined) this.events.onMessage(`${name} started, pid ${child.pid}`);
    this.events.onChange();
    this.spec.probe(abort.signal).then(() => {
      if (this.child !== child || abort.signal.aborted) return;
      this.up = true;
      this.failedStarts = 0;
      this.events.onMessage(`${name} is up (pid ${child.pid})`);
      this.events.onChange();
    }, () => { /* aborted: the process exited or the launcher is stopping */ });
  }

  private onExit(child: ChildProcess, how: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (!this.up) this.failedStarts++;
    this.up = false;
    if (this.stopping) {
      this.events.onChange();
      return;
    }
    const delay = crashLoopDelay(this.spec.restartDelayMs, this.failedStarts);
    const tail = logTail(this.spec.logFile).map((l) => `\n    | ${l}`).join('');
    const looping = this.failedStarts > 1 ? ` (${this.failedStarts} starts in a row failed before it was ready)` : '';
    this.events.onMessage(`${this.spec.name} ${how}; restarting in ${delay} ms${looping} (log: ${this.spec.logFile})${tail}`);
    this.events.onChange();
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restarts++;
      this.start();
    }, delay);
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. Idempotent. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    this.probeAbort?.abort();
    const child = this.child;
    if (child === undefined) return;
    child.kill('SIGTERM');
    const kill = setTimeout(() => {
      this.events.onMessage(`${this.spec.name} did not stop within ${graceMs} ms; SIGKILL`);
      child.kill('SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(kill);
  }
}

/** The last few lines of a log (read from its last 4 KiB), to say why a process died without opening it. */
function logTail(file: string, lines = 3): string[] {
  try {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.alloc(Math.min(size, 4096));
      readSync(fd, buf, 0, buf.length, size - buf.length);
      return buf.toString('utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('--- warren cluster:')).slice(-lines);
    } finally {
      closeSync(fd);
    }
  } catch {
    return [];
  }
}
