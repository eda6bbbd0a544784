// Seeds of the simulator's partition mode (`npm run sim -- --app partition`) that found bugs,
// each with the fix it led to. A seed's scenario is tied to the simulator's random choices, and
// the workload changed while these were found, so with a fix reverted a seed may no longer reach
// its scenario; the unit tests named alongside pin each bug (verified failing with it reverted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replayCommand, runSeed } from './run.js';

async function passes(seed: number): Promise<void> {
  const res = await runSeed(seed, { app: 'partition' });
  assert.ok(res.ok, `${res.error ?? ''}\nreplay: ${replayCommand(seed, 'partition')}`);
}

// Bug: a new leader resumed effects (re-issued deliveries) from a state lagging entries committed
// in earlier terms, handing a consumer again a message whose ack the old leader had committed
// ("got X (redelivered=false) again after acking it"). Fix: src/partition/app.ts resumes once it
// applied an entry of its own term. Unit test: test/unit/partition/recover.test.ts "a new leader
// behind on committed entries does not re-deliver a message acked in an earlier term".
// Seed 22 also found the first version of the fix wanting: a resume computed between the two parts
// of one apply re-issued a delivery that a settle later in the same apply removed.
test('partition seed 22: a new leader re-delivered a message acked in an earlier term', () => passes(22));

// Bug: a message refused by a frontend for a consumer being cancelled was to be returned by the
// leader, which died first; the next leader's resume skipped holders that are no consumers any
// more, so it stayed checked out to a consumer whose client never saw it. Fix: resumeEffects
// re-issues messages held by cancelled consumers too, and QueueCore.restore keeps the holder's
// incarnation so a rebuilt replica agrees. Unit test: recover.test.ts "messages held by a
// consumer cancelled since are re-issued too". Seed 18 also found that effects of the part of an
// apply after a resume read records that apply had written (not in the store yet) as gone.
test('partition seed 18: a message stayed checked out to a cancelled consumer that never got it', () => passes(18));

// Bug: the same refused delivery's return was proposed during a leadership transfer, which drops
// proposals; the transfer failed, the leader stayed, and nothing proposed the return again, so the
// message stayed checked out to a cancelled consumer that never got it. Fix: the owner (and
// src/owner/partition-host.ts giveBack) proposes it again while it leads the same term. Unit test:
// test/unit/owner/partition-host.test.ts.
test('partition seed 1336: a dropped return of a refused delivery was never proposed again', () => passes(1336));

// Bug (in the first version of the resume fix): a dead-letter of the new term was handed out
// before the resume's older ones, overtook them in the target's (session, seq) deduplication, and
// an older copy was then answered "duplicate" — its message would have been lost.
test('partition seed 36: a new-term dead-letter overtook older ones in flight', () => passes(36));

// Simulator bug: a replica rebuilding its partition from keys (a promise chain) stalled forever
// when no step had driver work to give it microtask turns (all three replicas stuck restarting).
test('partition seed 16: recoveries from keys always progress', () => passes(16));
