// Picks the BenchDriver for --client. Loaded on demand so a warren run never loads amqplib (and vice
// versa); kept apart from driver.ts so the drivers' type imports do not form a cycle with it.
import type { BenchDriver, ClientKind } from './driver.js';

export async function loadDriver(kind: ClientKind): Promise<BenchDriver> {
  if (kind === 'amqplib') return (await import('./driver-amqplib.js')).amqplibDriver;
  return (await import('./driver-warren.js')).warrenDriver;
}
