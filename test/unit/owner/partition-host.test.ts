// PartitionHost's leader effects against a stand-in Raft driver: a delivery refused because its
// consumer went away is returned to the queue, and that return is proposed again when the group
// drops the proposal (a leadership transfer in progress), while this replica leads in that term;
// not after a timeout, whose entry may still commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionHost } from '../../../src/owner/partition-host.js';
import { decodeBatch } from '../../../src/partition/codec.js';
import type { DeliverEffect, PartitionCommand, PartitionEffect } from '../../../src/partition/index.js';
import { ProposalDroppedError, ProposalTimeoutError } from '../../../src/raft/node/errors.js';
import type { GroupDriver } from '../../../src/raft/node/group.js';
import { logger } from '../../../src/log.js';

const SESSION = 'owner-1';

/** A driver whose next `failing` proposals fail with `error()`; records what was proposed. */
function fakeDriver(role: { term: number; leader: boolean }) {
  const proposed: PartitionCommand[][] = [];
  let failing = 0;
  let error = (): Error => new ProposalDroppedError('leadership transfer in progress');
  const driver = {
    isLeader: () => role.leader,
    leader: () => (role.leader ? 1 : 2),
    roleInfo: () => ({ term: role.term, leader: role.leader ? 1 : 2, isLeader: role.leader }),
    propose: (data: Uint8Array) => {
      proposed.push(decodeBatch(data));
      if (failing > 0) {
        failing--;
        return Promise.reject(error());
      }
      return Promise.resolve({ index: proposed.length, term: role.term, result: [[{ kind: 'ok' }]] });
    },
  };
  const fail = (n: number, err?: () => Error): void => {
    failing = n;
    if (err !== undefined) error = err;
  };
  return { driver: driver as unknown as GroupDriver, proposed, fail };
}

function host(): PartitionHost {
  return new PartitionHost({
    id: 1, session: SESSION, now: () => 1000, log: logger('test'),
    deadLetter: () => {}, expired: () => {},
  });
}

/** A delivery to a consumer of this node's session that has no sink (cancelled meanwhile). */
const refused: DeliverEffect = {
  kind: 'deliver', queue: 7, session: SESSION, consumer: 'ctag-1', msgId: 42, redelivered: false, deliveryCount: 1,
  noAck: false, record: new Uint8Array([1]),
};

function perform(h: PartitionHost, effects: PartitionEffect[]): void {
  (h as unknown as { perform(e: PartitionEffect[]): void }).perform(effects);
}

const returns = (proposed: PartitionCommand[][]): number => proposed.flat().filter((c) => c.kind === 'return').length;

async function until(f: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a refused delivery whose return is dropped is returned again while this replica leads the term', async () => {
  const role = { term: 3, leader: true };
  const d = fakeDriver(role);
  const h = host();
  h.attach(d.driver);
  d.fail(2);
  perform(h, [refused]);
  await until(() => returns(d.proposed) === 3);
  const ret = d.proposed.flat().find((c) => c.kind === 'return');
  assert.deepEqual(ret && { ...ret, nowMs: 0 }, { kind: 'return', queue: 7, session: SESSION, consumer: 'ctag-1', msgIds: [42], nowMs: 0 });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(returns(d.proposed), 3, 'once one is committed, no more');
  h.stop();
});

test('a dropped return is not retried once the term changed: the next leader decides again', async () => {
  const role = { term: 3, leader: true };
  const d = fakeDriver(role);
  const h = host();
  h.attach(d.driver);
  d.fail(1);
  perform(h, [refused]);
  await until(() => returns(d.proposed) === 1);
  role.term = 4;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(returns(d.proposed), 1);
  h.stop();
});

test('a return that timed out is not proposed again: its entry may still commit', async () => {
  const d = fakeDriver({ term: 3, leader: true });
  const h = host();
  h.attach(d.driver);
  d.fail(1, () => new ProposalTimeoutError(1, 5));
  perform(h, [refused]);
  await until(() => returns(d.proposed) === 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(returns(d.proposed), 1);
  h.stop();
});
