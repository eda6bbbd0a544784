// exchange.* and queue.* methods: permission checks in RabbitMQ's order, then the metadata
// command, then (for queues) the owner. Replies are sent only once both have taken effect, and the
// channel handles nothing after the method until then, so a publish right after a queue.bind on
// the same channel is routed by it.
import { AmqpError, ReplyCode } from '../amqp/errors.js';
import { encodeMethod } from '../amqp/frames.js';
import { methodId, type ArgsOf, type Method } from '../amqp/generated.js';
import type { Channel } from './channel.js';
import { deleteQueue } from './queues.js';

/** Handles one exchange.* / queue.* method; the channel answers nothing else until it settles. */
export function dispatch(ch: Channel, m: Method): Promise<void> {
  switch (m.name) {
    case 'exchange.declare': return exchangeDeclare(ch, m.args);
    case 'exchange.delete': return exchangeDelete(ch, m.args);
    case 'exchange.bind': return exchangeBind(ch, m.args, true);
    case 'exchange.unbind': return exchangeBind(ch, m.args, false);
    case 'queue.declare': return queueDeclare(ch, m.args);
    case 'queue.bind': return queueBind(ch, m.args, true);
    case 'queue.unbind': return queueBind(ch, m.args, false);
    case 'queue.purge': return queuePurge(ch, m.args);
    case 'queue.delete': return queueDelete(ch, m.args);
    default: {
      const id = methodId(m.name);
      throw new AmqpError(ReplyCode.CommandInvalid, `unimplemented method ${m.name}`, id.classId, id.methodId);
    }
  }
}

function reply(ch: Channel, nowait: boolean, frame: () => Buffer): void {
  if (!nowait) ch.send(frame());
}

async function exchangeDeclare(ch: Channel, a: ArgsOf<'exchange.declare'>): Promise<void> {
  if (!a.passive) {
    ch.checkAccess('configure', 'exchange', a.exchange);
    const ae = a.arguments['alternate-exchange'];
    if (typeof ae === 'string') {
      ch.checkAccess('write', 'exchange', ae);
      ch.checkAccess('read', 'exchange', a.exchange);
    }
  }
  await ch.ctx.meta.declareExchange({
    vhost: ch.vhost, name: a.exchange, type: a.type, passive: a.passive, durable: a.durable,
    autoDelete: a.autoDelete, internal: a.internal, arguments: a.arguments,
  });
  reply(ch, a.nowait, () => encodeMethod(ch.id, 'exchange.declare-ok', {}));
}

async function exchangeDelete(ch: Channel, a: ArgsOf<'exchange.delete'>): Promise<void> {
  ch.checkAccess('configure', 'exchange', a.exchange);
  await ch.ctx.meta.deleteExchange(ch.vhost, a.exchange, a.ifUnused);
  reply(ch, a.nowait, () => encodeMethod(ch.id, 'exchange.delete-ok', {}));
}

async function exchangeBind(ch: Channel, a: ArgsOf<'exchange.bind'>, bind: boolean): Promise<void> {
  ch.checkAccess('write', 'exchange', a.destination);
  ch.checkAccess('read', 'exchange', a.source);
  const meta = ch.ctx.meta;
  if (bind) {
    await meta.bindExchange(ch.vhost, a.destination, a.source, a.routingKey, a.arguments);
    reply(ch, a.nowait, () => encodeMethod(ch.id, 'exchange.bind-ok', {}));
  } else {
    await meta.unbindExchange(ch.vhost, a.destination, a.source, a.routingKey, a.arguments);
    reply(ch, a.nowait, () => encodeMethod(ch.id, 'exchange.unbind-ok', {}));
  }
}

async function queueDeclare(ch: Channel, a: ArgsOf<'queue.declare'>): Promise<void> {
  const serverNamed = a.queue === '' && !a.passive;
  const suffix = serverNamed ? ch.ctx.randomId() : undefined;
  const name = suffix !== undefined ? `amq.gen-${suffix}` : ch.resolveQueue(a.queue);
  if (!a.passive) ch.checkAccess('configure', 'queue', name);
  const { meta, owner } = ch.ctx;
  const { queue } = await meta.declareQueue({
    vhost: ch.vhost, name: serverNamed ? '' : name, ...(suffix !== undefined ? { nameSuffix: suffix } : {}), passive: a.passive, durable: a.durable, exclusive: a.exclusive,
    autoDelete: a.autoDelete, arguments: a.arguments, connectionId: ch.conn.id,
  });
  if (queue.exclusiveOwner !== undefined && queue.exclusiveOwner !== ch.conn.id) {
    throw new AmqpError(ReplyCode.ResourceLocked,
      `cannot obtain exclusive access to locked queue '${name}' in vhost '${ch.vhost}'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`);
  }
  const counts = await owner.declareQueue({ vhost: ch.vhost, name }, { arguments: queue.arguments, autoDelete: queue.autoDelete, passive: a.passive });
  ch.lastQueue = name;
  reply(ch, a.nowait, () => encodeMethod(ch.id, 'queue.declare-ok', {
    queue: name, messageCount: counts.messages, consumerCount: counts.consumers,
  }));
}

async function queueBind(ch: Channel, a: ArgsOf<'queue.bind'> | ArgsOf<'queue.unbind'>, bind: boolean): Promise<void> {
  const queue = ch.resolveQueue(a.queue);
  ch.checkAccess('write', 'queue', queue);
  ch.checkAccess('read', 'exchange', a.exchange);
  const meta = ch.ctx.meta;
  if (bind) {
    await meta.bindQueue(ch.vhost, queue, a.exchange, a.routingKey, a.arguments, ch.conn.id);
    reply(ch, 'nowait' in a && a.nowait, () => encodeMethod(ch.id, 'queue.bind-ok', {}));
  } else {
    await meta.unbindQueue(ch.vhost, queue, a.exchange, a.routingKey, a.arguments, ch.conn.id);
    ch.send(encodeMethod(ch.id, 'queue.unbind-ok', {}));
  }
}

async function queuePurge(ch: Channel, a: ArgsOf<'queue.purge'>): Promise<void> {
  const name = ch.resolveQueue(a.queue);
  ch.checkAccess('read', 'queue', name);
  ch.ctx.meta.useQueue(ch.vhost, name, ch.conn.id);
  const count = await ch.ctx.owner.purge({ vhost: ch.vhost, name });
  reply(ch, a.nowait, () => encodeMethod(ch.id, 'queue.purge-ok', { messageCount: count }));
}

async function queueDelete(ch: Channel, a: ArgsOf<'queue.delete'>): Promise<void> {
  const name = ch.resolveQueue(a.queue);
  ch.checkAccess('configure', 'queue', name);
  try {
    ch.ctx.meta.useQueue(ch.vhost, name, ch.conn.id);
  } catch (err) {
    // RabbitMQ answers delete-ok for a queue that does not exist (idempotent delete).
    if (err instanceof AmqpError && err.replyCode === ReplyCode.NotFound) {
      reply(ch, a.nowait, () => encodeMethod(ch.id, 'queue.delete-ok', { messageCount: 0 }));
      return;
    }
    throw err;
  }
  const count = await deleteQueue(ch.ctx, { vhost: ch.vhost, name }, { ifUnused: a.ifUnused, ifEmpty: a.ifEmpty });
  reply(ch, a.nowait, () => encodeMethod(ch.id, 'queue.delete-ok', { messageCount: count }));
}
