// common.proto's Error as the Meta service uses it: an AmqpError crosses the wire as its reply code,
// the text after "NAME - ", and the failing method, and is rebuilt as the same AmqpError (so the
// client gets the same channel.close text as from the embedded broker).
import { AmqpError, replyCodeName } from '../amqp/errors.js';
import type { warren } from '../proto/meta.js';

export type WireError = warren.v1.IError;

export function amqpToWire(err: AmqpError): WireError {
  const prefix = `${replyCodeName(err.replyCode)} - `;
  const detail = err.replyText.startsWith(prefix) ? err.replyText.slice(prefix.length) : err.replyText;
  return { amqp: { replyCode: err.replyCode, detail, classId: err.classId, methodId: err.methodId } };
}

export function amqpFromWire(e: warren.v1.IAmqpError): AmqpError {
  return new AmqpError(e.replyCode ?? 0, e.detail ?? '', e.classId ?? 0, e.methodId ?? 0);
}

export function unavailable(detail: string): WireError {
  return { unavailable: { detail } };
}
