// Publishing a dead-lettered copy: the one path both owners take, whichever kind of queue the
// message died in (LocalOwner's transient queues, DurableOwner's partitions). The copy arrives
// already rewritten (x-death headers: src/queue/deadletter.ts, src/partition/deadletter.ts); this
// module decides where it goes and when the source may forget it.
//
// RabbitMQ's rules (rabbit_dead_letter): the copy is routed through the dead-letter exchange once
// per routing key, and each queue reached gets one copy; a queue the message already died in, with
// no client rejection since, is skipped (cycle detection); a dead-letter exchange that does not
// exist routes nowhere, and the message is dropped.
import { isDeathCycle } from '../queue/deadletter.js';
import type { EnqueueOutcome, Message, QueueRef } from './api.js';

/** Queue names in `vhost` that `exchange` routes `routingKey` to; [] when the exchange does not exist. */
export type DeadLetterRouter = (vhost: string, exchange: string, routingKey: string, message: Message) => readonly string[];

/** Enqueues a copy into one target queue; `done` once the target answered. */
export type DeadLetterEnqueue = (q: QueueRef, message: Message, done: (outcome: EnqueueOutcome, backlogged: boolean) => void) => void;

/**
 * Publishes `message` to `exchange` in `vhost` with `routingKeys`. `done` is called once every target
 * queue answered its copy, or at once when there is none (no route, only cycles, hop limit): the
 * source may then forget the message. That is what makes dead-lettering out of a partition
 * at-least-once (DESIGN §5): the source keeps the message until its copies were accepted.
 */
export type DeadLetterPublish = (vhost: string, exchange: string, routingKeys: readonly string[], message: Message, done: () => void) => void;

/**
 * Dead-letter hops one message may take in one synchronous chain before it is dropped. An
 * in-memory target that dead-letters on enqueue (x-max-length 0, say) re-enters the path before it
 * returns; cycle detection already ends each chain after every queue was visited once, and this
 * bounds the stack whatever the topology.
 */
export const MAX_DEAD_LETTER_HOPS = 16;

export function deadLetterPublisher(route: DeadLetterRouter, enqueue: DeadLetterEnqueue): DeadLetterPublish {
  let depth = 0;
  return (vhost, exchange, routingKeys, message, done) => {
    if (depth >= MAX_DEAD_LETTER_HOPS) {
      done(); // dropped: the source must not keep it for a retry that would take the same chain
      return;
    }
    depth++;
    try {
      const targets = new Set<string>();
      for (const key of routingKeys) {
        for (const name of route(vhost, exchange, key, message)) if (!isDeathCycle(message, name)) targets.add(name);
      }
      let left = targets.size;
      if (left === 0) {
        done();
        return;
      }
      // Delivered as if published to the dead-letter exchange with the (first) dead-letter routing key.
      const republished: Message = { ...message, exchange, routingKey: routingKeys[0] ?? '' };
      for (const name of targets) enqueue({ vhost, name }, republished, () => { if (--left === 0) done(); });
    } finally {
      depth--;
    }
  };
}
