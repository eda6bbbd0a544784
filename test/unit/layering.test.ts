// The architecture's import rules (STYLE.md "Strict TypeScript, visible layering"): no runtime import
// cycles, dependencies point downward, and each heavy library has exactly one door.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import madge from 'madge';

const SRC = 'src';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Module specifiers imported (statically or dynamically) by a file, type-only imports excluded. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'"]*?from\s+'([^']+)'/gm)) out.push(m[1] as string);
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) out.push(m[1] as string);
  return out;
}

const files = sources(SRC).map((f) => ({ file: relative(SRC, f), imports: imports(f) }));

function importers(pred: (spec: string, file: string) => boolean): string[] {
  return files.filter((f) => f.imports.some((s) => pred(s, f.file))).map((f) => f.file).sort();
}

test('no runtime import cycles (madge, type-only imports skipped)', async () => {
  const res = await madge(SRC, {
    fileExtensions: ['ts'],
    detectiveOptions: { ts: { skipTypeImports: true }, es6: { skipTypeImports: true } },
  });
  assert.deepEqual(res.circular(), []);
});

test('each library has one door: level → raft/storage, grpc → rpc, pino → log.ts', () => {
  assert.ok(importers((s) => s === 'level').every((f) => f.startsWith('raft/storage/')), 'level outside raft/storage');
  assert.ok(importers((s) => s.startsWith('@grpc/')).every((f) => f.startsWith('rpc/')), '@grpc outside rpc');
  assert.deepEqual(importers((s) => s === 'pino'), ['log.ts']);
});

test('pure layers import nothing of the cluster; nothing imports the CLI', () => {
  const pure = ['amqp/', 'routing/', 'queue/', 'raft/core/', 'util/', 'placement/'];
  const cluster = ['frontend/', 'owner/', 'node/', 'admin/', 'cli/', 'rpc/', 'meta/', 'raft/transport/', 'raft/storage/', 'raft/node/', 'server', 'log'];
  for (const f of files.filter((x) => pure.some((p) => x.file.startsWith(p)))) {
    for (const spec of f.imports.filter((s) => s.startsWith('.'))) {
      const target = relative(SRC, join(SRC, f.file, '..', spec));
      assert.ok(!cluster.some((c) => target.startsWith(c)), `${f.file} imports ${target}`);
    }
  }
  const cliImporters = files.filter((f) => !f.file.startsWith('cli/') && f.imports.some((s) => relative(SRC, join(SRC, f.file, '..', s)).startsWith('cli/')));
  assert.deepEqual(cliImporters.map((f) => f.file), []);
});
