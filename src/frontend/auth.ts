// SASL mechanisms offered in connection.start: PLAIN (RFC 4616) and RabbitMQ's AMQPLAIN.
import { AmqpError, ReplyCode } from '../amqp/errors.js';
import { decodeTable } from '../amqp/table.js';

export const MECHANISMS = 'PLAIN AMQPLAIN';

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/** Parses a start-ok response; undefined when it is malformed (treated as a failed login). */
export function parseCredentials(mechanism: string, response: Buffer): Credentials | undefined {
  if (mechanism === 'PLAIN') {
    // [authzid] NUL authcid NUL passwd
    const parts = response.toString('utf8').split('\0');
    if (parts.length !== 3) return undefined;
    return { user: parts[1] ?? '', password: parts[2] ?? '' };
  }
  if (mechanism === 'AMQPLAIN') {
    // A field table without its 4-byte length prefix.
    const framed = Buffer.allocUnsafe(response.length + 4);
    framed.writeUInt32BE(response.length, 0);
    response.copy(framed, 4);
    try {
      const { table } = decodeTable(framed, 0);
      const user = table['LOGIN'];
      const password = table['PASSWORD'];
      if (typeof user !== 'string' || typeof password !== 'string') return undefined;
      return { user, password };
    } catch {
      return undefined;
    }
  }
  throw new AmqpError(ReplyCode.AccessRefused,
    `unsupported authentication mechanism '${mechanism}'`, 10, 11);
}

/** Why a login was refused: for the broker log only, the client is told less. */
export type LoginFailure = 'malformed credentials' | 'unknown user' | 'bad password' | 'user may only connect via localhost (loopback_users)';

/** RabbitMQ's refusal of connection.start-ok (403 ACCESS_REFUSED), carrying the reason for the log. */
export class LoginRefused extends AmqpError {
  constructor(mechanism: string, readonly reason: LoginFailure) {
    super(ReplyCode.AccessRefused,
      `Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`, 10, 11);
  }

  /** A refusal a metadata view that trails could give for a user created, or a password changed, elsewhere. */
  get mayBeStale(): boolean {
    return this.reason === 'unknown user' || this.reason === 'bad password';
  }
}
