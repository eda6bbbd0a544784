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

export function loginRefused(mechanism: string): AmqpError {
  return new AmqpError(ReplyCode.AccessRefused,
    `Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`, 10, 11);
}
