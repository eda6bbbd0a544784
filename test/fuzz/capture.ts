// Builds the seed corpus (test/fuzz/corpus/<target>/) from real client sessions:
//
//   npx tsx test/fuzz/capture.ts
//
// Starts Warren in-process, puts a recording TCP proxy on loopback in front of it, runs a realistic
// amqplib session (declare, bind, publish with header tables, consume, ack/nack/reject, confirms,
// tx, get, purge, delete) and, when Debian's python3-pika is installed, the same kind of session
// with pika (capture_pika.py). Every byte each client sent is then split:
//   frames/      each session after the protocol header, plus every distinct frame on its own
//   table/       every field table inside those frames (method arguments and the headers property)
//   connection/  each session after its connection.open (what the connection target appends to its
//                own handshake), plus per-channel slices
// File names are content hashes, so re-running only adds what changed.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWarren } from '../../src/server.js';
import { amqplibSession } from './capture-amqplib.js';
import { splitFrames, tablesOf } from './corpus-split.js';
import { M, isMethod } from '../helpers/wire.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CORPUS = join(HERE, 'corpus');

/** A loopback proxy that keeps, per accepted connection, every byte the client sent. */
async function recordingProxy(upstreamPort: number): Promise<{ port: number; sessions: Buffer[][]; close(): Promise<void> }> {
  const sessions: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const sent: Buffer[] = [];
    sessions.push(sent);
    const upstream = connect({ host: '127.0.0.1', port: upstreamPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => { client.destroy(); upstream.destroy(); });
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d: Buffer) => { sent.push(Buffer.from(d)); upstream.write(d); });
    upstream.on('data', (d: Buffer) => client.write(d));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    sessions,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function write(dir: string, bytes: Buffer): void {
  if (bytes.length === 0) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, createHash('sha1').update(bytes).digest('hex')), bytes);
}

/** Bytes after the frame that carried connection.open: what follows a completed handshake. */
function afterOpen(stream: Buffer): Buffer {
  let o = 0;
  for (const f of splitFrames(stream)) {
    o += f.bytes.length;
    if (isMethod(f.frame, M.connectionOpen)) return stream.subarray(o);
  }
  return Buffer.alloc(0);
}

function writeCorpus(sessions: readonly Buffer[]): Record<string, number> {
  const counts: Record<string, number> = { frames: 0, table: 0, connection: 0 };
  const put = (target: string, b: Buffer): void => { write(join(CORPUS, target), b); counts[target] = (counts[target] ?? 0) + 1; };
  for (const session of sessions) {
    const stream = session.subarray(8); // after "AMQP" 0 0 9 1
    put('frames', stream);
    const frames = splitFrames(stream);
    for (const f of frames) {
      put('frames', f.bytes);
      for (const t of tablesOf(f.frame)) put('table', t);
    }
    const tail = afterOpen(stream);
    put('connection', tail);
    // Per-channel slices: a channel's frames alone are a shorter seed the fuzzer mutates faster.
    for (const ch of new Set(splitFrames(tail).map((f) => f.frame.channel))) {
      if (ch !== 0) put('connection', Buffer.concat(splitFrames(tail).filter((f) => f.frame.channel === ch).map((f) => f.bytes)));
    }
  }
  return counts;
}

/** Runs capture_pika.py (asynchronously: broker and proxy live in this process); '' on success, else why not. */
function runPika(url: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/python3', [join(HERE, 'capture_pika.py'), url, 'cap'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (err) => resolve(err.message));
    child.on('close', (code) => resolve(code === 0 ? '' : `exit ${code}: ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`));
  });
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-capture-'));
  const w = await startWarren({ amqpPort: 0, httpPort: 0, bind: ['127.0.0.1'], dataDir, logLevel: 'silent' });
  const proxy = await recordingProxy(w.amqpPort);
  const url = `amqp://guest:guest@127.0.0.1:${proxy.port}`;
  try {
    await amqplibSession(url, 'cap');
    const pika = await runPika(url);
    if (pika !== '') console.error(`pika session skipped/failed: ${pika}`);
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    await proxy.close();
    await w.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const counts = writeCorpus(proxy.sessions.map((s) => Buffer.concat(s)));
  console.log(`captured ${proxy.sessions.length} sessions; corpus files written: ${JSON.stringify(counts)}`);
}

await main();
