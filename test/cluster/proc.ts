// Test helper: a node child process with a line protocol (raft-node.ts, partition-node.ts): lines
// starting with a capital letter answer a question (R ready, S status, D dump), the others are
// replies and events for onReply.
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export interface Status { id: number; leader: number; applied: number; term: number }

export class NodeProc {
  private child: ChildProcessByStdio<Writable, Readable, null> | undefined;
  private waiters: Array<(line: string) => void> = [];
  alive = false;
  /** Handler for every line that does not start with a capital letter (replies, deliveries). */
  onReply: (line: string) => void = () => {};
  onExit: () => void = () => {};

  constructor(
    readonly id: number, readonly dir: string, readonly port: number, readonly peers: string,
    private readonly script = 'raft-node.ts',
  ) {}

  start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, this.script),
      String(this.id), this.dir, String(this.port), this.peers], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    this.alive = true;
    // Between kill -9 and the 'exit' event a write can hit the dead pipe (EPIPE); the exit handler
    // below answers the waiters, so the stream error itself is expected and ignored.
    child.stdin.on('error', () => {});
    this.waiters = [];
    const ready = new Promise<void>((resolve) => this.waiters.push(() => resolve()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const kind = line[0] ?? '';
      if (kind >= 'A' && kind <= 'Z') this.waiters.shift()?.(line);
      else this.onReply(line);
    });
    child.once('exit', () => {
      if (this.child !== child) return;
      this.alive = false;
      // Unanswered questions get "X": status() reads it as applied -1, leader 0.
      for (const w of this.waiters.splice(0)) w('X 0 0 -1 0');
      this.onExit();
    });
    return ready;
  }

  send(line: string): void {
    if (this.alive) this.child?.stdin.write(`${line}\n`);
  }

  /** Sends a question; resolves with its answer line ("X …" if the process died first). */
  ask(line: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.send(line);
    });
  }

  async status(): Promise<Status> {
    const [, id, leader, applied, term] = (await this.ask('s')).split(' ').map(Number);
    return { id: id ?? 0, leader: leader ?? 0, applied: applied ?? -1, term: term ?? 0 };
  }

  async dump(path: string): Promise<number> {
    return Number((await this.ask(`d ${path}`)).split(' ')[1]);
  }

  kill9(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.stdin.end();
    });
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
