// Fanout exchange: every bound destination gets the message; keys and headers are ignored.

import { addRef, dropRef, type Destination, type Matcher } from './types.js';
import type { Headers } from './values.js';

export class FanoutMatcher implements Matcher {
  readonly type = 'fanout' as const;
  private readonly dests = new Map<Destination, number>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  bind(dest: Destination, _key: string, _args: Headers | undefined): void {
    addRef(this.dests, dest);
    this.count++;
  }

  unbind(dest: Destination, _key: string, _args: Headers | undefined): boolean {
    if (!dropRef(this.dests, dest)) return false;
    this.count--;
    return true;
  }

  match(_routingKey: string, _headers: Headers | undefined, out: Set<Destination>): void {
    for (const d of this.dests.keys()) out.add(d);
  }
}
