// The admin HTTP server's public surface (for src/server.ts and src/cli).
export { bindAdminHttp, startAdminServer, type AdminServer, type AdminServerOptions } from './server.js';
export { createAdminRegistry } from './metrics.js';
export * from './source.js';
