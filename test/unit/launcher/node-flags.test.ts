// Every place a Warren node is started carries the same V8 flags (src/launcher/node-flags.ts);
// the image's ENTRYPOINT is checked with the chart (test/helm/contract.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLAGS } from '../../../src/launcher/node-flags.js';
import { nodeCommand } from '../../../src/launcher/commands.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

test('the launcher starts each node with NODE_FLAGS before the CLI', { skip: !exists('dist/cli/main.js') && 'needs npm run build' }, () => {
  const argv = nodeCommand(undefined);
  assert.deepEqual(argv.slice(1, 1 + NODE_FLAGS.length), [...NODE_FLAGS]);
  assert.match(argv[1 + NODE_FLAGS.length] as string, /dist\/cli\/main\.js$/);
  assert.equal(argv[2 + NODE_FLAGS.length], 'start');
});

test('npm start runs node with NODE_FLAGS', () => {
  const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['start'] ?? '';
  assert.ok(start.includes(`node ${NODE_FLAGS.join(' ')} dist/cli/main.js start`), start);
});

test("bin/warren.js's shebang passes NODE_FLAGS", () => {
  const shebang = read('bin/warren.js').split('\n')[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
});

function exists(path: string): boolean {
  try { readFileSync(join(ROOT, path)); return true; } catch { return false; }
}
