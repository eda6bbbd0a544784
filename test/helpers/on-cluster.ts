// Runs integration suites (test/integration/<name>.test.ts) in this test process against one shared
// `warren cluster`: sets WARREN_TEST_TARGET=cluster, then imports the suites one after another, so
// their top-level hooks and tests register in order on the importing file's root and every
// startBroker() of theirs shares the one cluster (test/helpers/cluster-target.ts). Without haproxy,
// or when WARREN_TEST_URL names an external broker, one skipped test says why and nothing is imported.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { findHaproxy } from '../../src/launcher/commands.js';

const INTEGRATION = join(import.meta.dirname, '..', 'integration');

/** Every integration suite of its own: not the wrappers that re-run another suite (*.durable, on-cluster*). */
export function integrationSuites(): string[] {
  return readdirSync(INTEGRATION).filter((f) => f.endsWith('.test.ts') && !f.includes('.durable.') && !f.startsWith('on-cluster'))
    .map((f) => f.slice(0, -'.test.ts'.length)).sort();
}

function whyNot(): string | undefined {
  const external = process.env['WARREN_TEST_URL'];
  if (external) return `WARREN_TEST_URL names an external broker (${external}); these suites run here against a Warren cluster`;
  try { findHaproxy(); return undefined; } catch (err) { return (err as Error).message; }
}

export async function runSuitesOnCluster(suites: readonly string[], opts: { durableQueues: boolean }): Promise<void> {
  const skip = whyNot();
  if (skip !== undefined) {
    test(`integration suites on a cluster: ${suites.join(', ')}`, { skip }, () => {});
    return;
  }
  process.env['WARREN_TEST_TARGET'] = 'cluster';
  if (opts.durableQueues) process.env['WARREN_TEST_DURABLE_QUEUES'] = '1';
  for (const suite of suites) await import(join(INTEGRATION, `${suite}.test.ts`));
}
