// Field-table values as the broker compares and prints them, following RabbitMQ (Erlang) semantics.
//
// Values are the codec's plain JS values (src/amqp/table.ts): numbers for every integer type, bigint
// for int64 values a double cannot hold, strings for longstr, Buffers for byte arrays, null for void,
// arrays, nested tables, and `{ $type, value }` for explicitly typed values (decimals).
//
// Equality is Erlang's `==` on the decoded terms, as rabbit_exchange_type_headers uses: numbers compare
// by value whatever their wire type (1 == 1.0), strings and byte arrays are both binaries and compare by
// bytes, booleans equal only booleans, void equals only void.

import type { FieldTable, FieldValue } from '../amqp/table.js';

/** Header / argument tables as the routing and metadata layers see them. */
export type Headers = FieldTable;

const TAG_NAMES: Readonly<Record<string, string>> = {
  t: 'bool', b: 'byte', B: 'unsignedbyte', s: 'short', u: 'unsignedshort', I: 'signedint',
  i: 'unsignedint', l: 'long', f: 'float', d: 'double', D: 'decimal', S: 'longstr', T: 'timestamp',
  x: 'binary', V: 'void', A: 'array', F: 'table',
};

interface Typed { readonly $type: string; readonly value: unknown }

export function isTypedValue(v: unknown): v is Typed {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return false;
  const t = (v as { $type?: unknown }).$type;
  return typeof t === 'string' && TAG_NAMES[t] !== undefined && 'value' in v && Object.keys(v).length === 2;
}

const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;

/**
 * RabbitMQ's name for a value's AMQP type ('longstr', 'signedint', 'long', 'bool', ...), as printed in
 * "received the value '2000' of type 'signedint'". Integers that fit 32 bits are 'signedint' (what
 * amqplib and pika send), wider ones 'long'; the codec does not keep the wire type of plain numbers.
 */
export function amqpTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'void';
  switch (typeof v) {
    case 'string': return 'longstr';
    case 'boolean': return 'bool';
    case 'bigint': return 'long';
    case 'number':
      if (!Number.isInteger(v)) return 'double';
      return v >= INT32_MIN && v <= INT32_MAX ? 'signedint' : 'long';
    default: break;
  }
  if (v instanceof Uint8Array) return 'binary';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'timestamp';
  if (isTypedValue(v)) return TAG_NAMES[v.$type] ?? 'void';
  return 'table';
}

/** True for the AMQP integer types RabbitMQ accepts in integer arguments (?INTEGER_ARG_TYPES). */
export function isIntegerValue(v: unknown): v is number | bigint {
  if (typeof v === 'bigint') return true;
  return typeof v === 'number' && Number.isInteger(v);
}

function numeric(v: unknown): number | bigint | undefined {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  if (isTypedValue(v) && v.$type !== 'D' && (typeof v.value === 'number' || typeof v.value === 'bigint')) return v.value;
  return undefined;
}

function binary(v: unknown): Uint8Array | string | undefined {
  if (typeof v === 'string' || v instanceof Uint8Array) return v;
  return undefined;
}

function bytesEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  const x = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const y = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  return Buffer.compare(x, y) === 0;
}

function numbersEqual(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === typeof b) return a === b;
  // One bigint, one number: equal only when the number is an integer of the same value.
  const n = typeof a === 'number' ? a : (b as number);
  const big = typeof a === 'bigint' ? a : (b as bigint);
  return Number.isInteger(n) && BigInt(n) === big;
}

/** Erlang `==` on two decoded field values (see the file comment). */
export function amqpEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const voidA = a === null || a === undefined;
  const voidB = b === null || b === undefined;
  if (voidA || voidB) return voidA && voidB;
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined || nb !== undefined) return na !== undefined && nb !== undefined && numbersEqual(na, nb);
  const ba = binary(a);
  const bb = binary(b);
  if (ba !== undefined || bb !== undefined) return ba !== undefined && bb !== undefined && bytesEqual(ba, bb);
  if (typeof a === 'boolean' || typeof b === 'boolean') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => amqpEquals(x, b[i]));
  }
  if (isTypedValue(a) || isTypedValue(b)) {
    return isTypedValue(a) && isTypedValue(b) && a.$type === b.$type && canonical(a.value as FieldValue) === canonical(b.value as FieldValue);
  }
  return tablesEqual(a as FieldTable, b as FieldTable);
}

function tablesEqual(a: FieldTable, b: FieldTable): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && amqpEquals(a[k], b[k]));
}

/**
 * A canonical string for a value: equal values (by type name and content) give equal strings, and table
 * key order does not matter. Used for binding identity: RabbitMQ compares binding arguments as sorted
 * tables, so {a:1,b:2} and {b:2,a:1} are the same binding.
 */
export function canonical(v: FieldValue | undefined): string {
  if (v === null || v === undefined) return 'V';
  switch (typeof v) {
    case 'string': return `S${JSON.stringify(v)}`;
    case 'boolean': return v ? 't1' : 't0';
    case 'bigint': return `l${v.toString()}`;
    case 'number': return `n${Object.is(v, -0) ? '0' : String(v)}`;
    default: break;
  }
  if (v instanceof Uint8Array) return `x${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return `A[${v.map((x) => canonical(x)).join(',')}]`;
  if (isTypedValue(v)) return `$${v.$type}(${canonical(v.value as FieldValue)})`;
  const keys = Object.keys(v).sort();
  return `F{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
}

/** A canonical string for a whole argument table (undefined and {} are the same). */
export function canonicalTable(t: FieldTable | undefined): string {
  if (t === undefined) return 'F{}';
  return canonical(t);
}

/**
 * An Erlang `~p`-style rendering of a value, for reply texts that print terms (RabbitMQ prints binaries
 * there as <<"...">>). Approximate for nested tables, exact for the scalars clients put in arguments.
 */
export function erlangTerm(v: unknown): string {
  if (v === null || v === undefined) return 'undefined';
  if (typeof v === 'string') return `<<${JSON.stringify(v)}>>`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array) return `<<${JSON.stringify(Buffer.from(v).toString('latin1'))}>>`;
  if (Array.isArray(v)) return `[${v.map((x) => erlangTerm(x)).join(',')}]`;
  if (isTypedValue(v)) return erlangTerm(v.value);
  return `[${Object.keys(v).map((k) => `{<<${JSON.stringify(k)}>>,${amqpTypeName((v as FieldTable)[k])},${erlangTerm((v as FieldTable)[k])}}`).join(',')}]`;
}
