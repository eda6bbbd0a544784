// Runs every test/**/*.test.ts file under node's test runner (with tsx for TypeScript).
// Node 20's `--test` takes no globs, so the files are collected here. Extra args are passed on.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = collect('test').filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)));
// --test-force-exit: a file whose tests are done ends even if a failed test left a handle open (a
// client connection, a timer) — one failure must not also hold the suite for the file's timeout.
const res = spawnSync(process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', '--test-force-exit', ...files],
  { stdio: 'inherit' });
process.exit(res.status ?? 1);
