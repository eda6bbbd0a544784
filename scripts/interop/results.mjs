// Judges one interop suite run against the skip list.
//   node results.mjs go|node <results-file> <skip-list> <seconds> <exit-code> <output-file>
// results-file: `go test -json` output, or scripts/interop/node-reporter.mjs's JSON lines;
// exit-code: the suite command's (124 = killed by `timeout`); output-file: its other output,
// shown when the run broke.
// Exit 0 only when the run finished (no crash, panic or timeout) and every failing test is on
// the skip list for this suite. Prints counts, the run time, each unexpected failure with its
// output, each skip-listed failure with its reason, and skip-list entries that passed.
import { existsSync, readFileSync } from 'node:fs';

const [kind, resultFile, skipFile, seconds, exitCode, outputFile] = process.argv.slice(2);
const SUITE_NAMES = { go: 'amqp091-go', node: 'amqplib' };
const suite = SUITE_NAMES[kind];
if (!suite || !resultFile || !skipFile) {
  console.error('usage: node results.mjs go|node <results> <skip-list> <seconds> <exit-code> <output-file>');
  process.exit(2);
}

/** Skip list lines: `suite | test id | reason`; '#' starts a comment. */
function readSkipList() {
  const skips = new Map();
  for (const raw of readFileSync(skipFile, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [s, id, reason] = line.split(' | ').map((x) => x.trim());
    if (!s || !id || !reason) throw new Error(`skip list: malformed line: ${line}`);
    if (s === suite) skips.set(id, reason);
  }
  return skips;
}

function jsonLines(file) {
  const out = [];
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try { out.push(JSON.parse(line)); } catch { /* a non-JSON line from the tool: ignored */ }
  }
  return out;
}

/** go test -json: top-level tests only (a subtest failure also fails its parent). */
function goResults() {
  const tests = new Map();
  const crashes = [];
  let packageAction;
  const packageOutput = [];
  for (const ev of jsonLines(resultFile)) {
    if (ev.Test === undefined) {
      if (ev.Action === 'pass' || ev.Action === 'fail') packageAction = ev.Action;
      if (ev.Action === 'output') packageOutput.push(ev.Output ?? '');
      if (ev.Action === 'output' && /^panic: |test timed out/.test(ev.Output ?? '')) crashes.push(ev.Output.trim());
      continue;
    }
    const top = ev.Test.split('/')[0];
    const t = tests.get(top) ?? { id: top, status: 'running', output: [] };
    tests.set(top, t);
    if (ev.Action === 'output') {
      t.output.push(ev.Output);
      if (/^panic: /.test(ev.Output)) crashes.push(`${top}: ${ev.Output.trim()}`);
    } else if (ev.Test === top && ['pass', 'fail', 'skip'].includes(ev.Action)) t.status = ev.Action;
  }
  for (const t of tests.values()) if (t.status === 'running') crashes.push(`${t.id} never finished`);
  if (packageAction === undefined) crashes.push('go test reported no package result (build failure or killed)');
  if (tests.size === 0) crashes.push('no test ran');
  if (packageAction === 'fail' && ![...tests.values()].some((t) => t.status === 'fail')) {
    // e.g. goleak's TestMain reporting leaked goroutines after every test passed
    crashes.push(`package failed outside any test:\n${packageOutput.slice(-15).join('').trimEnd()}`);
  }
  const list = [...tests.values()].map((t) => ({
    id: t.id, status: t.status,
    detail: t.output.filter((l) => !/^(=== |--- )/.test(l.trimStart())).join('').trimEnd(),
  }));
  return { list, crashes };
}

function nodeResults() {
  const list = jsonLines(resultFile).map((r) => ({ id: r.id, status: r.status, detail: `${r.failureType ?? ''}: ${r.error ?? ''}` }));
  const crashes = list.length === 0 ? ['no test reported a result'] : [];
  return { list, crashes };
}

/** Folds runs of identical lines into one line with a count, so the telling line is not cut off. */
function collapse(lines) {
  const out = [];
  for (let i = 0; i < lines.length;) {
    let j = i;
    while (j < lines.length && lines[j] === lines[i]) j++;
    out.push(j - i > 1 ? `${lines[i]}   (×${j - i})` : lines[i]);
    i = j;
  }
  return out;
}

const skips = readSkipList();
const { list, crashes } = kind === 'go' ? goResults() : nodeResults();
if (exitCode === '124') crashes.push(`killed by timeout after ${seconds} s`);
const count = (s) => list.filter((t) => t.status === s).length;
const failed = list.filter((t) => t.status === 'fail');
const unexpected = failed.filter((t) => !skips.has(t.id));
const skipped = failed.filter((t) => skips.has(t.id));

console.log(`${suite} — ${count('pass')} passed / ${failed.length} failed / ${count('skip') + count('todo')} skipped by the suite, in ${seconds ?? '?'} s`);
for (const t of skipped) console.log(`  skip-listed failure: ${t.id} (${skips.get(t.id)})`);
for (const [id, reason] of skips) {
  const found = list.find((t) => t.id === id);
  // amqp091-go's skip-listed tests are left out of the run (scripts/interop.sh, go_run_pattern)
  if (!found && kind === 'go') console.log(`  skip-listed, not run: ${id} (${reason})`);
  else if (!found) console.log(`  skip-list entry matches no test (stale?): ${id}`);
  else if (found.status === 'pass') console.log(`  skip-listed but passed (stale entry?): ${id}`);
}
for (const t of unexpected) {
  console.log(`  FAILED: ${t.id}`);
  for (const l of collapse(t.detail.split('\n')).slice(0, 30)) console.log(`      ${l}`);
}
for (const c of crashes) console.log(`  RUN BROKEN: ${c}`);
if (crashes.length > 0 && outputFile && existsSync(outputFile)) {
  const tail = readFileSync(outputFile, 'utf8').trimEnd().split('\n').slice(-20);
  for (const l of tail) console.log(`  output: ${l}`);
}
const ok = unexpected.length === 0 && crashes.length === 0;
console.log(`${suite} — ${ok ? 'OK' : 'NOT OK'}${unexpected.length ? ` (${unexpected.length} unexpected failures)` : ''}`);
process.exit(ok ? 0 : 1);
