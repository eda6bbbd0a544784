// Shared test data for the codec tests: representative arguments for every method (built from the
// generated METHODS table, so new spec methods are covered automatically), a headers table with every
// field type, and BasicProperties with all 14 properties set.

import type { ArgType, BasicProperties, FieldTable, FieldValue, MethodInfo } from '../../../src/amqp/index.js';
import { mulberry32 } from '../../../src/util/rand.js';

/** Arguments with non-trivial values of each type; bits alternate so bit positions are checked. */
export function sampleArgs(m: MethodInfo, variant: 'rich' | 'zero' | 'ones'): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  m.args.forEach((a, i) => {
    args[a.name] = variant === 'zero' ? zeroValue(a.type) : richValue(a.type, a.name, variant === 'ones' ? true : i % 2 === 0);
  });
  return args;
}

function richValue(type: ArgType, name: string, bit: boolean): unknown {
  switch (type) {
    case 'octet': return 200;
    case 'short': return 0xbeef;
    case 'long': return 0xdeadbeef;
    case 'longlong': return 2 ** 40 + 12345;
    case 'timestamp': return 1_700_000_000;
    case 'bit': return bit;
    case 'shortstr': return `sh-ört ${name}`;
    case 'longstr': return Buffer.from(`long\u0000str ${name} \u00ff`, 'utf8');
    // Only types that amqplib encodes with the same tags as Warren, so bytes can be compared.
    case 'table': return { name, 'x-flag': true, nested: { deep: 'yes' }, list: ['a', false] } satisfies FieldTable;
  }
}

function zeroValue(type: ArgType): unknown {
  switch (type) {
    case 'octet': case 'short': case 'long': case 'longlong': case 'timestamp': return 0;
    case 'bit': return false;
    case 'shortstr': return '';
    case 'longstr': return Buffer.alloc(0);
    case 'table': return {};
  }
}

/** A headers table holding every field type of RabbitMQ's table grammar, as given to the encoder. */
export const EVERY_TYPE_TABLE: FieldTable = {
  t: true,
  b: { $type: 'b', value: -5 },
  B: { $type: 'B', value: 250 },
  s: { $type: 's', value: -300 },
  u: { $type: 'u', value: 60_000 },
  I: -70_000,
  i: { $type: 'i', value: 4_000_000_000 },
  l: 2 ** 40,
  lbig: 2n ** 62n,
  f: { $type: 'f', value: 1.5 },
  d: 3.25,
  D: { $type: 'D', value: { places: 2, digits: 12_345 } },
  S: 'strïng',
  T: { $type: 'T', value: 1_700_000_000 },
  V: null,
  A: [1, 'a', [true], { k: 'v' }],
  F: { inner: 'x', deeper: { n: 7 } },
  x: Buffer.from([0, 1, 2, 255]),
};

/** What decoding EVERY_TYPE_TABLE yields. */
export const EVERY_TYPE_TABLE_DECODED: Record<string, FieldValue> = {
  t: true,
  b: -5,
  B: 250,
  s: -300,
  u: 60_000,
  I: -70_000,
  i: 4_000_000_000,
  l: 2 ** 40,
  lbig: 2n ** 62n,
  f: 1.5,
  d: 3.25,
  D: { $type: 'D', value: { places: 2, digits: 12_345 } },
  S: 'strïng',
  T: 1_700_000_000,
  V: null,
  A: [1, 'a', [true], { k: 'v' }],
  F: { inner: 'x', deeper: { n: 7 } },
  x: Buffer.from([0, 1, 2, 255]),
};

export const ALL_PROPERTIES: Required<BasicProperties> = {
  contentType: 'application/json',
  contentEncoding: 'gzip',
  headers: EVERY_TYPE_TABLE,
  deliveryMode: 2,
  priority: 9,
  correlationId: 'corr-1',
  replyTo: 'amq.rabbitmq.reply-to',
  expiration: '60000',
  messageId: 'msg-ü-1',
  timestamp: 1_700_000_123,
  type: 'order.created',
  userId: 'guest',
  appId: 'warren-test',
  clusterId: 'c1',
};

export const ALL_PROPERTIES_DECODED: Required<BasicProperties> = { ...ALL_PROPERTIES, headers: EVERY_TYPE_TABLE_DECODED };

/** Deterministic PRNG (mulberry32) for reproducible random splits. */
export const prng = mulberry32;
