// npm run sim -- [--app keys|partition] --seeds N --from S [--verbose] [--steps CHAOS] [--liveness STEPS]
// Runs seeds S..S+N-1; prints a summary; on failure prints the seed and the replay command, exit 1.
import { Command } from 'commander';
import { DEFAULT_CHAOS_STEPS, DEFAULT_LIVENESS_STEPS, replayCommand, runSeed, type SimAppKind } from './run.js';

const program = new Command()
  .name('sim')
  .option('--seeds <n>', 'number of seeds to run', '100')
  .option('--from <s>', 'first seed', '1')
  .option('--steps <n>', 'chaos steps per seed', String(DEFAULT_CHAOS_STEPS))
  .option('--liveness <n>', 'liveness steps per seed', String(DEFAULT_LIVENESS_STEPS))
  .option('--app <kind>', 'the replicated application: keys (hash chain) or partition (queues)', 'keys')
  .option('--verbose', 'print every event of every seed')
  .parse();

const o = program.opts<{ seeds: string; from: string; steps: string; liveness: string; app: string; verbose?: boolean }>();
if (o.app !== 'keys' && o.app !== 'partition') throw new Error(`--app: keys or partition, not ${o.app}`);
const app: SimAppKind = o.app;
const appTotals: Record<string, number> = {};
const n = Number(o.seeds);
const from = Number(o.from);
const startMs = performance.now();
const faults: Record<string, number> = {};
let steps = 0;
let committed = 0;
let messages = 0;
let elections = 0;
const failures: number[] = [];
for (let seed = from; seed < from + n; seed++) {
  const res = await runSeed(seed, {
    chaosSteps: Number(o.steps),
    livenessSteps: Number(o.liveness),
    app,
    ...(o.verbose === true ? { log: (l: string) => console.log(l) } : {}),
  });
  const s = res.stats;
  if (s !== undefined) {
    steps += s.steps;
    committed += s.committed;
    messages += s.messages;
    elections += s.elections;
    for (const [k, v] of Object.entries(s.faults)) faults[k] = (faults[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.app)) appTotals[k] = (appTotals[k] ?? 0) + v;
  }
  if (!res.ok) {
    failures.push(seed);
    console.log(`FAIL seed ${seed} at step ${res.step}: ${res.error}`);
    console.log(`replay: ${replayCommand(seed, app)}`);
  }
}
const secs = (performance.now() - startMs) / 1000;
console.log(`seeds run: ${n} (${from}..${from + n - 1}), failed: ${failures.length}${failures.length ? ` [${failures.join(', ')}]` : ''}`);
console.log(`steps: ${steps}, messages: ${messages}, elections: ${elections}, client entries committed: ${committed}`);
console.log(`faults injected: ${Object.entries(faults).sort().map(([k, v]) => `${k}=${v}`).join(' ') || 'none'}`);
if (app !== 'keys') console.log(`${app}: ${Object.entries(appTotals).sort().map(([k, v]) => `${k}=${v}`).join(' ')}`);
console.log(`wall time: ${secs.toFixed(1)} s (${((secs * 1000) / n).toFixed(0)} ms/seed)`);
process.exit(failures.length > 0 ? 1 : 0);
