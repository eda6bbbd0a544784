// One error type for every AMQP failure (RabbitMQ's protocol_error, LavinMQ's send_channel_close):
// thrown where a rule is broken, turned into channel.close (soft) or connection.close (hard) in
// exactly one place, the frontend's channel/connection error handler.
//
// Reply texts follow RabbitMQ's, prefixed with the code's name, e.g.
//   new AmqpError(404, "no queue 'q' in vhost '/'") -> "NOT_FOUND - no queue 'q' in vhost '/'"

export const ReplyCode = {
  ContentTooLarge: 311,
  NoRoute: 312,
  NoConsumers: 313,
  ConnectionForced: 320,
  InvalidPath: 402,
  AccessRefused: 403,
  NotFound: 404,
  ResourceLocked: 405,
  PreconditionFailed: 406,
  FrameError: 501,
  SyntaxError: 502,
  CommandInvalid: 503,
  ChannelError: 504,
  UnexpectedFrame: 505,
  ResourceError: 506,
  NotAllowed: 530,
  NotImplemented: 540,
  InternalError: 541,
} as const;
export type ReplyCode = (typeof ReplyCode)[keyof typeof ReplyCode];

const NAMES: Record<number, string> = {
  311: 'CONTENT_TOO_LARGE', 312: 'NO_ROUTE', 313: 'NO_CONSUMERS', 320: 'CONNECTION_FORCED',
  402: 'INVALID_PATH', 403: 'ACCESS_REFUSED', 404: 'NOT_FOUND', 405: 'RESOURCE_LOCKED',
  406: 'PRECONDITION_FAILED', 501: 'FRAME_ERROR', 502: 'SYNTAX_ERROR', 503: 'COMMAND_INVALID',
  504: 'CHANNEL_ERROR', 505: 'UNEXPECTED_FRAME', 506: 'RESOURCE_ERROR', 530: 'NOT_ALLOWED',
  540: 'NOT_IMPLEMENTED', 541: 'INTERNAL_ERROR',
};

/** Hard errors close the connection; the rest (soft) close only the channel (spec "class" of each constant). */
const HARD = new Set<number>([320, 402, 501, 502, 503, 504, 505, 506, 530, 540, 541]);

export function replyCodeName(code: number): string {
  return NAMES[code] ?? `UNKNOWN_${code}`;
}

export function isHardError(code: number): boolean {
  return HARD.has(code);
}

export class AmqpError extends Error {
  override readonly name = 'AmqpError';
  /** The full reply text sent to the client: "<NAME> - <detail>". */
  readonly replyText: string;

  constructor(
    readonly replyCode: number,
    detail: string,
    /** The method that failed; 0/0 when not tied to a method. The channel fills these in when unset. */
    public classId = 0,
    public methodId = 0,
  ) {
    const text = `${replyCodeName(replyCode)} - ${detail}`;
    super(text);
    this.replyText = text;
  }

  get hard(): boolean {
    return isHardError(this.replyCode);
  }

  /**
   * The arguments of the channel.close / connection.close this error becomes. reply-text is a
   * shortstr: like RabbitMQ (rabbit_binary_generator), a text over 255 bytes is cut to 252 bytes
   * plus "...", here at a UTF-8 character boundary so the cut never yields an invalid sequence.
   */
  closeArgs(): { replyCode: number; replyText: string; classId: number; methodId: number } {
    return { replyCode: this.replyCode, replyText: shortText(this.replyText), classId: this.classId, methodId: this.methodId };
  }
}

/** Largest shortstr, and the length RabbitMQ cuts longer reply texts to before appending "...". */
const SHORTSTR_MAX_BYTES = 255;
const TRUNCATED_BYTES = 252;

/** `text` if it fits a shortstr, else its first ≤ 252 bytes (whole characters) + "...". */
export function shortText(text: string): string {
  if (Buffer.byteLength(text) <= SHORTSTR_MAX_BYTES) return text;
  const bytes = Buffer.from(text);
  let end = TRUNCATED_BYTES;
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--; // back to a character start
  return bytes.subarray(0, end).toString('utf8') + '...';
}
