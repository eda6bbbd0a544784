// The contract between the admin HTTP server and the broker. The server (src/admin/server.ts)
// only translates HTTP to these calls and back; the broker side (src/server.ts, the lead's)
// implements AdminSource over the metadata store, sessions and queue owners.
//
// Record shapes use RabbitMQ management API field names (snake_case) so tools written for
// RabbitMQ's /api read Warren's unchanged; fields Warren cannot know yet may be omitted.
// Every method may return a value or a promise. To signal an HTTP-visible failure (unknown
// vhost, bad argument), throw AdminError; anything else becomes 500.

export type MaybePromise<T> = T | Promise<T>;

/** RabbitMQ user tags that matter here: 'administrator' may write; these may read. */
export const MANAGEMENT_TAGS = ['administrator', 'monitoring', 'policymaker', 'management'] as const;

export interface ObjectTotals {
  readonly connections: number;
  readonly channels: number;
  readonly exchanges: number;
  readonly queues: number;
  readonly consumers: number;
}

export interface QueueTotals {
  readonly messages: number;
  readonly messages_ready: number;
  readonly messages_unacknowledged: number;
}

export interface Overview {
  readonly product_name: string;
  readonly product_version: string;
  readonly management_version?: string;
  readonly cluster_name: string;
  readonly node: string;
  readonly object_totals: ObjectTotals;
  readonly queue_totals: QueueTotals;
  /** Cumulative counters, RabbitMQ names: publish, deliver_get, ack, confirm, redeliver... */
  readonly message_stats?: Readonly<Record<string, number>>;
  readonly listeners?: ReadonlyArray<{ readonly node: string; readonly protocol: string; readonly ip_address: string; readonly port: number }>;
}

export interface VhostInfo {
  readonly name: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly messages?: number;
  readonly messages_ready?: number;
  readonly messages_unacknowledged?: number;
}

export interface UserInfo {
  readonly name: string;
  readonly tags: readonly string[];
  readonly password_hash?: string;
  readonly hashing_algorithm?: string;
}

/** PUT /api/users/{name}: a password (hashed by the broker) or a pre-computed hash. */
export interface UserUpdate {
  readonly password?: string;
  readonly password_hash?: string;
  readonly tags: readonly string[];
}

export interface PermissionSpec {
  readonly configure: string;
  readonly write: string;
  readonly read: string;
}

export interface PermissionInfo extends PermissionSpec {
  readonly user: string;
  readonly vhost: string;
}

export interface QueueInfo {
  readonly name: string;
  readonly vhost: string;
  readonly durable: boolean;
  readonly auto_delete: boolean;
  readonly exclusive: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly type?: string;
  readonly state?: string;
  readonly node?: string;
  readonly messages?: number;
  readonly messages_ready?: number;
  readonly messages_unacknowledged?: number;
  readonly message_bytes?: number;
  readonly consumers?: number;
}

export interface ExchangeInfo {
  readonly name: string;
  readonly vhost: string;
  readonly type: string;
  readonly durable: boolean;
  readonly auto_delete: boolean;
  readonly internal: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
}

export interface BindingInfo {
  readonly source: string;
  readonly vhost: string;
  readonly destination: string;
  readonly destination_type: 'queue' | 'exchange';
  readonly routing_key: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly properties_key?: string;
}

export interface ConnectionInfo {
  readonly name: string;
  readonly vhost: string;
  readonly user: string;
  readonly node?: string;
  readonly peer_host: string;
  readonly peer_port: number;
  readonly host?: string;
  readonly port?: number;
  readonly channels: number;
  readonly state?: string;
  readonly protocol?: string;
  readonly ssl?: boolean;
  /** Unix epoch milliseconds. */
  readonly connected_at?: number;
  readonly client_properties?: Readonly<Record<string, unknown>>;
}

/** RabbitMQ's definitions export format (the subset Warren has). Unknown keys pass through. */
export interface Definitions {
  readonly product_name?: string;
  readonly product_version?: string;
  readonly users?: readonly UserInfo[];
  readonly vhosts?: ReadonlyArray<{ readonly name: string; readonly description?: string }>;
  readonly permissions?: readonly PermissionInfo[];
  readonly queues?: ReadonlyArray<Omit<QueueInfo, 'exclusive'>>;
  readonly exchanges?: readonly ExchangeInfo[];
  readonly bindings?: readonly BindingInfo[];
  readonly [key: string]: unknown;
}

/** Scraped by /metrics at scrape time; keep it cheap (counters the broker already keeps). */
export interface AdminStats {
  readonly connections: number;
  readonly channels: number;
  readonly consumers: number;
  readonly queues: number;
  readonly exchanges: number;
  readonly vhosts: number;
  readonly messagesReady: number;
  readonly messagesUnacked: number;
  /** Monotonic counters since process start. */
  readonly publishedTotal: number;
  readonly deliveredTotal: number;
  readonly acknowledgedTotal: number;
  readonly confirmedTotal: number;
  readonly redeliveredTotal: number;
  readonly unroutableTotal: number;
  readonly connectionsOpenedTotal: number;
  readonly connectionsClosedTotal: number;
  /** Optional per-queue depth (label cardinality = number of queues; omit on huge brokers). */
  readonly perQueue?: ReadonlyArray<{ readonly vhost: string; readonly queue: string; readonly ready: number; readonly unacked: number; readonly consumers: number }>;
}

export type PutOutcome = 'created' | 'updated';

export interface AdminSource {
  /** Tags of the user if the credentials are valid, undefined otherwise. */
  authenticate(user: string, password: string): MaybePromise<readonly string[] | undefined>;
  /** True when the broker accepts AMQP clients (listeners up, metadata loaded). */
  isReady(): MaybePromise<boolean>;
  stats(): MaybePromise<AdminStats>;

  overview(): MaybePromise<Overview>;
  listVhosts(): MaybePromise<readonly VhostInfo[]>;
  putVhost(name: string, opts: { description?: string; tags?: readonly string[] }): MaybePromise<PutOutcome>;
  deleteVhost(name: string): MaybePromise<void>;
  listUsers(): MaybePromise<readonly UserInfo[]>;
  putUser(name: string, update: UserUpdate): MaybePromise<PutOutcome>;
  deleteUser(name: string): MaybePromise<void>;
  listPermissions(): MaybePromise<readonly PermissionInfo[]>;
  putPermissions(vhost: string, user: string, perms: PermissionSpec): MaybePromise<PutOutcome>;
  /** vhost undefined = every vhost. */
  listQueues(vhost?: string): MaybePromise<readonly QueueInfo[]>;
  listExchanges(vhost?: string): MaybePromise<readonly ExchangeInfo[]>;
  listBindings(vhost?: string): MaybePromise<readonly BindingInfo[]>;
  listConnections(): MaybePromise<readonly ConnectionInfo[]>;
  exportDefinitions(): MaybePromise<Definitions>;
  importDefinitions(defs: Definitions): MaybePromise<void>;
}

/**
 * A failure the HTTP client should see, with RabbitMQ's body shape
 * {"error": ..., "reason": ...}: 400 bad_request, 404 Object Not Found, 409 conflict.
 */
export class AdminError extends Error {
  override readonly name = 'AdminError';
  readonly code = 'ADMIN_ERROR';
  constructor(readonly status: 400 | 401 | 404 | 405 | 409 | 413 | 500 | 503, readonly error: string, reason: string) {
    super(reason);
  }

  static notFound(reason = 'Not Found'): AdminError {
    return new AdminError(404, 'Object Not Found', reason);
  }

  static badRequest(reason: string): AdminError {
    return new AdminError(400, 'bad_request', reason);
  }
}
