// The metadata state machine (vhosts, users, permissions, exchanges, bindings, queue records) and its
// embedded service. See docs/routing-and-meta.md.
export * from './types.js';
export { MetaMachine, GUEST, DEFAULT_VHOST, type DefaultUser, type MetaOptions, type MetaSnapshot } from './machine.js';
export { EmbeddedMeta, type EmbeddedUser, type EmbeddedMetaOptions } from './embedded.js';
export { hashPassword, verifyPassword, SALT_BYTES } from './users.js';
export { rs, type ResourceKind } from './errors.js';
export { SERVER_NAMED_PREFIX } from './queues.js';
export { MAX_ROUTE_DEPTH } from './route.js';
