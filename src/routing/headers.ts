// Headers exchange: the routing key is ignored; a binding's arguments are matched against the message
// headers, following rabbit_exchange_type_headers (RabbitMQ 3.10+):
//   x-match = all (default) | any | all-with-x | any-with-x
//   - the 'x-match' argument itself is never matched;
//   - for all/any, every other argument whose key starts with "x-" is ignored too; the -with-x variants
//     match those like ordinary keys;
//   - an argument with a void value matches the mere presence of the header;
//   - values compare with Erlang `==` (see values.ts): 1 equals 1.0, "1" does not equal 1.
//   all: every considered argument matches (no considered argument: matches everything);
//   any: at least one does (no considered argument: matches nothing).
// Matching is linear in the number of bindings of the exchange, as in RabbitMQ: headers exchanges have
// no index to speed this up, each binding is a predicate.

import type { Destination, Matcher } from './types.js';
import { amqpEquals, amqpTypeName, canonicalTable, erlangTerm, type Headers } from './values.js';

export type XMatch = 'all' | 'any' | 'all-with-x' | 'any-with-x';

interface Compiled {
  readonly dest: Destination;
  readonly any: boolean;
  readonly keys: readonly string[];
  /** undefined = void: presence only. */
  readonly values: readonly unknown[];
  refs: number;
}

/**
 * Validates a binding's x-match argument as rabbit_exchange_type_headers:validate_binding does.
 * Returns the 406 PRECONDITION_FAILED detail text, or undefined when valid.
 */
export function validateHeadersBinding(args: Headers | undefined): string | undefined {
  if (args === undefined || !Object.prototype.hasOwnProperty.call(args, 'x-match')) return undefined;
  const v = args['x-match'];
  if (typeof v === 'string') {
    if (v === 'all' || v === 'any' || v === 'all-with-x' || v === 'any-with-x') return undefined;
    return `Invalid x-match field value ${erlangTerm(v)}; expected all, any, all-with-x, or any-with-x`;
  }
  return `Invalid x-match field type ${amqpTypeName(v)} (value ${erlangTerm(v)}); expected longstr`;
}

/** The match mode of a binding; anything unrecognised is 'all' (RabbitMQ's legacy default). */
export function xMatchOf(args: Headers | undefined): XMatch {
  const v = args?.['x-match'];
  return v === 'any' || v === 'all-with-x' || v === 'any-with-x' ? v : 'all';
}

function compile(dest: Destination, args: Headers | undefined): Compiled {
  const mode = xMatchOf(args);
  const withX = mode === 'all-with-x' || mode === 'any-with-x';
  const keys: string[] = [];
  const values: unknown[] = [];
  for (const k of Object.keys(args ?? {})) {
    if (k === 'x-match') continue;
    if (!withX && k.startsWith('x-')) continue;
    keys.push(k);
    const v = args![k];
    values.push(v === null ? undefined : v);
  }
  return { dest, any: mode === 'any' || mode === 'any-with-x', keys, values, refs: 0 };
}

/** True when `headers` satisfy the binding (exported for tests and for the single-binding case). */
export function headersMatch(args: Headers | undefined, headers: Headers | undefined): boolean {
  return matches(compile('', args), headers);
}

function matches(b: Compiled, headers: Headers | undefined): boolean {
  const n = b.keys.length;
  if (n === 0) return !b.any;
  for (let i = 0; i < n; i++) {
    const k = b.keys[i]!;
    const present = headers !== undefined && Object.prototype.hasOwnProperty.call(headers, k);
    const ok = present && (b.values[i] === undefined || amqpEquals(b.values[i], headers[k]));
    if (b.any && ok) return true;
    if (!b.any && !ok) return false;
  }
  return !b.any;
}

export class HeadersMatcher implements Matcher {
  readonly type = 'headers' as const;
  /** Compiled bindings by identity (destination + canonical arguments); the key is ignored here. */
  private readonly bindings = new Map<string, Compiled>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  bind(dest: Destination, _key: string, args: Headers | undefined): void {
    const id = `${dest}\u0000${canonicalTable(args)}`;
    let b = this.bindings.get(id);
    if (b === undefined) {
      b = compile(dest, args);
      this.bindings.set(id, b);
    }
    b.refs++;
    this.count++;
  }

  unbind(dest: Destination, _key: string, args: Headers | undefined): boolean {
    const id = `${dest}\u0000${canonicalTable(args)}`;
    const b = this.bindings.get(id);
    if (b === undefined) return false;
    if (--b.refs === 0) this.bindings.delete(id);
    this.count--;
    return true;
  }

  match(_routingKey: string, headers: Headers | undefined, out: Set<Destination>): void {
    for (const b of this.bindings.values()) {
      if (out.has(b.dest)) continue;
      if (matches(b, headers)) out.add(b.dest);
    }
  }
}
