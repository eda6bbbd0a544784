// Fuzz target (c): a client connection fed raw bytes after a valid handshake.
//
// Each input runs in a fresh in-process broker core (metadata + owner + frontend context, composed
// as src/node/compose.ts does, without Raft groups or listeners) through a real src/frontend/connection.ts Connection on
// an in-memory socket (memory-socket.ts):
//   1. a companion connection logs in, opens channel 1 and declares an exclusive queue;
//   2. the victim connection completes header/start-ok/tune-ok/open, then gets the input, split
//      into up to three chunks (each delivered in its own event-loop turn, as TCP would);
//   3. the companion publishes to its queue and gets the message back.
// Invariants, each a finding when broken:
//   - nothing escapes the connection (an exception out of 'data' handling fails the run), and the
//     allocation bound holds (alloc-guard.ts);
//   - every connection.close / channel.close the victim gets carries a known reply code other than
//     541 INTERNAL_ERROR (541 means the frontend caught an unexpected exception: a bug);
//   - the server's output is well-formed frames, and the victim's socket is never dropped without a
//     connection.close or close-ok (RabbitMQ closes hostile connections with a reason);
//   - the companion is unaffected: no close frames, and its publish/get round trip still works.
import { randomBytes } from 'node:crypto';
import { DEFAULT_CONFIG, type WarrenConfig } from '../../../src/config.js';
import { replyCodeName } from '../../../src/amqp/errors.js';
import { Connection } from '../../../src/frontend/connection.js';
import { newCounters, type FrontendContext } from '../../../src/frontend/context.js';
import { EnqueueGate } from '../../../src/frontend/enqueue-gate.js';
import { pino } from 'pino';
import { createLocalMeta } from '../../../src/node/meta-port.js';
import { LocalOwner } from '../../../src/owner/local.js';
import { M, isMethod, parseClose, takeFrame, type Frame } from '../../helpers/wire.js';
import { withAllocationBoundAsync } from '../alloc-guard.js';
import { MemorySocket } from '../memory-socket.js';
import { chunkSizes } from '../chunks.js';
import { knownIssue } from '../known-issues.js';
import { CLIENT_HANDSHAKE, COMPANION_BODY, companionOpen, companionRoundTrip } from '../sessions.js';

/**
 * The frontend logs the exception behind each 541 at level error; keeping those messages lets a
 * finding name its cause (and known-issues.ts recognise it). WARREN_FUZZ_LOG=1 also prints them.
 */
const internalErrors: string[] = [];
const log = pino({ level: 'error' }, {
  write(line: string): void {
    const entry = JSON.parse(line) as { err?: { message?: string; stack?: string } };
    internalErrors.push(entry.err?.stack ?? entry.err?.message ?? line);
    if (process.env['WARREN_FUZZ_LOG'] === '1') process.stderr.write(`${entry.err?.stack ?? line}\n`);
  },
});
const CONFIG: WarrenConfig = { ...DEFAULT_CONFIG, dataDir: '/nonexistent-warren-fuzz', logLevel: 'silent' };
const KNOWN_CODES = new Set([200, 311, 312, 313, 320, 402, 403, 404, 405, 406, 501, 502, 503, 504, 505, 506, 530, 540]);
/** event-loop turns given to the broker after each delivery before its output is read. */
const SETTLE_TURNS = 3;
const EMPTY: Frame = { type: 0, channel: 0, payload: Buffer.alloc(0) };

interface Broker { readonly ctx: FrontendContext; readonly owner: LocalOwner }

function newBroker(): Broker {
  let seq = 0;
  const meta = createLocalMeta(CONFIG, () => randomBytes(4));
  const owner = new LocalOwner({
    route: (vhost, exchange, routingKey, message) => meta.routeDeadLetter(vhost, exchange, routingKey, message),
    onQueueDeleted: (q) => { void meta.port.deleteQueue(q.vhost, q.name); },
  });
  const ctx: FrontendContext = {
    config: CONFIG, meta: meta.port, owner, log, counters: newCounters(), connections: new Set(),
    // Deterministic ids keep a crash input replaying the same way.
    randomId: () => `fuzz${(seq++).toString(36).padStart(18, '0')}`, blocked: false, directReply: new Map(), enqueues: new EnqueueGate(),
  };
  return { ctx, owner };
}

async function settle(): Promise<void> {
  for (let i = 0; i < SETTLE_TURNS; i++) await new Promise<void>((r) => setImmediate(r));
}

function fail(what: string): never {
  throw new Error(`connection oracle: ${what}`);
}

/** Splits everything a socket received into frames; trailing or malformed bytes are a finding. */
export function framesOf(sock: MemorySocket, who: string): Frame[] {
  let buf: Buffer = Buffer.concat(sock.written);
  const frames: Frame[] = [];
  for (let t = takeFrame(buf); t !== undefined; t = takeFrame(buf)) {
    if (buf[t.frame.payload.length + 7] !== 0xce) fail(`${who}: server frame without frame-end`);
    frames.push(t.frame);
    buf = t.rest;
  }
  if (buf.length > 0) fail(`${who}: ${buf.length} trailing bytes that are not a frame`);
  return frames;
}

function checkVictim(sock: MemorySocket): Frame[] {
  const frames = framesOf(sock, 'victim');
  let closed = false;
  for (const f of frames) {
    const isConnClose = isMethod(f, M.connectionClose);
    if (isConnClose || isMethod(f, M.connectionCloseOk)) closed = true;
    if (isConnClose || isMethod(f, M.channelClose)) {
      const c = parseClose(f);
      if (c.code === 541 && internalErrors.length > 0 && internalErrors.every((m) => knownIssue(m) !== undefined)) continue;
      if (!KNOWN_CODES.has(c.code)) {
        fail(`${isConnClose ? 'connection' : 'channel'}.close with code ${c.code}: ${c.text}; cause: ${internalErrors.join(' | ') || 'not logged'}`);
      }
      if (!c.text.startsWith(`${replyCodeName(c.code)} - `)) fail(`close text does not name its code: ${c.code} ${c.text}`);
    }
  }
  if (sock.ended && !closed) fail('socket dropped without connection.close or close-ok');
  return frames;
}

/** Runs one input through the oracles; returns the victim's frames (the smoke test checks the harness with them). */
export async function runSession(data: Buffer): Promise<Frame[]> {
  internalErrors.length = 0;
  const { ctx, owner } = newBroker();
  const companion = new MemorySocket();
  const victim = new MemorySocket();
  try {
    new Connection(companion, ctx, false);
    companion.receive(companionOpen());
    new Connection(victim, ctx, false);
    victim.receive(CLIENT_HANDSHAKE);
    await settle();
    if (!framesOf(victim, 'victim').some((f) => isMethod(f, M.connectionOpenOk))) fail('handshake did not complete');
    let o = 0;
    for (const n of threeChunks(data)) {
      victim.receive(data.subarray(o, o + n));
      o += n;
      await settle();
    }
    const victimFrames = checkVictim(victim);
    const seen = framesOf(companion, 'companion').length;
    companion.receive(companionRoundTrip());
    await settle();
    const all = framesOf(companion, 'companion');
    if (all.some((f) => isMethod(f, M.connectionClose) || isMethod(f, M.channelClose))) fail('companion connection was closed');
    const fresh = all.slice(seen);
    const body = fresh.find((f) => f.type === 3 && f.channel === 1);
    if (!isMethod(fresh[0] ?? EMPTY, M.basicGetOk) || body === undefined || !body.payload.equals(COMPANION_BODY)) {
      fail('companion publish/get round trip failed');
    }
    return victimFrames;
  } finally {
    victim.destroy();
    companion.destroy();
    await settle();
    owner.close();
  }
}

/** Up to three chunks at input-seeded positions (merging the fine-grained split into three parts). */
function threeChunks(data: Buffer): number[] {
  if (data.length < 3) return data.length === 0 ? [] : [data.length];
  const sizes = chunkSizes(data);
  const a = Math.max(1, Math.min(data.length - 2, sizes[0] ?? 1));
  const b = Math.max(1, Math.min(data.length - a - 1, sizes[1] ?? 1));
  return [a, b, data.length - a - b];
}

export async function fuzz(data: Buffer): Promise<void> {
  await withAllocationBoundAsync(data.length, () => runSession(data));
}
