// The one path by which the frontend deletes a queue (queue.delete, an exclusive queue whose
// connection closed): the owner removes the queue — checking queue.delete's conditions atomically
// and cancelling its consumers — then the metadata record and its bindings go. Queues the owner
// removes on its own (x-expires, auto-delete) reach the metadata through the owner's callback.
import type { DeleteConditions, QueueRef } from '../owner/api.js';
import type { FrontendContext } from './context.js';

export async function deleteQueue(ctx: FrontendContext, q: QueueRef, conditions?: DeleteConditions): Promise<number> {
  const count = await ctx.owner.deleteQueue(q, conditions);
  await ctx.meta.deleteQueue(q.vhost, q.name);
  return count;
}
