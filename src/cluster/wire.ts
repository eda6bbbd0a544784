// The cluster's error envelope (common.proto `Error`) both ways, and the conversions every service
// and client needs: an AmqpError travels as its reply code and detail so the client sees the same
// channel.close as from the embedded broker; NotLeader and Unavailable become errors the caller's
// retry loop tells apart from an unknown outcome (a broken stream, a passed deadline: RpcError).
import { AmqpError } from '../amqp/errors.js';
import { NotLeaderError } from '../raft/node/errors.js';
import type { warren } from '../proto/owner.js';

export type WireError = warren.v1.Error.$Properties;
type WireErrorIn = warren.v1.Error.$Properties | null | undefined;

/** The receiver does not lead the group and proposed nothing: resend to `leaderId` (0: none known). */
export class NotLeaderReply extends Error {
  override readonly name = 'NotLeaderReply';
  constructor(readonly group: number, readonly leaderId: number, readonly leaderAddress: string) {
    super(`not the leader of group ${group}${leaderId ? ` (leader: ${leaderId})` : ''}`);
  }
}

/** The receiver could not serve the request now (no quorum, shutting down); retry later. */
export class UnavailableReply extends Error {
  override readonly name = 'UnavailableReply';
}

/** An AmqpError as the envelope carries it: reply code, the text after "NAME - ", the failing method. */
export function amqpToWire(err: AmqpError): WireError {
  const i = err.replyText.indexOf(' - ');
  const detail = i < 0 ? err.replyText : err.replyText.slice(i + 3);
  return { amqp: { replyCode: err.replyCode, detail, classId: err.classId, methodId: err.methodId } };
}

/** The same AmqpError again, so the client gets the channel.close text the embedded broker sends. */
export function amqpFromWire(e: warren.v1.AmqpError.$Properties): AmqpError {
  return new AmqpError(e.replyCode ?? 541, e.detail ?? '', e.classId ?? 0, e.methodId ?? 0);
}

export function unavailableWire(detail: string): WireError {
  return { unavailable: { detail } };
}

/**
 * An error as the envelope carries it. `leaderAddress` resolves a Raft id to its gRPC address (for
 * NotLeader hints). Anything that is neither an AMQP rule nor a leadership answer is Unavailable:
 * the caller retries, and the outcome may be unknown (a dropped or timed-out proposal).
 */
export function toWire(err: unknown, group: number, leaderAddress: (id: number) => string): WireError {
  if (err instanceof AmqpError) return amqpToWire(err);
  if (err instanceof NotLeaderReply) {
    return { notLeader: { group: err.group, leaderId: String(err.leaderId), leaderAddress: err.leaderAddress } };
  }
  if (err instanceof NotLeaderError) {
    const id = err.leaderHint ?? 0;
    return { notLeader: { group, leaderId: String(id), leaderAddress: id ? leaderAddress(id) : '' } };
  }
  // ProposalDroppedError, ProposalTimeoutError, a stopped group: the proposal's fate is unknown.
  return unavailableWire(err instanceof Error ? err.message : String(err));
}

/** The envelope's error as an exception (undefined: success). */
export function fromWire(e: WireErrorIn): Error | undefined {
  if (e === null || e === undefined) return undefined;
  if (e.amqp) return amqpFromWire(e.amqp);
  if (e.notLeader) {
    return new NotLeaderReply(e.notLeader.group ?? 0, Number(e.notLeader.leaderId || 0), e.notLeader.leaderAddress ?? '');
  }
  if (e.unavailable) return new UnavailableReply(e.unavailable.detail ?? 'unavailable');
  return undefined;
}
