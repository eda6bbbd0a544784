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
    // Every contract is generated (common.proto is folded into owner and meta), and nothing
    // committed under src/proto is left over from a proto file that is gone.
    const expected = ['meta', 'owner', 'partition', 'raft'].flatMap((n) => [`${n}.d.ts`, `${n}.js`]).sort();
    assert.deepEqual(generated, expected);
    assert.deepEqual(readdirSync(join(root, 'src/proto')).sort(), expected);
    for (const f of generated) {
      const committed = readFileSync(join(root, 'src/proto', f), 'utf8');
      assert.ok(committed.startsWith('// GENERATED'), `${f} lacks the do-not-edit header`);
      assert.equal(committed, readFileSync(join(out, f), 'utf8'), `src/proto/${f} differs: run npm run gen`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
