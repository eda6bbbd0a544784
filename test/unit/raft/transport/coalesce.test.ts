// Coalesced heartbeats (src/raft/transport/coalesce.ts): what the receiver rebuilds is exactly
// what the plain wire format delivers, per group in the sender's order, and a batch of many
// groups' heartbeats is several times smaller.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Message } from '../../../../src/raft/core/types.js';
import { EntryType, MessageType } from '../../../../src/raft/core/types.js';
import type { Envelope } from '../../../../src/raft/transport/codec.js';
import { decodeBatch, encodeBatch } from '../../../../src/raft/transport/codec.js';
import { coalesce, expand } from '../../../../src/raft/transport/coalesce.js';
import { norm, plain } from './helpers.js';

const FROM = 3;
const TO = 7;

/** A message as the core's send() builds it: defaults filled, absent optionals absent. */
function msg(type: MessageType, fields: Partial<Message> = {}): Message {
  const { context, ...rest } = fields;
  return {
    type, from: FROM, to: TO, term: 1, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0,
    ...rest,
    ...(context !== undefined ? { context } : {}),
  };
}

const hb = (commit: number, context?: Uint8Array): Message =>
  msg(MessageType.Heartbeat, { term: 5, commit, ...(context ? { context } : {}) });
const hbResp = (context?: Uint8Array): Message => msg(MessageType.HeartbeatResp, { term: 5, ...(context ? { context } : {}) });
const app = (index: number): Message => msg(MessageType.App, {
  term: 5, logTerm: 5, index, commit: index,
  entries: [{ term: 5, index: index + 1, type: EntryType.Normal, data: new Uint8Array([index & 0xff]) }],
});

/** Sends envelopes through coalesce → encode → decode → expand, as the transport does. */
function wire(envs: readonly Envelope[]): Envelope[] {
  return expand(decodeBatch(encodeBatch(coalesce(FROM, TO, envs))));
}

function byGroup(envs: readonly Envelope[]): Map<number, unknown[]> {
  const out = new Map<number, unknown[]>();
  for (const e of envs) out.set(e.group, [...(out.get(e.group) ?? []), norm(e.message)]);
  return out;
}

// ---- property: random mixes of many groups' messages ------------------------------------------

const bigNum = fc.oneof(fc.nat(300), fc.nat(2 ** 30), fc.integer({ min: 0, max: 2 ** 48 }));
const context = fc.option(fc.uint8Array({ maxLength: 6 }), { nil: undefined });
const group = fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom(70_000, 4_294_967_295));

const message: fc.Arbitrary<Message> = fc.oneof(
  // What coalescing is for: heartbeats and responses in the core's shape (weighted up).
  { weight: 4, arbitrary: fc.record({ term: bigNum, commit: bigNum, context }).map(
    ({ term, commit, context: c }) => msg(MessageType.Heartbeat, { term, commit, ...(c ? { context: c } : {}) })) },
  { weight: 3, arbitrary: fc.record({ term: bigNum, context }).map(
    ({ term, context: c }) => msg(MessageType.HeartbeatResp, { term, ...(c ? { context: c } : {}) })) },
  // Heartbeats that must stay plain: another sender/receiver, or a field the compact form lacks.
  fc.record({ from: fc.constantFrom(FROM, 9), to: fc.constantFrom(TO, 9), index: fc.nat(3), reject: fc.boolean(),
    commit: fc.nat(3), type: fc.constantFrom(MessageType.Heartbeat, MessageType.HeartbeatResp) })
    .map(({ type, ...f }) => msg(type, f)),
  // Everything else stays a plain envelope.
  fc.record({ index: bigNum, n: fc.nat(2) }).map(({ index, n }) => msg(MessageType.App, {
    term: 2, logTerm: 2, index, commit: index,
    entries: Array.from({ length: n }, (_, i) => ({ term: 2, index: index + 1 + i, type: EntryType.Normal, data: new Uint8Array([i]) })),
  })),
  fc.record({ index: bigNum, reject: fc.boolean() }).map((f) => msg(MessageType.AppResp, { ...f, rejectHint: f.index })),
  fc.constant(msg(MessageType.Vote, { term: 9, logTerm: 8, index: 40 })),
  fc.constant(msg(MessageType.Snap, {
    snapshot: { meta: { index: 4, term: 1, confState: { voters: [3, 7], learners: [], votersOutgoing: [] } }, data: new Uint8Array([1]) },
    snapOffset: 0, snapDone: true,
  })),
);
const envelopes = fc.array(fc.record({ group, message }), { maxLength: 80 });

describe('coalesced heartbeats: codec round trip', () => {
  test('decode(encode()) rebuilds every message exactly, each group in order (property)', () => {
    fc.assert(fc.property(envelopes, (envs) => {
      const out = wire(envs);
      const viaPlain = decodeBatch(encodeBatch(plain(FROM, TO, envs))).envelopes;
      assert.equal(out.length, envs.length);
      const want = byGroup(envs);
      // Same per-group sequences as sent, and as the plain format delivers (what the core saw before).
      assert.deepEqual(byGroup(out), want);
      assert.deepEqual(byGroup(viaPlain), want);
    }), { numRuns: 400 });
  });

  test('a group whose messages are all core-shaped heartbeats, then responses, is entirely compact (property)', () => {
    const hbOnly = fc.array(fc.record({
      group,
      message: fc.record({ term: bigNum, commit: bigNum, context }).map(({ term, commit, context: c }) =>
        msg(MessageType.Heartbeat, { term, commit, ...(c ? { context: c } : {}) })),
    }), { maxLength: 50 });
    const respOnly = fc.array(fc.record({
      group, message: fc.record({ term: bigNum, context }).map(({ term, context: c }) =>
        msg(MessageType.HeartbeatResp, { term, ...(c ? { context: c } : {}) })),
    }), { maxLength: 50 });
    fc.assert(fc.property(hbOnly, respOnly, (hbs, resps) => {
      const batch = coalesce(FROM, TO, [...hbs, ...resps]);
      assert.equal(batch.envelopes.length, 0);
      assert.equal(batch.heartbeats.length, hbs.length);
      assert.equal(batch.heartbeatResps.length, resps.length);
    }), { numRuns: 200 });
  });

  test('only a group’s trailing Heartbeat* HeartbeatResp* run is coalesced', () => {
    const ctx = new Uint8Array([1, 2]);
    const cases: Array<{ name: string; msgs: Message[]; compact: number }> = [
      { name: 'app then heartbeat', msgs: [app(1), hb(1)], compact: 1 },
      { name: 'heartbeat then app', msgs: [hb(1), app(1)], compact: 0 },
      { name: 'heartbeat then response', msgs: [hb(1), hbResp()], compact: 2 },
      { name: 'response then heartbeat', msgs: [hbResp(), hb(1)], compact: 1 },
      { name: 'heartbeats with ReadIndex contexts', msgs: [hb(1), hb(2, ctx), hb(2, new Uint8Array(0))], compact: 3 },
      { name: 'heartbeat from another replica', msgs: [{ ...hb(1), from: 9 }], compact: 0 },
      { name: 'response with a commit', msgs: [{ ...hbResp(), commit: 1 }], compact: 0 },
      { name: 'rejecting heartbeat', msgs: [{ ...hb(1), reject: true }], compact: 0 },
    ];
    for (const c of cases) {
      // The same messages in group 1, interleaved with another group's app (which must not matter).
      const envs: Envelope[] = c.msgs.flatMap((m, i) => [{ group: 1, message: m }, { group: 2, message: app(i) }]);
      const batch = coalesce(FROM, TO, envs);
      assert.equal(batch.heartbeats.length + batch.heartbeatResps.length, c.compact, c.name);
      assert.deepEqual(byGroup(wire(envs)), byGroup(envs), c.name);
    }
  });

  test('an empty context stays distinct from no context', () => {
    const [a, b] = wire([{ group: 1, message: hb(3, new Uint8Array(0)) }, { group: 2, message: hbResp() }]);
    assert.deepEqual([...a!.message.context!], []);
    assert.equal('context' in b!.message, false);
  });
});

describe('coalesced heartbeats: size', () => {
  // 1000 groups between one node pair, each at its own term and commit index (a busy node).
  const GROUPS = 1000;
  const heartbeats: Envelope[] = [];
  const responses: Envelope[] = [];
  for (let g = 1; g <= GROUPS; g++) {
    const term = 1 + (g * 7) % 40;
    heartbeats.push({ group: g, message: msg(MessageType.Heartbeat, { term, commit: 100_000 + g * 997 }) });
    responses.push({ group: g, message: msg(MessageType.HeartbeatResp, { term }) });
  }

  for (const [name, envs] of [['heartbeats', heartbeats], ['heartbeat responses', responses]] as const) {
    test(`a batch of ${GROUPS} groups' ${name} is several times smaller than plain envelopes`, (t) => {
      const before = encodeBatch(plain(FROM, TO, envs)).length;
      const after = encodeBatch(coalesce(FROM, TO, envs)).length;
      t.diagnostic(`${name}: ${before} B plain, ${after} B coalesced (${(before / after).toFixed(1)}x)`);
      assert.ok(after * 3 <= before, `${after} B coalesced vs ${before} B plain`);
    });
  }
});
