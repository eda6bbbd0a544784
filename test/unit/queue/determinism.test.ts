// Determinism (same commands → same effects and state on two machines) and conservation (every
// accepted message ends exactly once: settled, delivered noAck, or dead-lettered) under a seeded
// random command mix. A failing seed replays exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueueMachine } from '../../../src/queue/machine.js';
import { parseQueueArgs } from '../../../src/queue/args.js';
import type { Effect, GetReply, QueueCommand } from '../../../src/queue/types.js';
import { bodyOf, msg } from './helpers.js';
import { mulberry32 } from '../../../src/util/rand.js';

const prng = mulberry32;

const ARG_SETS: Record<string, unknown>[] = [
  { 'x-dead-letter-exchange': 'dlx' },
  { 'x-dead-letter-exchange': 'dlx', 'x-max-length': 5, 'x-message-ttl': 300 },
  { 'x-dead-letter-exchange': 'dlx', 'x-max-priority': 3, 'x-delivery-limit': 2 },
  { 'x-dead-letter-exchange': 'dlx', 'x-single-active-consumer': true, 'x-max-length-bytes': 20, 'x-overflow': 'reject-publish-dlx' },
];

interface Tracker { outstanding: Map<number, string>; finals: string[]; accepted: Set<string> }

function track(t: Tracker, effects: readonly Effect[], noAckIds: ReadonlySet<string>): void {
  for (const e of effects) {
    if (e.kind === 'deliver') {
      if (noAckIds.has(e.consumerId)) t.finals.push(bodyOf(e.message));
      else t.outstanding.set(e.msgId, `${e.consumerId}|${bodyOf(e.message)}`);
    } else if (e.kind === 'deadLetter') {
      t.finals.push(bodyOf(e.message));
    }
  }
}

/** One random command given what is outstanding; returns the command. */
function randomCommand(rnd: () => number, step: number, nowMs: number, t: Tracker, live: string[]): QueueCommand {
  const r = rnd();
  const owned = [...t.outstanding.entries()];
  const pick = owned[Math.floor(rnd() * owned.length)];
  if (r < 0.45) {
    return { kind: 'enqueue', message: msg(`m${step}`, { priority: Math.floor(rnd() * 5), ...(rnd() < 0.2 ? { expiration: String(Math.floor(rnd() * 200)) } : {}) }), nowMs };
  }
  if (r < 0.52 && live.length < 4) {
    const id = `c${step}`;
    live.push(id);
    return { kind: 'checkout', consumerId: id, prefetch: Math.floor(rnd() * 4), priority: Math.floor(rnd() * 2), noAck: false, nowMs };
  }
  if (r < 0.56 && live.length > 0) {
    const id = live.splice(Math.floor(rnd() * live.length), 1)[0] as string;
    return rnd() < 0.5 ? { kind: 'cancel', consumerId: id, nowMs } : { kind: 'down', consumerIds: [id], nowMs };
  }
  if (r < 0.6) return { kind: 'tick', nowMs };
  if (r < 0.64) return { kind: 'get', getterId: 'g', noAck: false, nowMs };
  if (pick !== undefined) {
    const [msgId, who] = pick;
    const consumerId = who.split('|')[0] as string;
    if (r < 0.85) return { kind: 'settle', consumerId, msgIds: [msgId], nowMs };
    if (r < 0.95) return { kind: 'return', consumerId, msgIds: [msgId], nowMs };
    return { kind: 'discard', consumerId, msgIds: [msgId], nowMs };
  }
  return { kind: 'tick', nowMs };
}

function afterCommand(cmd: QueueCommand, t: Tracker, res: { reply: unknown }): void {
  if (cmd.kind === 'enqueue' && res.reply === 'accepted') t.accepted.add(bodyOf(cmd.message));
  if (cmd.kind === 'settle') for (const id of cmd.msgIds) { t.finals.push((t.outstanding.get(id) as string).split('|')[1] as string); t.outstanding.delete(id); }
  if (cmd.kind === 'return' || cmd.kind === 'discard') for (const id of cmd.msgIds) t.outstanding.delete(id);
  if (cmd.kind === 'down') for (const [id, who] of [...t.outstanding]) if (cmd.consumerIds.includes(who.split('|')[0] as string)) t.outstanding.delete(id);
  if (cmd.kind === 'get') {
    const g = res.reply as GetReply;
    if (g.kind === 'message') t.outstanding.set(g.msgId, `g|${bodyOf(g.message)}`);
  }
}

function serialise(effects: readonly Effect[]): string {
  return JSON.stringify(effects, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v));
}

for (const [i, args] of ARG_SETS.entries()) {
  for (const seed of [1, 2, 3]) {
    test(`determinism + conservation: args set ${i}, seed ${seed}`, () => {
      const rnd = prng(seed * 1000 + i);
      const a = new QueueMachine('q', parseQueueArgs(args), 0);
      const b = new QueueMachine('q', parseQueueArgs(args), 0);
      const t: Tracker = { outstanding: new Map(), finals: [], accepted: new Set() };
      const live: string[] = [];
      let nowMs = 0;
      for (let step = 0; step < 2000; step++) {
        nowMs += Math.floor(rnd() * 20);
        const cmd = randomCommand(rnd, step, nowMs, t, live);
        const ra = a.apply(cmd);
        const rb = b.apply(cmd);
        assert.equal(serialise(ra.effects), serialise(rb.effects), `step ${step}`);
        assert.deepEqual(ra.reply === undefined ? undefined : JSON.stringify(ra.reply, (_k, v: unknown) => (v instanceof Uint8Array ? 0 : v)),
          rb.reply === undefined ? undefined : JSON.stringify(rb.reply, (_k, v: unknown) => (v instanceof Uint8Array ? 0 : v)));
        afterCommand(cmd, t, ra);
        track(t, ra.effects, new Set());
      }
      assert.deepEqual([a.messageCount, a.unackedCount, a.consumerCount, a.bytes], [b.messageCount, b.unackedCount, b.consumerCount, b.bytes]);
      assert.equal(a.unackedCount, t.outstanding.size);
      // Drain: cancel consumers, settle what is outstanding, then take the rest with a noAck consumer.
      for (const id of [...live]) track(t, a.apply({ kind: 'cancel', consumerId: id, nowMs }).effects, new Set());
      for (const [msgId, who] of [...t.outstanding]) {
        const cmd: QueueCommand = { kind: 'settle', consumerId: who.split('|')[0] as string, msgIds: [msgId], nowMs };
        const r = a.apply(cmd);
        afterCommand(cmd, t, r);
        track(t, r.effects, new Set());
      }
      track(t, a.apply({ kind: 'checkout', consumerId: 'drain', prefetch: 0, priority: 0, noAck: true, nowMs }).effects, new Set(['drain']));
      assert.equal(a.messageCount, 0);
      assert.equal(a.unackedCount, 0);
      assert.ok(t.accepted.size > 200, 'the random mix should enqueue plenty');
      const counts = new Map<string, number>();
      for (const f of t.finals) counts.set(f, (counts.get(f) ?? 0) + 1);
      for (const body of t.accepted) assert.equal(counts.get(body), 1, `message ${body} ended ${counts.get(body) ?? 0} times`);
      for (const [body, n] of counts) assert.ok(n === 1 && body.startsWith('m'), `${body} ended ${n} times`);
    });
  }
}
