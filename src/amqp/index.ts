// Public surface of the AMQP 0-9-1 codec: generated method/property codecs and constants, field
// tables, framing. The connection and channel layers import from here only.

export * from './generated.js';
export * from './table.js';
export * from './frames.js';
