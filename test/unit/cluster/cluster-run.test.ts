// A new metadata leader's decision whether the whole cluster restarted (src/cluster/cluster-run.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRun, runVerdict } from '../../../src/cluster/cluster-run.js';

test('runVerdict: any member that saw an earlier leader means the cluster ran on', () => {
  // Term 7's leader; answers: the first leader term each member's process saw (0: none).
  assert.equal(runVerdict(7, [7, 3, 7], false), 'continued', 'a survivor of term 3');
  assert.equal(runVerdict(7, [7, undefined, 5], false), 'continued', 'one survivor is enough, the silent member does not matter');
  assert.equal(runVerdict(7, [6, 7, 7], true), 'continued', 'the leader itself saw term 6');
});

test('runVerdict: every member new is a restart of the whole cluster; a silent member is waited for, then the majority decides', () => {
  assert.equal(runVerdict(7, [7, 7, 0], false), 'new', 'none saw a leader before term 7 (one saw none at all yet)');
  assert.equal(runVerdict(7, [7, 7, undefined], false), 'undecided');
  assert.equal(runVerdict(7, [7, 7, undefined], true), 'new', 'a majority of new processes');
  assert.equal(runVerdict(7, [7, undefined, undefined], true), 'continued', 'no majority of evidence: keep');
  assert.equal(runVerdict(4, [4, 4, undefined, undefined, 4], true), 'new');
  assert.equal(runVerdict(4, [4, 4, undefined, undefined], true), 'continued', 'half is not a majority');
});

test('checkRun: a leader that saw an earlier leader asks nobody; otherwise it asks until it knows', async () => {
  let asked = 0;
  assert.equal(await checkRun({ term: 9, own: () => 8, askOthers: async () => { asked++; return []; } }), 'continued');
  assert.equal(asked, 0);

  // A straggler answers on the third round: new.
  const rounds: (number | undefined)[][] = [[undefined, undefined], [9, undefined], [9, 9]];
  assert.equal(await checkRun({ term: 9, own: () => 9, askOthers: async () => rounds[Math.min(asked++, 2)]!, retryMs: 1 }), 'new');
  assert.equal(asked, 3);

  // One member never answers: after waitMs the majority decides.
  const t0 = Date.now();
  assert.equal(await checkRun({ term: 9, own: () => 9, askOthers: async () => [9, undefined], waitMs: 50, retryMs: 5 }), 'new');
  assert.ok(Date.now() - t0 >= 50);
});
