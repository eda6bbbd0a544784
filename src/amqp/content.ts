// The content-header payload (AMQP 0-9-1 §4.2.6.2: class-id, weight, body size, property flags and
// values) as bytes and back, for messages that travel or rest as raw bytes: partition records, the
// cluster's enqueue and delivery streams.
import { basicPropertiesSize, decodeBasicProperties, writeBasicProperties, type BasicProperties } from './generated.js';

/** class-id (2), weight (2), body size (8): the bytes before the property flags. */
export const CONTENT_HEADER_PREFIX_BYTES = 12;
const BASIC_CLASS = 60;

/** The header payload of a basic-class message with these properties and body size. */
export function encodeContentHeader(properties: BasicProperties, bodySize: number): Uint8Array {
  const buf = Buffer.alloc(CONTENT_HEADER_PREFIX_BYTES + basicPropertiesSize(properties));
  buf.writeUInt16BE(BASIC_CLASS, 0);
  buf.writeUInt16BE(0, 2);
  buf.writeBigUInt64BE(BigInt(bodySize), 4);
  writeBasicProperties(buf, CONTENT_HEADER_PREFIX_BYTES, properties);
  return buf;
}

/** The properties a header payload carries ({} for one too short to hold the flags). */
export function decodeContentProperties(header: Uint8Array): BasicProperties {
  const h = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  return h.length >= CONTENT_HEADER_PREFIX_BYTES + 2 ? decodeBasicProperties(h, CONTENT_HEADER_PREFIX_BYTES, h.length) : {};
}
