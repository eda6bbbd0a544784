// Launcher for the coverage-guided fuzzers (Jazzer.js / libFuzzer). See docs/fuzzing.md.
//
//   npm run fuzz -- <frames|table|connection> [--seconds N] [--runs N] [--replay FILE...] [-- libFuzzer flags]
//
// New interesting inputs go to test/fuzz/.work/<target>/ (the first corpus directory, which
// libFuzzer writes to); the committed seeds in test/fuzz/corpus/<target>/ are only read. A crashing
// input is written to test/fuzz/findings/<target>/crash-<sha1> and the exit status is non-zero.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const TARGETS = ['frames', 'table', 'connection'] as const;
/** 'canary' is the smoke test's planted finding (targets/canary.fuzz.ts), not a target to fuzz. */
export type Target = (typeof TARGETS)[number] | 'canary';

/** The byte-stream targets are synchronous; the connection target awaits the broker's replies. */
const SYNC: Record<Target, boolean> = { frames: true, table: true, connection: false, canary: true };
/** Largest input libFuzzer generates per target (seeds may be larger; they are still read whole). */
const MAX_LEN: Record<Target, number> = { frames: 8192, table: 4096, connection: 16384, canary: 64 };

export interface FuzzOptions {
  readonly target: Target;
  readonly seconds?: number;
  readonly runs?: number;
  /** Run only these inputs (crash reproduction) instead of fuzzing. */
  readonly replay?: readonly string[];
  readonly extra?: readonly string[];
  /** Root of the repository (default: cwd). */
  readonly root?: string;
  /** Where crash files go (default test/fuzz/findings/<target>/). */
  readonly findingsDir?: string;
  /** Where libFuzzer writes new inputs (default test/fuzz/.work/<target>/). */
  readonly workDir?: string;
  /** Seed directories (default test/fuzz/corpus/<target>/). */
  readonly seedDirs?: readonly string[];
}

export function fuzzCommand(o: FuzzOptions): { command: string; args: string[]; cwd: string } {
  const root = o.root ?? process.cwd();
  const work = o.workDir ?? join(root, 'test', 'fuzz', '.work', o.target);
  const findings = o.findingsDir ?? join(root, 'test', 'fuzz', 'findings', o.target);
  mkdirSync(work, { recursive: true });
  mkdirSync(findings, { recursive: true });
  const seeds = o.seedDirs ?? [join(root, 'test', 'fuzz', 'corpus', o.target)];
  const inputs = o.replay !== undefined && o.replay.length > 0 ? [...o.replay] : [work, ...seeds];
  const libFuzzer = [
    `-artifact_prefix=${findings}/`, `-max_len=${MAX_LEN[o.target]}`, '-rss_limit_mb=2048', '-print_final_stats=1',
    ...(o.seconds !== undefined ? [`-max_total_time=${o.seconds}`] : []),
    ...(o.runs !== undefined ? [`-runs=${o.runs}`] : []),
    ...(o.extra ?? []),
  ];
  const args = [
    '--import', 'tsx', '--import', './test/fuzz/jazzer-compat.ts',
    join(root, 'node_modules', '@jazzer.js', 'core', 'dist', 'cli.js'),
    // Jazzer appends ".js" to a target without one; tsx maps that back to the .ts file.
    `test/fuzz/targets/${o.target}.fuzz`, ...inputs,
    // Instrument Warren's sources only: coverage of tsx, pino or the test helpers is noise.
    '--includes', `${join(root, 'src')}/`, '--timeout', '10000',
    ...(SYNC[o.target] ? ['--sync'] : []),
    '--', ...libFuzzer,
  ];
  return { command: process.execPath, args, cwd: root };
}

function parseArgs(argv: readonly string[]): FuzzOptions {
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const extra = dash >= 0 ? argv.slice(dash + 1) : [];
  const target = own[0] as Target | undefined;
  if (target === undefined || !(TARGETS.includes(target as (typeof TARGETS)[number]) || target === 'canary')) {
    throw new Error(`usage: npm run fuzz -- <${TARGETS.join('|')}> [--seconds N] [--runs N] [--replay FILE...] [-- libFuzzer flags]`);
  }
  let seconds: number | undefined;
  let runs: number | undefined;
  const replay: string[] = [];
  for (let i = 1; i < own.length; i++) {
    const a = own[i];
    if (a === '--seconds') seconds = Number(own[++i]);
    else if (a === '--runs') runs = Number(own[++i]);
    else if (a === '--replay') while (i + 1 < own.length && !(own[i + 1] ?? '').startsWith('--')) replay.push(own[++i] ?? '');
    else throw new Error(`unknown option ${a}`);
  }
  return { target, extra, replay, ...(seconds !== undefined ? { seconds } : {}), ...(runs !== undefined ? { runs } : {}) };
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const c = fuzzCommand(parseArgs(process.argv.slice(2)));
  const child = spawn(c.command, c.args, { cwd: c.cwd, stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(code ?? (signal !== null ? 1 : 0)));
}
