// etcd's verify_genproto: the committed generated code must equal a fresh regeneration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../../../..');

test('src/proto is exactly what scripts/gen-proto.sh generates', () => {
  const out = mkdtempSync(join(tmpdir(), 'warren-genproto-'));
  try {
    execFileSync('bash', [join(root, 'scripts/gen-proto.sh'), out], { cwd: root, stdio: 'pipe' });
    const generated = readdirSync(out).sort();
    assert.ok(generated.includes('raft.js') && generated.includes('raft.d.ts'));
    for (const f of generated) {
      const committed = readFileSync(join(root, 'src/proto', f), 'utf8');
      assert.ok(committed.startsWith('// GENERATED'), `${f} lacks the do-not-edit header`);
      assert.equal(committed, readFileSync(join(out, f), 'utf8'), `src/proto/${f} differs: run npm run gen`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
