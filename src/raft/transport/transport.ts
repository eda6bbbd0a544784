// Raft transport over gRPC: one `Raft.Stream` per ordered node pair multiplexing every group.
//
// Framing and direction: each node dials every peer once and SENDS only on the stream it dialled
// (so a pair uses two streams, one per direction; no tie-breaking needed when both dial at once).
// The accepting side answers each new stream with one empty RaftBatch (fromNode 0), the "hello",
// and otherwise only reads; inbound messages are handed to onMessage in the order coalesce.ts's
// expand() gives (each group's messages in the order its sender queued them).
import { BidiClient, RpcServer } from '../../rpc/server.js';
import type { BidiMethod } from '../../rpc/bidi.js';

import type { Message, NodeId } from '../core/types.js';
import { decodeBatch, encodeBatch, HELLO } from './codec.js';
import type { Batch } from './codec.js';
import { coalescedCount, expand } from './coalesce.js';
import { Peer } from './peer.js';
import type { PeerLimits, PeerStats } from './peer.js';

export const RAFT_STREAM: BidiMethod<Batch, Batch> = {
  path: '/warren.v1.Raft/Stream',
  encodeRequest: encodeBatch,
  decodeRequest: decodeBatch,
  encodeResponse: encodeBatch,
  decodeResponse: decodeBatch,
};

export const DEFAULT_PEER_LIMITS: PeerLimits = {
  maxQueueMessages: 10_000,
  maxQueueBytes: 64 * 1024 * 1024,
  maxBatchBytes: 4 * 1024 * 1024,
  backoffMinMs: 50,
  backoffMaxMs: 2_000,
};

export interface RaftTransportOptions {
  readonly nodeId: NodeId;
  /** Listen address; port 0 picks a free port (see RaftTransport.port). */
  readonly host: string;
  readonly port: number;
  /** Peer node id -> "host:port". */
  readonly peers?: ReadonlyMap<NodeId, string>;
  readonly onMessage: (group: number, message: Message, fromNode: NodeId) => void;
  readonly limits?: Partial<PeerLimits>;
}

export interface TransportStats {
  receivedMessages: number;
  receivedBatches: number;
  /** Of receivedMessages, those that arrived in a batch's compact heartbeat lists. */
  receivedCoalescedHeartbeats: number;
  /** Batches addressed to another node (a stream dialled to the wrong address), dropped. */
  misroutedBatches: number;
  peers: Record<number, PeerStats>;
}

export class RaftTransport {
  private readonly peers = new Map<NodeId, Peer>();
  private readonly limits: PeerLimits;
  private receivedMessages = 0;
  private receivedBatches = 0;
  private receivedCoalescedHeartbeats = 0;
  private misrouted = 0;

  private constructor(
    private readonly opts: RaftTransportOptions,
    private readonly server: { readonly port: number; close(): Promise<void> },
  ) {
    this.limits = { ...DEFAULT_PEER_LIMITS, ...opts.limits };
  }

  /** Listens on opts.host:opts.port with a server of its own. */
  static async start(opts: RaftTransportOptions): Promise<RaftTransport> {
    const server = new RpcServer();
    const self = RaftTransport.on(server, opts, true);
    await server.listen(opts.host, opts.port);
    return self;
  }

  /**
   * Serves the Raft stream on a node's shared server (listening is the caller's, after every
   * service registered); `owned` false: close() leaves the server to its owner.
   */
  static on(server: RpcServer, opts: RaftTransportOptions, owned = false): RaftTransport {
    const self: RaftTransport = new RaftTransport(opts, owned ? server : { get port() { return server.port; }, close: async () => {} });
    server.bidi(RAFT_STREAM, (stream) => {
      stream.onData((batch) => self.deliver(batch));
      stream.write(HELLO);
    });
    for (const [id, addr] of opts.peers ?? []) self.addPeer(id, addr);
    return self;
  }

  get port(): number {
    return this.server.port;
  }

  addPeer(id: NodeId, address: string): void {
    if (id === this.opts.nodeId || this.peers.has(id)) return;
    this.peers.set(id, new Peer(this.opts.nodeId, id, new BidiClient(address, RAFT_STREAM), this.limits));
  }

  removePeer(id: NodeId): void {
    this.peers.get(id)?.close();
    this.peers.delete(id);
  }

  /** Queues messages of one group; each goes to the peer named by message.to. Never blocks. */
  send(group: number, messages: readonly Message[]): void {
    for (const message of messages) {
      const peer = this.peers.get(message.to);
      if (peer) peer.send({ group, message });
    }
  }

  isConnected(id: NodeId): boolean {
    return this.peers.get(id)?.connected ?? false;
  }

  stats(): TransportStats {
    const peers: Record<number, PeerStats> = {};
    for (const [id, p] of this.peers) peers[id] = { ...p.stats };
    return {
      receivedMessages: this.receivedMessages,
      receivedBatches: this.receivedBatches,
      receivedCoalescedHeartbeats: this.receivedCoalescedHeartbeats,
      misroutedBatches: this.misrouted,
      peers,
    };
  }

  async close(): Promise<void> {
    for (const p of this.peers.values()) p.close();
    this.peers.clear();
    await this.server.close();
  }

  private deliver(batch: Batch): void {
    // A stream dialled to the wrong address (a peer map out of date) carries another node's
    // messages: dropping them is safe (Raft tolerates loss), acting on them is not.
    if (batch.toNode !== 0 && batch.toNode !== this.opts.nodeId) {
      this.misrouted++;
      return;
    }
    this.receivedBatches++;
    this.receivedCoalescedHeartbeats += coalescedCount(batch);
    for (const env of expand(batch)) {
      this.receivedMessages++;
      this.opts.onMessage(env.group, env.message, batch.fromNode);
    }
  }
}
