// Which broker the integration suite runs against, and the one way a test says it cannot run there.
//
// - embedded (default): an in-process Warren per test file (test/helpers/broker.ts).
// - external: WARREN_TEST_URL, e.g. the reference RabbitMQ.
// - cluster: WARREN_TEST_TARGET=cluster, a real `warren cluster` (3 owners, 2 frontends, haproxy),
//   reached through its balancer only (test/helpers/cluster-target.ts).
export type Target = 'embedded' | 'external' | 'cluster';

export const TARGET: Target = process.env['WARREN_TEST_URL'] ? 'external'
  : process.env['WARREN_TEST_TARGET'] === 'cluster' ? 'cluster' : 'embedded';

/**
 * For a test's `skip` option: the reason when the suite runs against the cluster (naming what the
 * cluster lacks for this test), false otherwise. `test('x', { skip: clusterLacks('…') }, …)`.
 */
export function clusterLacks(missing: string): string | false {
  return TARGET === 'cluster' ? `not on the cluster: ${missing}` : false;
}

/** The same inside a running test: skips it and returns true on the cluster. */
export function skipOnCluster(t: { skip(message: string): void }, missing: string): boolean {
  const reason = clusterLacks(missing);
  if (reason === false) return false;
  t.skip(reason);
  return true;
}
