// The contract between the admin HTTP server and the broker. The server (src/admin/server.ts)
// only translates HTTP to these calls and back; the broker side (src/node/admin-source.ts)
// implements AdminSource over the metadata store, sessions and queue owners.
//
// Record shapes use RabbitMQ management API field names (snake_case) so tools written for
// RabbitMQ's /api read Warren's unchanged; fields Warren cannot know yet may be omitted.
// Every method may return a value or a promise (the metadata will move to a Raft group and these
// calls become asynchronous). To signal an HTTP-visible failure (unknown vhost, bad argument),
// throw AdminError; anything else becomes 500. Request bodies are validated before they reach the
// source (validate.ts, definitions.ts); the source checks only what needs the broker's state.
import type { FieldTable } from '../amqp/table.js';

export type MaybePromise<T> = T | Promise<T>;

/** RabbitMQ's user tags that grant access to the management API (rabbit_mgmt_util:is_mgmt_user/1). */
export const MANAGEMENT_TAGS = ['administrator', 'monitoring', 'policymaker', 'management'] as const;

/** The only password hashing Warren verifies (RabbitMQ's default). */
export const SHA256_HASHING = 'rabbit_password_hashing_sha256';

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
  /** Shown to administrator and monitoring users only, as RabbitMQ. */
  readonly node?: string;
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

/**
 * PUT /api/users/{name}: a password (hashed by the broker), a pre-computed sha256 hash, or neither:
 * then, as in RabbitMQ, the user has no password (password_hash '') and cannot log in with one.
 */
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
  /**
   * Messages on disk and their body bytes (RabbitMQ's fields): every message of a durable queue
   * is stored in its partition whatever its delivery mode; a transient queue stores none.
   */
  readonly messages_persistent?: number;
  readonly message_bytes_persistent?: number;
  readonly consumers?: number;
  /** Warren: the partition (Raft group) of a durable queue. */
  readonly partition?: number;
  /**
   * Warren: approximate bytes of the queue's message records in the partition's LevelDB table files
   * (writes of the last few MiB, still in LevelDB's memtable, are not counted yet).
   */
  readonly disk_bytes?: number;
  /** Warren: the queue's partition, as GET /api/partitions lists it (log length, indexes, bytes on disk). */
  readonly partition_stats?: PartitionInfo;
  /**
   * A durable queue on a cluster frontend, as RabbitMQ's quorum queues show their Raft members:
   * the owner id leading its partition (0: none answered recently), the partition's replicas
   * (owner ids, preferred leader first), and those whose owner answered recently.
   */
  readonly leader?: number;
  readonly members?: readonly number[];
  readonly online?: readonly number[];
}

/** GET /api/placement (Warren): the partitions' replicas as the metadata group stores them (src/meta/placement.ts). */
export interface PlacementInfo {
  readonly epoch: number;
  readonly partitions: number;
  readonly replication_factor: number;
  readonly vnodes: number;
  readonly owners: ReadonlyArray<{ readonly id: number; readonly address: string }>;
  /** replicas[p - 1]: partition p's owners, preferred leader first. */
  readonly replicas: ReadonlyArray<readonly number[]>;
}

/** GET /api/partitions (Warren): one durable-queue partition, a Raft group on this node's LevelDB. */
export interface PartitionInfo {
  readonly partition: number;
  readonly queues: number;
  /** Ready and unacked messages of its queues, and their body bytes. */
  readonly messages: number;
  readonly message_bytes: number;
  /** Approximate bytes on disk (LevelDB table files) of everything of the group, and of its log alone. */
  readonly disk_bytes: number;
  readonly log_disk_bytes: number;
  /** Entries in the Raft log (last_index - first_index + 1): the tail not yet compacted into the snapshot. */
  readonly log_entries: number;
  readonly first_index: number;
  readonly last_index: number;
  readonly commit_index: number;
  readonly applied_index: number;
  /** Bytes of applied entries still in the log (held in memory until compacted). */
  readonly log_bytes: number;
  readonly term: number;
  readonly leader: number;
  /** Frontend sessions the partition's state knows (they hold consumers or unacked messages in it). */
  readonly sessions?: readonly string[];
}

/**
 * GET /api/metadata (Warren): this owner's replica of the metadata group (Raft group 0) and the
 * frontends' session leases its applied state holds open.
 */
export interface MetadataInfo {
  /** The leader this replica knows (0: none), and its term. */
  readonly leader: number;
  readonly term: number;
  readonly first_index: number;
  readonly last_index: number;
  readonly commit_index: number;
  readonly applied_index: number;
  /** The number the next lease opened gets: a lease below it that is not listed has ended. */
  readonly next_lease: number;
  /** True when the lease deadlines were read here (this replica leads): then leases carry expires_in_ms. */
  readonly lease_deadlines: boolean;
  readonly leases: readonly LeaseInfo[];
}

/** One open frontend session lease. */
export interface LeaseInfo {
  readonly lease: number;
  /** The name it was opened under (`frontend-<id>`). */
  readonly name: string;
  /** The frontend's node id and its session id (`fe-<id>-<lease>`), when the name is a frontend's. */
  readonly frontend?: number;
  readonly session?: string;
  readonly ttl_ms: number;
  /**
   * On the metadata leader: how long until the lease expires unless renewed (the deadline lives in
   * the leader's memory; absent for a lease opened since it last checked, or on a follower).
   */
  readonly expires_in_ms?: number;
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

/** GET /api/channels: one channel, RabbitMQ 3.10's fields (rates and idle_since left out). */
export interface ChannelJson {
  /** `<connection name> (<number>)`. */
  readonly name: string;
  readonly number: number;
  readonly connection_details: { readonly name: string; readonly peer_host: string; readonly peer_port: number };
  readonly vhost: string;
  readonly user: string;
  readonly node?: string;
  readonly consumer_count: number;
  readonly messages_unacknowledged: number;
  readonly messages_unconfirmed: number;
  readonly prefetch_count: number;
  readonly global_prefetch_count: number;
  readonly confirm: boolean;
  readonly transactional: boolean;
  readonly state: string;
}

/**
 * GET /api/nodes: one node, RabbitMQ 3.10's fields that Warren has a value for. A cluster
 * frontend lists the owners by name and liveness only (`running`: they answered its queue-figure
 * requests in the last 3 s); their own /api/nodes has the rest.
 */
export interface NodeJson {
  readonly name: string;
  readonly type: 'disc';
  readonly running: boolean;
  readonly os_pid?: string;
  /** Milliseconds since the process started. */
  readonly uptime?: number;
  readonly mem_used?: number;
  readonly mem_limit?: number;
  readonly mem_alarm?: boolean;
  readonly disk_free?: number;
  readonly disk_free_alarm?: boolean;
  readonly fd_used?: number;
  readonly sockets_used?: number;
  readonly processors?: number;
}

/** GET /api/consumers: one consumer, RabbitMQ 3.10's fields. */
export interface ConsumerJson {
  readonly consumer_tag: string;
  readonly queue: { readonly name: string; readonly vhost: string };
  readonly channel_details: {
    readonly name: string; readonly number: number; readonly connection_name: string;
    readonly peer_host: string; readonly peer_port: number; readonly user: string; readonly node?: string;
  };
  readonly ack_required: boolean;
  readonly exclusive: boolean;
  readonly prefetch_count: number;
  readonly active: boolean;
  readonly activity_status: string;
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** One exported user: RabbitMQ's definitions fields. */
export interface DefinitionsUser {
  readonly name: string;
  readonly password_hash: string;
  readonly hashing_algorithm: string;
  readonly tags: readonly string[];
  readonly limits: Readonly<Record<string, unknown>>;
}

/** A queue as RabbitMQ's definitions carry it: no stats, no exclusive flag (exclusive queues are not exported). */
export interface DefinitionsQueue {
  readonly name: string;
  readonly vhost: string;
  readonly durable: boolean;
  readonly auto_delete: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** GET /api/definitions: RabbitMQ 3.10's export format, sections Warren has no equivalent of left empty. */
export interface Definitions {
  readonly product_name: string;
  readonly product_version: string;
  readonly users: readonly DefinitionsUser[];
  readonly vhosts: ReadonlyArray<{ readonly name: string }>;
  readonly permissions: readonly PermissionInfo[];
  readonly topic_permissions: readonly [];
  readonly parameters: readonly [];
  readonly global_parameters: readonly [];
  readonly policies: readonly [];
  readonly queues: readonly DefinitionsQueue[];
  readonly exchanges: readonly ExchangeInfo[];
  readonly bindings: readonly Omit<BindingInfo, 'properties_key'>[];
}

/**
 * A definitions document after validation (definitions.ts): typed, defaults filled in, every entry
 * tagged with where it came from ("queues[3]") so later failures can name it.
 */
export interface ImportPlan {
  readonly vhosts: ReadonlyArray<Located<{ readonly name: string }>>;
  readonly users: ReadonlyArray<Located<PlannedUser>>;
  readonly permissions: ReadonlyArray<Located<PermissionInfo>>;
  readonly exchanges: ReadonlyArray<Located<PlannedExchange>>;
  readonly queues: ReadonlyArray<Located<PlannedQueue>>;
  readonly bindings: ReadonlyArray<Located<PlannedBinding>>;
}

export type Located<T> = T & { readonly at: string };

/** Exactly one of password (hashed by the source) and passwordHash (sha256 format, '' = no password). */
export interface PlannedUser {
  readonly name: string;
  readonly tags: readonly string[];
  readonly password?: string;
  readonly passwordHash?: string;
}

export interface PlannedExchange {
  readonly vhost: string;
  readonly name: string;
  readonly type: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: FieldTable;
}

export interface PlannedQueue {
  readonly vhost: string;
  readonly name: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly arguments: FieldTable;
}

export interface PlannedBinding {
  readonly vhost: string;
  readonly source: string;
  readonly destination: string;
  readonly destinationType: 'queue' | 'exchange';
  readonly routingKey: string;
  readonly arguments: FieldTable;
}

/** What an import did: entries created or updated, and entries it left alone (with why). */
export interface ImportReport {
  readonly applied: number;
  readonly warnings: readonly string[];
}

/** Why a login failed, for the log (the HTTP answer is RabbitMQ's and says less). */
export type LoginFailure = 'unknown user' | 'bad password' | 'loopback only';

export type AuthResult =
  | { readonly ok: true; readonly tags: readonly string[] }
  | { readonly ok: false; readonly reason: LoginFailure };

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
  readonly perQueue?: ReadonlyArray<{
    readonly vhost: string; readonly queue: string; readonly ready: number; readonly unacked: number; readonly consumers: number;
    /** Body bytes of ready + unacked messages; approximate bytes on disk (durable queues only). */
    readonly bytes?: number;
    readonly diskBytes?: number;
  }>;
  /** Durable-queue partitions (absent without them). */
  readonly perPartition?: readonly PartitionInfo[];
  /** Approximate bytes of the node's LevelDB table files, and compactions of deleted key ranges run so far. */
  readonly storageDiskBytes?: number;
  readonly storageRangeCompactions?: number;
  /** The node's LevelDB writes so far (the group-commit loop shared by every Raft group). */
  readonly storageWrites?: StorageWrites;
}

export type PutOutcome = 'created' | 'updated';

export interface AdminSource {
  /**
   * Checks a password login from `peer` (the client's IP address): the user's tags, or why not. A
   * loopback-only user (guest) from a non-loopback peer fails as on AMQP (RabbitMQ's loopback_users).
   */
  authenticate(user: string, password: string, peer: string | undefined): MaybePromise<AuthResult>;
  /** Vhosts in which `user` has permissions (RabbitMQ's "login vhosts"), in listing order. */
  permittedVhosts(user: string): MaybePromise<readonly string[]>;
  /** True when the broker accepts AMQP clients (listeners up, metadata loaded). */
  isReady(): MaybePromise<boolean>;
  /** The node keeps no store of its own (a cluster frontend): /metrics has no warren_storage_* series. */
  readonly storeless?: true;
  stats(): MaybePromise<AdminStats>;

  overview(): MaybePromise<Overview>;
  listVhosts(): MaybePromise<readonly VhostInfo[]>;
  putVhost(name: string, opts: { description?: string; tags?: readonly string[] }): MaybePromise<PutOutcome>;
  deleteVhost(name: string): MaybePromise<void>;
  listUsers(): MaybePromise<readonly UserInfo[]>;
  putUser(name: string, update: UserUpdate): MaybePromise<PutOutcome>;
  deleteUser(name: string): MaybePromise<void>;
  listPermissions(): MaybePromise<readonly PermissionInfo[]>;
  /** 400 vhost_or_user_not_found when either is missing, as RabbitMQ. */
  putPermissions(vhost: string, user: string, perms: PermissionSpec): MaybePromise<PutOutcome>;
  /** 404 when the user has no permissions in the vhost. */
  deletePermissions(vhost: string, user: string): MaybePromise<void>;
  /** vhost undefined = every vhost. */
  listQueues(vhost?: string): MaybePromise<readonly QueueInfo[]>;
  /** Durable-queue partitions (Warren); absent on a broker without them. */
  listPartitions?(): MaybePromise<readonly PartitionInfo[]>;
  /** The placement stored in the metadata group (Warren, a cluster's); undefined before its bootstrap. */
  placement?(): PlacementInfo | undefined;
  /** The metadata group as this node's replica sees it (Warren); absent on a node without one (a cluster frontend). */
  metadata?(): MaybePromise<MetadataInfo>;
  listExchanges(vhost?: string): MaybePromise<readonly ExchangeInfo[]>;
  listBindings(vhost?: string): MaybePromise<readonly BindingInfo[]>;
  listConnections(): MaybePromise<readonly ConnectionInfo[]>;
  /** This node's open channels and their consumers (a cluster frontend: its own; routes.ts gathers the others'). */
  listChannels(): MaybePromise<readonly ChannelJson[]>;
  /** This node as /api/nodes shows it. */
  node(): MaybePromise<NodeJson>;
  /**
   * A cluster frontend: the owners, each with the figures it reported just now, or by name and not
   * running when it did not answer (the other frontends answer for themselves).
   */
  clusterOwners?(): Promise<readonly NodeJson[]>;
  listConsumers(): MaybePromise<readonly ConsumerJson[]>;
  /**
   * A cluster frontend: every other frontend's JSON answer to GET `path` for its own objects only,
   * asked with the caller's own credentials (so each applies the caller's rights). A frontend that
   * does not answer within a moment is left out.
   */
  fromOtherFrontends?(path: string, authorization: string | undefined): Promise<readonly unknown[]>;
  exportDefinitions(): MaybePromise<Definitions>;
  /**
   * Applies a validated plan all-or-nothing: every entry is checked against the broker's state
   * first (vhosts, users, sources and destinations must exist, in the broker or earlier in the
   * plan); on any failure nothing is applied and AdminError 400 names the entries ("queues[3]: ...").
   * Queues and exchanges that already exist are kept as they are (as RabbitMQ does), with a warning
   * when the file describes them differently.
   */
  importDefinitions(plan: ImportPlan): MaybePromise<ImportReport>;
  /**
   * Present when the source reads a view that may trail changes made elsewhere (a cluster
   * frontend's metadata cache): resolves once the view applied every change committed before the
   * call. A request refused by a lookup (404, unknown user, a permission or tag missing) waits for
   * it once and is tried again (server.ts).
   */
  sync?(): Promise<void>;
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

/** Counters of the node's write loop: one batch per loop turn, fsynced when it carries Raft log writes. */
export interface StorageWrites {
  readonly batches: number;
  readonly fsyncs: number;
  readonly ops: number;
  readonly bytes: number;
  /** Raft log entries written (each may carry many commands). */
  readonly entries: number;
}
