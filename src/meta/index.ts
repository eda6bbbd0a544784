// The metadata state machine (vhosts, users, permissions, exchanges, bindings, queue records). The
// embedded broker adapts it to the frontend in src/node/meta-port.ts. See docs/routing-and-meta.md.
export * from './types.js';
export { MetaMachine, GUEST, DEFAULT_VHOST, type DefaultUser, type MetaOptions, type MetaSnapshot } from './machine.js';
export { hashPassword, verifyPassword, SALT_BYTES } from './users.js';
export { rs, type ResourceKind } from './errors.js';
export { SERVER_NAMED_PREFIX } from './queues.js';
export { MAX_ROUTE_DEPTH } from './route.js';
