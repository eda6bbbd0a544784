// Two independent AMQP clients' own integration suites against a freshly built Warren, through
// scripts/interop.sh (see docs/testing.md, "Interop suites"): the Go client amqp091-go and
// amqplib 2.2.0's test/ directory. The script runs once; each suite is one test here, passing
// only when the script's verdict for it is OK, i.e. every failing upstream test is on
// scripts/interop/skip-list.txt. The upstream counts and run times are reported as diagnostics.
import { before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT_TIMEOUT_MS = 280_000;

interface ScriptRun { code: number | null; stdout: string; stderr: string }

function runScript(): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    // detached: the script leads its own process group, so a timeout can end all of it
    // (bash, Warren, go test, node --test) by that group's id.
    const child = spawn('bash', ['scripts/interop.sh', 'all'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    }, SCRIPT_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

let run: ScriptRun;
before(async () => { run = await runScript(); }, { timeout: SCRIPT_TIMEOUT_MS + 10_000 });

/** The script's block for one suite: from its counts line to its verdict line. */
function section(suite: string): string[] {
  const lines = run.stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${suite} — `) && l.includes(' passed / '));
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.startsWith(`${suite} — `));
  return lines.slice(start, end < 0 ? undefined : end + 1);
}

function checkSuite(t: TestContext, suite: string): void {
  const block = section(suite);
  for (const line of block) t.diagnostic(line);
  const context = `script exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr.slice(-4000)}`;
  assert.ok(block.length > 0, `${suite} did not report a result\n${context}`);
  assert.equal(block.at(-1), `${suite} — OK`, `${suite} has failures not on the skip list\n${block.join('\n')}`);
}

test('amqp091-go integration suite (go test -tags integration) passes against Warren', (t) => {
  checkSuite(t, 'amqp091-go');
});

test('amqplib 2.2.0 test/ directory passes against Warren', (t) => {
  checkSuite(t, 'amqplib');
});
