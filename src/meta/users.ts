// Users, password hashes and permissions, as RabbitMQ's internal auth backend.
//
// Password hashes use rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ utf8(password)))
// with a 4-byte salt. The salt is an input (the machine draws no randomness): whoever proposes a
// user.put draws it and hashes with hashPassword(), so the log never carries a plain password.
//
// Permission regexes follow rabbit_auth_backend_internal:check_resource_access: the pattern is run
// with re:run against the resource name, i.e. an unanchored search — "^amq\." and "^(a|b)$" anchor
// themselves, "foo" matches "xfooy". The empty pattern means "^$" (matches no real name).

import { createHash, timingSafeEqual } from 'node:crypto';
import { AmqpError, ReplyCode } from '../amqp/errors.js';
import type { Access, PermissionRecord, UserRecord } from './types.js';

export const SALT_BYTES = 4;

export function hashPassword(password: string, salt: Uint8Array): string {
  if (salt.length !== SALT_BYTES) throw new RangeError(`salt must be ${SALT_BYTES} bytes`);
  const digest = createHash('sha256').update(salt).update(password, 'utf8').digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

/** Checks `password` against a stored hash in constant time (for equal-length digests). */
export function verifyPassword(passwordHash: string, password: string): boolean {
  const stored = Buffer.from(passwordHash, 'base64');
  if (stored.length !== SALT_BYTES + 32) return false;
  const salt = stored.subarray(0, SALT_BYTES);
  const digest = createHash('sha256').update(salt).update(password, 'utf8').digest();
  return timingSafeEqual(digest, stored.subarray(SALT_BYTES));
}

/** A permission record with its regexes compiled once (applied at permissions.set, reused per check). */
export interface CompiledPermission {
  readonly record: PermissionRecord;
  readonly configure: RegExp;
  readonly write: RegExp;
  readonly read: RegExp;
}

function compilePattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern === '' ? '^$' : pattern);
  } catch {
    throw new AmqpError(ReplyCode.PreconditionFailed, `invalid regexp '${pattern}'`);
  }
}

export function compilePermission(record: PermissionRecord): CompiledPermission {
  return {
    record,
    configure: compilePattern(record.configure),
    write: compilePattern(record.write),
    read: compilePattern(record.read),
  };
}

export function permits(p: CompiledPermission, access: Access, name: string): boolean {
  return p[access].test(name);
}

export type { UserRecord };
