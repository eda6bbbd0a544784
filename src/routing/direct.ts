// Direct exchange: a message goes to the destinations bound with exactly its routing key.
// One hash lookup per publish, whatever the number of bindings.

import { addRef, dropRef, type Destination, type Matcher } from './types.js';
import type { Headers } from './values.js';

export class DirectMatcher implements Matcher {
  readonly type = 'direct' as const;
  private readonly byKey = new Map<string, Map<Destination, number>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  bind(dest: Destination, key: string, _args: Headers | undefined): void {
    let m = this.byKey.get(key);
    if (m === undefined) {
      m = new Map();
      this.byKey.set(key, m);
    }
    addRef(m, dest);
    this.count++;
  }

  unbind(dest: Destination, key: string, _args: Headers | undefined): boolean {
    const m = this.byKey.get(key);
    if (m === undefined || !dropRef(m, dest)) return false;
    if (m.size === 0) this.byKey.delete(key);
    this.count--;
    return true;
  }

  match(routingKey: string, _headers: Headers | undefined, out: Set<Destination>): void {
    const m = this.byKey.get(routingKey);
    if (m === undefined) return;
    for (const d of m.keys()) out.add(d);
  }
}
