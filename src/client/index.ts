// A lean AMQP 0-9-1 client on Warren's codec, for the load generator and tests. See connection.ts.
export { connect, parseAmqpUrl, negotiateTune, Connection, type ConnectOptions } from './connection.js';
export { Channel, type DeliveryCallback, type ConsumeOptions, type QueueDeclareOptions } from './channel.js';
export { ClientError, ClientErrorCode } from './errors.js';
export { ConfirmTracker } from './confirms.js';
