// Starts a Warren for one test file, in-process, on free ports and a fresh data dir.
// Set WARREN_TEST_URL=amqp://guest:guest@127.0.0.1:5673 to run the same suite against another
// broker (we validate the suite's expectations against RabbitMQ that way), or
// WARREN_TEST_TARGET=cluster to run it against a real local cluster through its balancer
// (test/helpers/target.ts, test/helpers/cluster-target.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WarrenConfig } from '../../src/config.js';
import { TARGET, type Target } from './target.js';

export interface TestBroker {
  /** amqp://guest:guest@127.0.0.1:PORT */
  readonly url: string;
  readonly host: string;
  readonly amqpPort: number;
  /** undefined when running against an external broker. */
  readonly httpPort: number | undefined;
  /** The AMQPS port when TLS is configured (Warren only). */
  readonly amqpsPort?: number;
  /** True when the broker under test is Warren (not an external reference broker). */
  readonly isWarren: boolean;
  /** Where it runs: in this process, an external broker, or a cluster behind its balancer. */
  readonly target: Target;
  stop(): Promise<void>;
}

/**
 * `overrides` apply to the embedded broker only: a cluster's nodes run with their defaults, so a
 * test that depends on an override skips there (clusterLacks('config overrides: …')).
 */
export async function startBroker(overrides: Partial<WarrenConfig> = {}): Promise<TestBroker> {
  const external = process.env['WARREN_TEST_URL'];
  if (TARGET === 'external' && external) {
    const u = new URL(external);
    return {
      url: external, host: u.hostname, amqpPort: Number(u.port || 5672), httpPort: undefined,
      isWarren: false, target: TARGET, stop: async () => {},
    };
  }
  if (TARGET === 'cluster') {
    const { useCluster } = await import('./cluster-target.js');
    const cluster = await useCluster();
    const amqp = new URL(cluster.state.lb.amqp);
    const http = new URL(cluster.state.lb.http);
    return {
      url: `amqp://guest:guest@${amqp.hostname}:${amqp.port}`, host: amqp.hostname, amqpPort: Number(amqp.port),
      httpPort: Number(http.port), isWarren: true, target: TARGET, stop: () => cluster.release(),
    };
  }
  const { startWarren } = await import('../../src/server.js');
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-test-'));
  const w = await startWarren({ amqpPort: 0, httpPort: 0, bind: ['127.0.0.1'], dataDir, logLevel: 'silent', ...overrides });
  return {
    url: `amqp://guest:guest@127.0.0.1:${w.amqpPort}`,
    host: '127.0.0.1',
    amqpPort: w.amqpPort,
    httpPort: w.httpPort,
    ...(w.amqpsPort !== undefined ? { amqpsPort: w.amqpsPort } : {}),
    isWarren: true,
    target: TARGET,
    stop: async () => { await w.close(); rmSync(dataDir, { recursive: true, force: true }); },
  };
}
