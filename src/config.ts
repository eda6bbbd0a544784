// Runtime configuration of one Warren process: defaults, then config file, then environment
// (WARREN_*), then command-line flags. Pure data; src/cli builds it, src/server consumes it.

export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile?: string;
}

/** What a process does (issue 8): `all` is the embedded broker, frontend and owner in one process. */
export type Role = 'all' | 'owner' | 'frontend';

/** An owner of the cluster: its node id and the address of its gRPC server (host:port). */
export interface OwnerAddress {
  readonly id: number;
  readonly address: string;
}

export interface WarrenConfig {
  /** `owner`: Raft replicas of the metadata group and partitions, gRPC only, no AMQP. `frontend`: AMQP, no durable state. */
  readonly role: Role;
  /**
   * This node's id in the cluster: an owner's Raft id (a positive integer, required); optional for a
   * frontend (0: none given — a Deployment's pods have no ordinal; its lease names its session).
   */
  readonly nodeId: number;
  /** The cluster's owners (static membership); empty for the embedded broker. */
  readonly owners: readonly OwnerAddress[];
  /** gRPC port an owner listens on (RabbitMQ's inter-node port, 25672, by default). */
  readonly clusterPort: number;
  /** Replicas per partition in a cluster (capped by the owner count). */
  readonly replication: number;
  /**
   * A cluster frontend: the host the other frontends reach its management API at (a pod's IP);
   * '' = its single bind address, else its host name (src/node/other-frontends.ts).
   */
  readonly advertiseHost: string;
  readonly dataDir: string;
  /** AMQP listener port; 0 picks a free port (tests). */
  readonly amqpPort: number;
  /** AMQPS listener port, used only when `tls` is set. */
  readonly amqpsPort: number;
  /** HTTP admin port (metrics, health, management API); 0 picks a free port. */
  readonly httpPort: number;
  /** Addresses to listen on. Default: all interfaces, IPv4 and IPv6 ("::" dual-stack). */
  readonly bind: readonly string[];
  readonly tls?: TlsConfig;
  readonly defaultUser: string;
  readonly defaultPass: string;
  readonly defaultVhost: string;
  /** Tune proposals (RabbitMQ's defaults); clients may lower them. */
  readonly channelMax: number;
  readonly frameMaxBytes: number;
  readonly heartbeatSec: number;
  /** Largest message body accepted: 16 MiB (RabbitMQ 3.10's max_message_size default is 128 MiB). */
  readonly maxMessageBytes: number;
  readonly logLevel: string;
  /** Fraction of RAM at which publishers are blocked (RabbitMQ's vm_memory_high_watermark, default 0.4). */
  readonly memoryHighWatermark: number;
  /**
   * Partition groups durable queues are spread over. Used when the data directory is created and
   * recorded there (`<dataDir>/warren.json`); a data directory keeps its count for good.
   */
  readonly partitions: number;
}

export const DEFAULT_CONFIG: WarrenConfig = {
  role: 'all',
  nodeId: 0,
  owners: [],
  clusterPort: 25672,
  replication: 3,
  advertiseHost: '',
  dataDir: './data',
  amqpPort: 5672,
  amqpsPort: 5671,
  httpPort: 15672,
  bind: ['::'],
  defaultUser: 'guest',
  defaultPass: 'guest',
  defaultVhost: '/',
  channelMax: 2047,
  frameMaxBytes: 131072,
  heartbeatSec: 60,
  maxMessageBytes: 16 * 1024 * 1024,
  logLevel: 'info',
  memoryHighWatermark: 0.4,
  partitions: 16,
};
