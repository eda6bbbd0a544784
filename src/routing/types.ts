// The common shape of the four exchange types' binding tables (LavinMQ exchange/{direct,fanout,topic,headers}).
//
// A destination is a queue or an exchange of the same vhost, encoded as one string so that sets of
// destinations are plain Set<string> with no per-match allocation: 'q:<name>' for a queue and
// 'e:<name>' for an exchange (names may contain ':' — only the first two characters are the tag).

import type { Headers } from './values.js';

export type Destination = string;
export type DestinationKind = 'queue' | 'exchange';

export function queueDest(name: string): Destination {
  return `q:${name}`;
}

export function exchangeDest(name: string): Destination {
  return `e:${name}`;
}

export function isQueueDest(d: Destination): boolean {
  return d.charCodeAt(0) === 0x71 /* q */;
}

export function destKind(d: Destination): DestinationKind {
  return isQueueDest(d) ? 'queue' : 'exchange';
}

/** The queue or exchange name of a destination. */
export function destName(d: Destination): string {
  return d.slice(2);
}

export const EXCHANGE_TYPES = ['direct', 'fanout', 'topic', 'headers'] as const;
export type ExchangeType = (typeof EXCHANGE_TYPES)[number];

export function isExchangeType(s: string): s is ExchangeType {
  return (EXCHANGE_TYPES as readonly string[]).includes(s);
}

/**
 * The bindings of one source exchange, compiled for matching.
 *
 * Contract: a binding is identified by (destination, key, args) — the metadata layer owns that identity
 * and calls bind() once per distinct binding and unbind() once when it goes. The matcher counts
 * references per (destination, key[, args]) so two bindings that differ only in arguments (which
 * direct/fanout/topic ignore when matching) stay independent.
 */
export interface Matcher {
  readonly type: ExchangeType;
  /** Number of bind() calls not yet undone. */
  readonly size: number;
  bind(dest: Destination, key: string, args: Headers | undefined): void;
  /** Undoes one bind() with the same arguments; false when there was none. */
  unbind(dest: Destination, key: string, args: Headers | undefined): boolean;
  /** Adds every matching destination to `out` (a Set, so each once). Allocates nothing per binding. */
  match(routingKey: string, headers: Headers | undefined, out: Set<Destination>): void;
}

/** Reference-counted membership, shared by the matchers. */
export function addRef(m: Map<Destination, number>, d: Destination): void {
  m.set(d, (m.get(d) ?? 0) + 1);
}

export function dropRef(m: Map<Destination, number>, d: Destination): boolean {
  const n = m.get(d);
  if (n === undefined) return false;
  if (n <= 1) m.delete(d);
  else m.set(d, n - 1);
  return true;
}
