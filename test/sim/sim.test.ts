// Runs a range of simulator seeds under node's test runner.
//   SIM_SEEDS=n SIM_FROM=s   choose the range (default: 200 seeds locally; 3000 when CI is set)
// In CI the run is bounded by wall time as well (the budget below, measured at ~50 ms a seed on
// one core of the CI machine): seeds beyond the budget are skipped and reported, never failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replayCommand, runSeed } from './run.js';

const ci = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';
const seeds = Number(process.env['SIM_SEEDS'] ?? (ci ? 3000 : 200));
const from = Number(process.env['SIM_FROM'] ?? 1);
const budgetMs = Number(process.env['SIM_BUDGET_MS'] ?? (ci ? 200_000 : 120_000));

test(`simulator: seeds ${from}..${from + seeds - 1} keep every safety property and stay live`, { timeout: budgetMs + 60_000 }, async (t) => {
  const startMs = performance.now();
  const failures: string[] = [];
  let ran = 0;
  let committed = 0;
  const faults: Record<string, number> = {};
  for (let seed = from; seed < from + seeds; seed++) {
    if (performance.now() - startMs > budgetMs) break;
    const res = await runSeed(seed);
    ran++;
    committed += res.stats?.committed ?? 0;
    for (const [k, v] of Object.entries(res.stats?.faults ?? {})) faults[k] = (faults[k] ?? 0) + v;
    if (!res.ok) failures.push(`seed ${seed} at step ${res.step}: ${res.error?.split('\n')[0]}\n  replay: ${replayCommand(seed)}`);
  }
  const secs = ((performance.now() - startMs) / 1000).toFixed(1);
  t.diagnostic(`ran ${ran}/${seeds} seeds in ${secs} s; client entries committed ${committed}`);
  t.diagnostic(`faults: ${Object.entries(faults).sort().map(([k, v]) => `${k}=${v}`).join(' ')}`);
  assert.ok(ran >= Math.min(seeds, 50), `only ${ran} seeds ran within the budget`);
  assert.deepEqual(failures, [], failures.join('\n'));
});
