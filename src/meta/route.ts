// The publish hot path: which queues a message goes to.
//
// Follows rabbit_exchange:route/2: match the exchange's bindings; an exchange that matched nothing
// hands the message to its alternate exchange; exchange destinations are routed in turn; every
// exchange is visited at most once per message (cycles through e2e bindings or alternate exchanges
// stop there); each queue appears once. The default exchange routes to the queue named by the routing
// key, if it exists.
//
// Allocation: the Router reuses its sets between calls (one per e2e depth), so a publish allocates only
// what the matchers need to split the key and the caller's output. Not re-entrant: one Router per
// state machine, called from one thread.

import type { Destination } from '../routing/types.js';
import { isQueueDest } from '../routing/types.js';
import type { Headers } from '../routing/values.js';
import { internalExchange, notFound } from './errors.js';
import type { ExchangeState, VhostState } from './vhost.js';

/** Bound on the depth of exchange-to-exchange hops followed for one message. */
export const MAX_ROUTE_DEPTH = 64;

export class Router {
  private readonly perDepth: Set<Destination>[] = [];
  private readonly visited = new Set<string>();
  private readonly queues = new Set<string>();

  /** Appends the target queue names to `out`. 404 for a missing exchange, 403 for an internal one. */
  route(v: VhostState, exchange: string, routingKey: string, headers: Headers | undefined, out: string[]): void {
    const x = v.exchanges.get(exchange);
    if (x === undefined) throw notFound('exchange', exchange, v.name);
    if (x.record.internal) throw internalExchange(exchange, v.name);
    this.visited.clear();
    this.queues.clear();
    this.routeFrom(v, x, routingKey, headers, 0);
    for (const q of this.queues) out.push(q);
  }

  private routeFrom(v: VhostState, x: ExchangeState, routingKey: string, headers: Headers | undefined, depth: number): void {
    this.visited.add(x.record.name);
    if (x.matcher === undefined) {
      if (v.queues.has(routingKey)) this.queues.add(routingKey);
      return;
    }
    const matched = (this.perDepth[depth] ??= new Set());
    matched.clear();
    x.matcher.match(routingKey, headers, matched);
    if (matched.size === 0) {
      if (x.alternate !== undefined) this.follow(v, x.alternate, routingKey, headers, depth);
      return;
    }
    for (const d of matched) {
      if (isQueueDest(d)) this.queues.add(d.slice(2));
      else this.follow(v, d.slice(2), routingKey, headers, depth);
    }
  }

  private follow(v: VhostState, name: string, routingKey: string, headers: Headers | undefined, depth: number): void {
    if (this.visited.has(name) || depth + 1 >= MAX_ROUTE_DEPTH) return;
    const next = v.exchanges.get(name);
    if (next !== undefined) this.routeFrom(v, next, routingKey, headers, depth + 1);
  }
}
