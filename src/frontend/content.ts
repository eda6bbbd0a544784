// How a stored message goes back on the wire: the raw content header when we still have it
// (byte-exact redelivery), else its properties; bodies as Buffer views, never copies.
import type { BasicProperties } from '../amqp/generated.js';
import type { Message } from '../owner/api.js';

export function contentHeader(m: Message): Buffer | BasicProperties {
  return m.header ? asBuffer(m.header) : m.properties;
}

export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
