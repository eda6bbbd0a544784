// amqplib's generated lib/defs.js, an independent AMQP codec used as a test oracle. The package's
// "exports" map hides lib/, so load it by absolute path next to the resolved entry point.

import { createRequire } from 'node:module';
import path from 'node:path';

export interface AmqplibDefs {
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
  decode(id: number, buf: Buffer): Record<string, unknown>;
  readonly [name: string]: unknown;
}

const require = createRequire(import.meta.url);
const entry = require.resolve('amqplib');
export const defs = require(path.join(path.dirname(entry), 'lib', 'defs.js')) as AmqplibDefs;

/** amqplib's numeric id of a method: (classId << 16) | methodId. */
export function amqplibId(classId: number, methodId: number): number {
  return classId * 0x10000 + methodId;
}
