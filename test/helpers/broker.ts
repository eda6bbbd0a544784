// Starts a Warren for one test file, in-process, on free ports and a fresh data dir.
// Set WARREN_TEST_URL=amqp://guest:guest@127.0.0.1:5673 to run the same suite against another
// broker (we validate the suite's expectations against RabbitMQ that way).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WarrenConfig } from '../../src/config.js';

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
  stop(): Promise<void>;
}

export async function startBroker(overrides: Partial<WarrenConfig> = {}): Promise<TestBroker> {
  const external = process.env['WARREN_TEST_URL'];
  if (external) {
    const u = new URL(external);
    return {
      url: external, host: u.hostname, amqpPort: Number(u.port || 5672), httpPort: undefined,
      isWarren: false, stop: async () => {},
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
    stop: async () => { await w.close(); rmSync(dataDir, { recursive: true, force: true }); },
  };
}
