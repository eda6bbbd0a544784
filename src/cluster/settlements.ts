// Settlements of one batch, merged: a frontend settles each basic.ack on its own (one message id),
// so a batch holds many items naming the same (vhost, queue, session, consumer, kind). Each item
// costs its strings on the wire, a lookup on the owner and a command in the partition's log that
// every replica decodes and applies; one item per run with all its message ids costs that once.
// Only consecutive items merge, so the settlements keep their order exactly (an ack and a requeue
// of one consumer are never swapped).
import type { warren } from '../proto/owner.js';

type SettleItem = warren.v1.Settlement.$Properties;

function sameTarget(a: SettleItem, b: SettleItem): boolean {
  return a.kind === b.kind && a.consumer === b.consumer && a.queue === b.queue && a.session === b.session && a.vhost === b.vhost;
}

/** `items` with each run of consecutive items of the same target merged into one (msg ids in order). */
export function mergeSettlements(items: readonly SettleItem[]): SettleItem[] {
  const out: SettleItem[] = [];
  let last: SettleItem | undefined;
  let ids: number[] = [];
  for (const item of items) {
    if (last !== undefined && sameTarget(last, item)) {
      for (const id of item.msgIds ?? []) ids.push(id);
      continue;
    }
    ids = [...(item.msgIds ?? [])];
    last = { ...item, msgIds: ids };
    out.push(last);
  }
  return out;
}
