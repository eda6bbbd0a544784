// The cluster's gRPC methods (proto/warren/v1/owner.proto, meta.proto; docs/cluster-contracts.md):
// each one's full path, streaming kind and message codecs: the protobufjs static code (pb), or for
// the per-message Owner traffic the hand-written codecs of owner-codec.ts (hand), which write the
// same bytes. scripts/gen-proto.sh generates no service code (--no-service), so this table is the
// only place a path meets its message types; test/unit/rpc/contracts.test.ts checks it against the
// `service` blocks of the .proto files.
//
// Codec types: a request or response is encoded from the generated `$Properties` (every field
// optional, proto3 defaults when absent) and decoded to the generated class with `$Shape` (scalars
// filled in, oneofs narrowed by `kind`). A bidi method here is also a BidiMethod (src/rpc/bidi.ts).
// 64-bit fields (msg ids, seqs, indexes, lease ids) are typed `number` (--force-number) but protobufjs
// decodes them as Long objects at runtime (the hand codecs as numbers): read them through u64()
// (src/partition/codec.ts), as the partition and Raft codecs do; values above 2^53 - 1 are not
// carried exactly.
import type { BidiMethod } from './bidi.js';
import { warren as owner } from '../proto/owner.js';
import { warren as meta } from '../proto/meta.js';
import {
  decodeConsumeEvent, decodeEnqueueAck, decodeEnqueueBatch, decodeSettleBatch, encodeConsumeEvent, encodeEnqueueAck,
  encodeEnqueueBatch, encodeSettleBatch,
} from './owner-codec.js';

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

/** How one message type is written and read. */
interface Codec<In, Out extends In> {
  /** The message's name in the package, as the .proto names it. */
  readonly name: string;
  encode(message: In): Uint8Array;
  decode(buf: Uint8Array): Out;
}

/** The static surface of a generated message class that a codec needs. */
interface PbType<In, Out extends In> {
  /** The generated class's name: the message's name. */
  readonly name: string;
  encode(message: In): { finish(): Uint8Array };
  decode(buf: Uint8Array): Out;
}

/** The generated protobufjs code: the reference codec of every message. */
function pb<In, Out extends In>(type: PbType<In, Out>): Codec<In, Out> {
  return { name: type.name, encode: (m) => type.encode(m).finish(), decode: (b) => type.decode(b) };
}

/** Hand-written functions in place of the generated ones, for the message `type` names. */
function hand<In, Out extends In>(
  type: PbType<In, Out>, encode: (message: In) => Uint8Array, decode: (buf: Uint8Array) => Out,
): Codec<In, Out> {
  return { name: type.name, encode, decode };
}

function rpc<QI, QO extends QI, SI, SO extends SI>(
  kind: RpcKind, path: string, req: Codec<QI, QO>, res: Codec<SI, SO>,
): RpcMethod<QI, QO, SI, SO> {
  return {
    kind, path, requestType: req.name, responseType: res.name,
    encodeRequest: req.encode, decodeRequest: req.decode, encodeResponse: res.encode, decodeResponse: res.decode,
  };
}

const o = owner.v1;
const m = meta.v1;

/**
 * warren.v1.Owner: src/owner/api.ts OwnerClient over the network. The messages that travel once per
 * published message, delivery or ack have hand-written codecs (owner-codec.ts says why).
 */
export const OWNER = {
  declareQueue: rpc('unary', '/warren.v1.Owner/DeclareQueue', pb(o.DeclareQueueRequest), pb(o.DeclareQueueResponse)),
  enqueue: rpc('bidi', '/warren.v1.Owner/Enqueue',
    hand(o.EnqueueBatch, encodeEnqueueBatch, decodeEnqueueBatch), hand(o.EnqueueAck, encodeEnqueueAck, decodeEnqueueAck)),
  consume: rpc('bidi', '/warren.v1.Owner/Consume', pb(o.ConsumeRequest), hand(o.ConsumeEvent, encodeConsumeEvent, decodeConsumeEvent)),
  settle: rpc('bidi', '/warren.v1.Owner/Settle', hand(o.SettleBatch, encodeSettleBatch, decodeSettleBatch), pb(o.SettleAck)),
  get: rpc('unary', '/warren.v1.Owner/Get', pb(o.GetRequest), pb(o.GetResponse)),
  purge: rpc('unary', '/warren.v1.Owner/Purge', pb(o.PurgeRequest), pb(o.PurgeResponse)),
  deleteQueue: rpc('unary', '/warren.v1.Owner/DeleteQueue', pb(o.DeleteQueueRequest), pb(o.DeleteQueueResponse)),
  queueStats: rpc('unary', '/warren.v1.Owner/QueueStats', pb(o.QueueStatsRequest), pb(o.QueueStatsResponse)),
  partitions: rpc('unary', '/warren.v1.Owner/Partitions', pb(o.PartitionsRequest), pb(o.PartitionsResponse)),
  node: rpc('unary', '/warren.v1.Owner/Node', pb(o.NodeRequest), pb(o.NodeResponse)),
} as const;

/** warren.v1.Meta: the metadata group for frontends (MetaPort's changes and cache) and owners. */
export const META = {
  propose: rpc('unary', '/warren.v1.Meta/Propose', pb(m.ProposeRequest), pb(m.ProposeResponse)),
  watch: rpc('serverStream', '/warren.v1.Meta/Watch', pb(m.WatchRequest), pb(m.WatchEvent)),
  openSession: rpc('unary', '/warren.v1.Meta/OpenSession', pb(m.OpenSessionRequest), pb(m.OpenSessionResponse)),
  keepAlive: rpc('unary', '/warren.v1.Meta/KeepAlive', pb(m.KeepAliveRequest), pb(m.KeepAliveResponse)),
  closeSession: rpc('unary', '/warren.v1.Meta/CloseSession', pb(m.CloseSessionRequest), pb(m.CloseSessionResponse)),
  getPlacement: rpc('unary', '/warren.v1.Meta/GetPlacement', pb(m.GetPlacementRequest), pb(m.GetPlacementResponse)),
  firstLeaderTerm: rpc('unary', '/warren.v1.Meta/FirstLeaderTerm', pb(m.FirstLeaderTermRequest), pb(m.FirstLeaderTermResponse)),
} as const;
