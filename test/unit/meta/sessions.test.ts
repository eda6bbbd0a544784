// Frontend session leases in the metadata state (src/meta/sessions.ts): numbers never reused, an
// ended lease told apart from one not applied yet, and both kept through the group's keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMeta } from '../../../src/meta/codec.js';
import { MetaMachine } from '../../../src/meta/machine.js';
import { leaseOfSession, sessionOfLease } from '../../../src/meta/sessions.js';
import type { MetaCommand } from '../../../src/meta/types.js';
import { MetaGroupApp } from '../../../src/node/meta-group.js';
import { EntryType, type Entry } from '../../../src/raft/core/types.js';
import type { AppReader } from '../../../src/raft/node/app.js';
import { MemoryKeys } from './helpers.js';

test('leases are numbered from a counter: ended ones stay ended, later ones are unknown until applied', () => {
  const m = new MetaMachine();
  assert.equal(m.sessions.state(1), 'unknown');
  const a = m.apply({ type: 'session.open', frontend: 'frontend-101', ttlMs: 0 }).lease!;
  const b = m.apply({ type: 'session.open', frontend: 'frontend-102', ttlMs: 5_000 }).lease!;
  assert.deepEqual([a, b], [1, 2]);
  assert.equal(m.sessions.get(a)?.ttlMs, 10_000, 'TTL 0 asks for the default');
  m.apply({ type: 'session.end', lease: a });
  m.apply({ type: 'session.end', lease: a });
  assert.equal(m.sessions.state(a), 'ended');
  assert.equal(m.sessions.state(b), 'open');
  assert.equal(m.sessions.state(3), 'unknown');
  const c = m.apply({ type: 'session.open', frontend: 'frontend-101', ttlMs: 0 }).lease!;
  assert.equal(c, 3, 'a frontend that opens again gets a new number');
  assert.throws(() => m.apply({ type: 'session.open', frontend: 'x', ttlMs: 10 }), /outside/);
  assert.equal(m.sessions.state(4), 'unknown', 'a refused open takes no number');
  const copy = MetaMachine.restore(m.snapshot());
  assert.deepEqual(copy.sessions.snapshot(), m.sessions.snapshot());
});

test('session strings name the frontend and its lease; other sessions (an owner\'s own) hold none', () => {
  assert.equal(sessionOfLease(101, 17), 'fe-101-17');
  assert.equal(leaseOfSession('fe-101-17'), 17);
  assert.equal(leaseOfSession('owner-1-ab12'), undefined);
  assert.equal(leaseOfSession('fe-test'), undefined);
  assert.equal(leaseOfSession('fe-1-017'), undefined);
  assert.equal(leaseOfSession('17'), undefined);
});

test('a replica recovered from the group\'s keys knows the open leases and which have ended', async () => {
  const keys = new MemoryKeys();
  const app = new MetaGroupApp(() => new MetaMachine());
  await app.recover({ appliedIndex: 0, store: keys as AppReader, reason: 'start' });
  let index = 0;
  const entry = (cmd: MetaCommand): Entry => ({ term: 1, index: ++index, type: EntryType.Normal, data: encodeMeta(cmd) });
  app.apply([
    entry({ type: 'session.open', frontend: 'a', ttlMs: 0 }),
    entry({ type: 'session.open', frontend: 'b', ttlMs: 0 }),
    entry({ type: 'session.end', lease: 1 }),
  ], keys);
  const again = new MetaGroupApp(() => new MetaMachine());
  await again.recover({ appliedIndex: index, store: keys as AppReader, reason: 'start' });
  assert.equal(again.machine.sessions.state(1), 'ended');
  assert.equal(again.machine.sessions.state(2), 'open');
  assert.equal(again.machine.sessions.get(2)?.frontend, 'b');
  assert.equal(again.machine.sessions.state(3), 'unknown');
});
