// The one error type the client reports. A server-side channel.close / connection.close carries the
// server's reply code and text (e.g. 404 "NOT_FOUND - no queue 'q' in vhost '/'"); a lost socket or an
// unparseable frame has replyCode 0.

export const ClientErrorCode = {
  ChannelClosed: 'AMQP_CHANNEL_CLOSED',
  ConnectionClosed: 'AMQP_CONNECTION_CLOSED',
  SocketClosed: 'AMQP_SOCKET_CLOSED',
  Protocol: 'AMQP_PROTOCOL',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

export class ClientError extends Error {
  override readonly name = 'AmqpClientError';

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** The server's reply code; 0 when the server did not send one. */
    readonly replyCode = 0,
    readonly replyText = '',
    readonly classId = 0,
    readonly methodId = 0,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** From a server-sent channel.close / connection.close. */
  static fromClose(code: ClientErrorCode, a: { replyCode: number; replyText: string; classId: number; methodId: number }): ClientError {
    const what = code === ClientErrorCode.ChannelClosed ? 'channel' : 'connection';
    return new ClientError(code, `${what} closed by the server: ${a.replyCode} ${a.replyText}`, a.replyCode, a.replyText,
      a.classId, a.methodId);
  }
}
