// CI smoke run of the coverage-guided fuzzers (docs/fuzzing.md): each target fuzzes for
// WARREN_FUZZ_SMOKE_SECONDS (default 20) from the committed seed corpus and must end without a
// finding. A planted finding (targets/canary.fuzz.ts) must make the same pipeline fail, and the
// connection harness must really drive the broker (deliveries for a captured session, 501 for a
// corrupted frame), so a silently broken harness cannot pass.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TARGETS, fuzzCommand, type FuzzOptions } from './run.js';
import { runSession } from './targets/connection.fuzz.js';
import { M, isMethod, parseClose } from '../helpers/wire.js';

const SECONDS = Number(process.env['WARREN_FUZZ_SMOKE_SECONDS'] ?? 20);

interface Run { readonly code: number | null; readonly output: string; readonly findings: string[]; readonly executions: number }

async function runFuzzer(o: Omit<FuzzOptions, 'workDir' | 'findingsDir'>): Promise<Run> {
  const tmp = mkdtempSync(join(tmpdir(), `warren-fuzz-${o.target}-`));
  try {
    const c = fuzzCommand({ ...o, workDir: join(tmp, 'work'), findingsDir: join(tmp, 'findings') });
    const child = spawn(c.command, c.args, { cwd: c.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const code = await new Promise<number | null>((r) => child.on('close', (exitCode) => r(exitCode)));
    return { code, output, findings: readdirSync(join(tmp, 'findings')), executions: executionsOf(output) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Executions the run reported: the final stats line, else "Done N runs", else the last progress
 * line ("#N ..."). On a loaded machine the process can exit before its last lines reach the pipe.
 */
function executionsOf(output: string): number {
  const stat = /stat::number_of_executed_units:\s+(\d+)/.exec(output) ?? /Done (\d+) runs/.exec(output);
  if (stat) return Number(stat[1]);
  let last = 0;
  for (const m of output.matchAll(/^#(\d+)\s/gm)) last = Number(m[1]);
  return last;
}

describe('fuzz smoke', { timeout: (SECONDS + 60) * (TARGETS.length + 1) * 1000 }, () => {
  for (const target of TARGETS) {
    test(`${target}: ${SECONDS} s from the seed corpus without a finding`, async () => {
      const r = await runFuzzer({ target, seconds: SECONDS });
      const tail = r.output.split('\n').filter((l) => !l.startsWith('#')).slice(-40).join('\n');
      assert.equal(r.findings.length, 0, `finding(s) ${r.findings.join(', ')}:\n${tail}`);
      assert.equal(r.code, 0, `fuzzer exited with ${r.code}:\n${tail}`);
      assert.ok(r.executions >= 100, `only ${r.executions} executions:\n${tail}`);
    });
  }

  test('a planted finding fails the run and leaves a crash file', async () => {
    const seeds = mkdtempSync(join(tmpdir(), 'warren-fuzz-canary-seeds-'));
    try {
      writeFileSync(join(seeds, 'seed'), 'AMQP');
      const r = await runFuzzer({ target: 'canary', runs: 1000, seedDirs: [seeds] });
      assert.notEqual(r.code, 0);
      assert.equal(r.findings.length, 1, r.output.slice(-2000));
      assert.match(r.output, /canary: planted finding/);
    } finally {
      rmSync(seeds, { recursive: true, force: true });
    }
  });
});

describe('connection harness', () => {
  const corpus = join(import.meta.dirname, 'corpus', 'connection');

  test('captured client sessions replay into deliveries', async () => {
    let deliveries = 0;
    for (const f of readdirSync(corpus)) {
      const frames = await runSession(readFileSync(join(corpus, f)));
      deliveries += frames.filter((x) => x.type === 3).length;
    }
    assert.ok(deliveries > 0, 'no seed session produced a delivery: the harness does not reach the broker');
  });

  test('a corrupted frame-end gets connection.close 501', async () => {
    const bad = Buffer.from([1, 0, 1, 0, 0, 0, 5, 0, 20, 0, 10, 0, 0x00]);
    const frames = await runSession(bad);
    const close = frames.find((x) => isMethod(x, M.connectionClose));
    assert.ok(close !== undefined);
    assert.equal(parseClose(close).code, 501);
  });
});
