// Simulator, partition mode: every replica's GroupApp is the production PartitionApp under the
// production GroupDriver, with queue clients and a leader-side owner (test/sim/partition/), under
// the world's faults. Checks per step: Raft's, the accounting invariant on every replica's every
// apply, replica agreement at equal applied index, enqueue deduplication, records on disk; at the
// end every confirmed publish is present or ended one recorded way (lost = 0).
//   SIM_PARTITION_SEEDS=n SIM_PARTITION_FROM=s   choose the range (default 40 seeds from 1)
//   SIM_PARTITION_BUDGET_MS                      wall-time budget (default 45 s): seeds beyond it
//                                                are skipped and reported, never failed
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replayCommand, runSeed } from './run.js';

const seeds = Number(process.env['SIM_PARTITION_SEEDS'] ?? 40);
const from = Number(process.env['SIM_PARTITION_FROM'] ?? 1);
const budgetMs = Number(process.env['SIM_PARTITION_BUDGET_MS'] ?? 45_000);

test(`simulator, partition mode: seeds ${from}..${from + seeds - 1} keep the queue invariants and lose nothing`, { timeout: budgetMs + 120_000 }, async (t) => {
  const startMs = performance.now();
  const failures: string[] = [];
  const totals: Record<string, number> = {};
  let ran = 0;
  for (let seed = from; seed < from + seeds; seed++) {
    if (performance.now() - startMs > budgetMs) break;
    const res = await runSeed(seed, { app: 'partition' });
    ran++;
    for (const [k, v] of Object.entries(res.stats?.app ?? {})) totals[k] = (totals[k] ?? 0) + v;
    for (const [k, v] of Object.entries(res.stats?.faults ?? {})) totals[`fault:${k}`] = (totals[`fault:${k}`] ?? 0) + v;
    if (!res.ok) failures.push(`seed ${seed} at step ${res.step}: ${res.error?.split('\n').slice(0, 4).join('\n  ')}\n  replay: ${replayCommand(seed, 'partition')}`);
  }
  const secs = ((performance.now() - startMs) / 1000).toFixed(1);
  t.diagnostic(`ran ${ran}/${seeds} seeds in ${secs} s${ran < seeds ? ' (the rest skipped: over the budget)' : ''}`);
  t.diagnostic(Object.entries(totals).sort().map(([k, v]) => `${k}=${v}`).join(' '));
  assert.ok(ran >= Math.min(seeds, 5), `only ${ran} seeds ran within the budget`);
  assert.deepEqual(failures, [], failures.join('\n'));
  assert.equal(totals['lost'] ?? 0, 0);
  assert.ok((totals['enqueueEntries'] ?? 0) > 0 && (totals['confirmed'] ?? 0) > 0, 'the clients published nothing');
});
