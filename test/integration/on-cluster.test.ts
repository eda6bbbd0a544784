// Issue 8: the integration suite against a real cluster, in `npm test`. Every suite of this
// directory runs again here, in one process, against one `warren cluster` (3 owners, 2 frontends
// running `warren start --role …`, haproxy in front), reached through the balancer only, as clients
// of `npm run cluster` do. What the cluster cannot offer a test yet, the test skips with the reason
// (clusterLacks / skipOnCluster in test/helpers/target.ts). on-cluster.durable.test.ts is the
// counterpart of the *.durable wrappers.
//
// WARREN_TEST_CLUSTER_SUITES=basic,queue picks suites (file names without .test.ts). Any single file
// runs on a cluster of its own with `WARREN_TEST_TARGET=cluster node --import tsx --test <file>`.
import { integrationSuites, runSuitesOnCluster } from '../helpers/on-cluster.js';

const picked = process.env['WARREN_TEST_CLUSTER_SUITES']?.split(',').map((s) => s.trim()).filter(Boolean);
await runSuitesOnCluster(picked ?? integrationSuites(), { durableQueues: false });
