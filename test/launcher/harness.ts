// Runs `warren cluster` (src/cli/main.ts under tsx) with fake nodes on a free loopback port range,
// and the small clients the launcher tests use: a banner read over TCP, a GET, the state file.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterState } from '../../src/launcher/state.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const HOST = '127.0.0.1';
export const FAKE_NODE = [process.execPath, '--import', 'tsx', join(import.meta.dirname, 'fake-node.ts')];

function listen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen({ host: HOST, port, exclusive: true }, () => resolve(srv));
  });
}

/** A base port with `count` consecutive free ports, below Linux's ephemeral range (32768+) so outgoing connections do not take them. */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * (32000 - 20000 - count));
    const held = await Promise.all(Array.from({ length: count }, (_, i) => listen(base + i)));
    await Promise.all(held.map((s) => new Promise<void>((r) => (s ? s.close(() => r()) : r()))));
    if (held.every(Boolean)) return base;
  }
  throw new Error('no free port range');
}

export interface Launcher {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly stateFile: string;
  readonly stderr: () => string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the launcher; `args` are extra flags (after the data dir, ports and state file). */
export async function startLauncher(args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Launcher> {
  const dir = mkdtempSync(join(tmpdir(), 'warren-cluster-'));
  const stateFile = join(dir, 'state.json');
  const flag = (name: string, dflt: number): number => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
  const owners = flag('--owners', 3);
  const frontends = flag('--frontends', 2);
  const base = await freePortRange(2 + 2 * (owners + frontends));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'cluster',
    '--data-dir', join(dir, 'data'), '--host', HOST, '--amqp-port', String(base), '--http-port', String(base + 1),
    '--base-port', String(base + 2), '--state', stateFile, ...args],
  { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WARREN_CLUSTER_NODE_COMMAND: JSON.stringify(FAKE_NODE), ...env } });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  child.stdout!.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, dir, stateFile, stderr: () => err, exit };
}

export function readState(file: string): ClusterState | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
}

/** Polls `get` until it returns a value `ok` accepts; throws with `what` after timeoutMs. */
export async function waitFor<T>(what: string, get: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await sleep(100);
  }
}

export function waitReady(l: Launcher, timeoutMs = 90_000): Promise<ClusterState> {
  return waitFor(`the state file (launcher stderr:\n${l.stderr()})`, () => readState(l.stateFile), (s) => s?.ready === true, timeoutMs)
    .then((s) => s!);
}

/** The first line a server sends on a new TCP connection (the fake node's `fake-node <id>`). */
export function banner(url: string, timeoutMs = 3000): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port), timeout: timeoutMs });
    let got = '';
    s.on('data', (b) => { got += b.toString(); });
    s.once('end', () => resolve(got.trim()));
    s.once('timeout', () => { s.destroy(); reject(new Error(`no banner from ${url}`)); });
    s.once('error', reject);
  });
}

/** GET `url` on a fresh connection (so a TCP balancer picks a server per request); resolves with status and body. */
export function get(url: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => { body += b.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export interface WhoAmI { id: number; pid: number; role: string; args: string[] }

export async function whoami(httpBase: string): Promise<WhoAmI> {
  return JSON.parse((await get(`${httpBase}/whoami`)).body) as WhoAmI;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Cleanup after a test, passed or failed: the launcher, every pid it was seen running, its directory. */
export async function cleanUp(l: Launcher, pids: readonly number[] = []): Promise<void> {
  if (l.child.exitCode === null && l.child.signalCode === null) l.child.kill('SIGKILL');
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await l.exit;
  rmSync(l.dir, { recursive: true, force: true });
}
