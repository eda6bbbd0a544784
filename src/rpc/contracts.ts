// The cluster's gRPC methods (proto/warren/v1/owner.proto, meta.proto; docs/cluster-contracts.md):
// each one's full path, streaming kind and protobufjs static codecs. scripts/gen-proto.sh generates
// no service code (--no-service), so this table is the only place a path meets its message types;
// test/unit/rpc/contracts.test.ts checks it against the `service` blocks of the .proto files.
//
// Codec types: a request or response is encoded from the generated `$Properties` (every field
// optional, proto3 defaults when absent) and decoded to the generated class with `$Shape` (scalars
// filled in, oneofs narrowed by `kind`). A bidi method here is also a BidiMethod (src/rpc/bidi.ts).
// 64-bit fields (msg ids, seqs, indexes, lease ids) are typed `number` (--force-number) but decode
// as Long objects at runtime: read them through u64() (src/partition/codec.ts), as the partition and
// Raft codecs do; values above 2^53 - 1 are not carried exactly.
import type { BidiMethod } from './bidi.js';
import { warren as owner } from '../proto/owner.js';
import { warren as meta } from '../proto/meta.js';

/** How requests and responses flow: one each, a stream of responses, or streams both ways. */
export type RpcKind = 'unary' | 'serverStream' | 'bidi';

export interface RpcMethod<ReqIn, ReqOut extends ReqIn, ResIn, ResOut extends ResIn> extends BidiMethod<ReqIn, ResIn> {
  readonly kind: RpcKind;
  /** The message types' names in the package (e.g. `EnqueueBatch`), as the .proto's service block names them. */
  readonly requestType: string;
  readonly responseType: string;
  encodeRequest(req: ReqIn): Uint8Array;
  decodeRequest(buf: Uint8Array): ReqOut;
  encodeResponse(res: ResIn): Uint8Array;
  decodeResponse(buf: Uint8Array): ResOut;
}

/** The static surface of a generated message class that a method needs. */
interface PbType<In, Out extends In> {
  /** The generated class's name: the message's name. */
  readonly name: string;
  encode(message: In): { finish(): Uint8Array };
  decode(buf: Uint8Array): Out;
}

function rpc<QI, QO extends QI, SI, SO extends SI>(
  kind: RpcKind, path: string, req: PbType<QI, QO>, res: PbType<SI, SO>,
): RpcMethod<QI, QO, SI, SO> {
  return {
    kind, path, requestType: req.name, responseType: res.name,
    encodeRequest: (m) => req.encode(m).finish(),
    decodeRequest: (b) => req.decode(b),
    encodeResponse: (m) => res.encode(m).finish(),
    decodeResponse: (b) => res.decode(b),
  };
}

const o = owner.v1;
const m = meta.v1;

/** warren.v1.Owner: src/owner/api.ts OwnerClient over the network. */
export const OWNER = {
  declareQueue: rpc('unary', '/warren.v1.Owner/DeclareQueue', o.DeclareQueueRequest, o.DeclareQueueResponse),
  enqueue: rpc('bidi', '/warren.v1.Owner/Enqueue', o.EnqueueBatch, o.EnqueueAck),
  consume: rpc('bidi', '/warren.v1.Owner/Consume', o.ConsumeRequest, o.ConsumeEvent),
  settle: rpc('bidi', '/warren.v1.Owner/Settle', o.SettleBatch, o.SettleAck),
  get: rpc('unary', '/warren.v1.Owner/Get', o.GetRequest, o.GetResponse),
  purge: rpc('unary', '/warren.v1.Owner/Purge', o.PurgeRequest, o.PurgeResponse),
  deleteQueue: rpc('unary', '/warren.v1.Owner/DeleteQueue', o.DeleteQueueRequest, o.DeleteQueueResponse),
  queueStats: rpc('unary', '/warren.v1.Owner/QueueStats', o.QueueStatsRequest, o.QueueStatsResponse),
  partitions: rpc('unary', '/warren.v1.Owner/Partitions', o.PartitionsRequest, o.PartitionsResponse),
  node: rpc('unary', '/warren.v1.Owner/Node', o.NodeRequest, o.NodeResponse),
} as const;

/** warren.v1.Meta: the metadata group for frontends (MetaPort's changes and cache) and owners. */
export const META = {
  propose: rpc('unary', '/warren.v1.Meta/Propose', m.ProposeRequest, m.ProposeResponse),
  watch: rpc('serverStream', '/warren.v1.Meta/Watch', m.WatchRequest, m.WatchEvent),
  openSession: rpc('unary', '/warren.v1.Meta/OpenSession', m.OpenSessionRequest, m.OpenSessionResponse),
  keepAlive: rpc('unary', '/warren.v1.Meta/KeepAlive', m.KeepAliveRequest, m.KeepAliveResponse),
  closeSession: rpc('unary', '/warren.v1.Meta/CloseSession', m.CloseSessionRequest, m.CloseSessionResponse),
  getPlacement: rpc('unary', '/warren.v1.Meta/GetPlacement', m.GetPlacementRequest, m.GetPlacementResponse),
  firstLeaderTerm: rpc('unary', '/warren.v1.Meta/FirstLeaderTerm', m.FirstLeaderTermRequest, m.FirstLeaderTermResponse),
} as const;
