// connection.start server-properties: what RabbitMQ 3.10 advertises, so clients enable the same features.
import type { FieldTable } from '../amqp/table.js';

export const PRODUCT = 'Warren';
export const VERSION = '0.1.0';

/** Capabilities clients check before using an extension (see shared/ref/README.md). */
export const CAPABILITIES: FieldTable = {
  publisher_confirms: true,
  exchange_exchange_bindings: true,
  'basic.nack': true,
  consumer_cancel_notify: true,
  'connection.blocked': true,
  consumer_priorities: true,
  authentication_failure_close: true,
  per_consumer_qos: true,
  direct_reply_to: true,
};

export function serverProperties(): FieldTable {
  return {
    capabilities: CAPABILITIES,
    cluster_name: 'warren',
    copyright: 'Copyright (c) the Warren authors',
    information: 'Licensed under the Apache License 2.0',
    platform: `Node.js ${process.version}`,
    product: PRODUCT,
    version: VERSION,
  };
}
