// What every connection and channel of one frontend shares: configuration, the metadata and owner
// ports, counters and the registry of live connections.
import type { WarrenConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { Message, OwnerClient } from '../owner/api.js';
import type { ConsumersSummary } from './consumers.js';
import type { EnqueueGate } from './enqueue-gate.js';
import type { MetaPort } from './ports.js';

export interface FrontendCounters {
  published: number;
  delivered: number;
  acked: number;
  confirmed: number;
  returned: number;
  connectionsOpened: number;
  connectionsClosed: number;
  channelsOpened: number;
  channelsClosed: number;
}

export interface ConnectionInfo {
  readonly id: string;
  readonly peer: string;
  readonly user: string | undefined;
  readonly vhost: string | undefined;
  readonly channels: number;
  readonly connectedAtMs: number;
  readonly clientProperties: Readonly<Record<string, unknown>>;
  readonly tls: boolean;
}

/** One open channel as the management API shows it (RabbitMQ's /api/channels and /api/consumers). */
export interface ChannelInfo {
  readonly number: number;
  readonly confirm: boolean;
  readonly transactional: boolean;
  /** Publishes not confirmed yet (confirm mode). */
  readonly unconfirmed: number;
  readonly consumers: ConsumersSummary;
}

export interface LiveConnection {
  info(): ConnectionInfo;
  channelInfos(): ChannelInfo[];
  /** Server-initiated close (shutdown): connection.close with the given code and text. */
  forceClose(replyCode: number, text: string): void;
  setBlocked(blocked: boolean, reason: string): void;
  /** Drops the socket without a close handshake (shutdown stragglers). */
  destroy(): void;
}

export interface FrontendContext {
  readonly config: WarrenConfig;
  readonly meta: MetaPort;
  readonly owner: OwnerClient;
  readonly log: Logger;
  readonly counters: FrontendCounters;
  readonly connections: Set<LiveConnection>;
  /** Random suffixes for server-named queues and consumer tags. */
  randomId(): string;
  /** Publishers are held (connection.blocked) while this is true: memory alarm. */
  blocked: boolean;
  /** Direct reply-to consumers by key (see direct-reply.ts). */
  readonly directReply: Map<string, (message: Message) => void>;
  /** The node's bound on enqueues waiting for their owners (enqueue-gate.ts). */
  readonly enqueues: EnqueueGate;
  /**
   * Put before every connection id (a cluster frontend's session and '/'): ids stay unique across
   * the cluster, and an owner tells a gone frontend's exclusive queues by it.
   */
  readonly connectionIdPrefix?: string;
}

export function newCounters(): FrontendCounters {
  return {
    published: 0, delivered: 0, acked: 0, confirmed: 0, returned: 0,
    connectionsOpened: 0, connectionsClosed: 0, channelsOpened: 0, channelsClosed: 0,
  };
}
