// Validation of what clients send to the management API, in one place: the PUT routes (routes.ts)
// and the definitions import (definitions.ts) run the same checks, so whatever one accepts the other
// accepts too. Every check throws AdminError 400 with a reason that names the offending field; the
// definitions import prefixes the entry ("queues[3]: ..."). Checks that need the broker's state
// (does the vhost exist, is a redeclaration equivalent) are the source's, not these.
import { AmqpError } from '../amqp/errors.js';
import type { FieldTable, FieldValue } from '../amqp/table.js';
import { validateQueueArgs } from '../meta/queue-args.js';
import { isExchangeType } from '../routing/types.js';
import { AdminError, MANAGEMENT_TAGS, SHA256_HASHING, type PermissionSpec, type UserUpdate } from './source.js';

const bad = (reason: string): AdminError => AdminError.badRequest(reason);

/** RabbitMQ's tags with a meaning; others are accepted (RabbitMQ treats tags as free-form) but reported on import. */
export const KNOWN_TAGS: readonly string[] = [...MANAGEMENT_TAGS, 'impersonator'];

/** A sha256 password hash: base64 of a 4-byte salt and a 32-byte digest (see src/meta/users.ts). */
const SHA256_HASH_BYTES = 36;

export function asObject(v: unknown, what = 'body'): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${what} must be a JSON object`);
  return Object.fromEntries(Object.entries(v));
}

export function optString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(`${key} must be a string`);
  return v;
}

export function reqString(o: Record<string, unknown>, key: string, allowEmpty = false): string {
  const v = optString(o, key);
  if (v === undefined) throw bad(`${key} is mandatory`);
  if (!allowEmpty && v === '') throw bad(`${key} must not be empty`);
  return v;
}

export function reqBool(o: Record<string, unknown>, key: string, fallback?: boolean): boolean {
  const v = o[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (v === undefined) throw bad(`${key} is mandatory`);
  if (typeof v !== 'boolean') throw bad(`${key} must be true or false`);
  return v;
}

/** RabbitMQ accepts tags as "a,b" or ["a","b"]; each tag is trimmed and must be a non-empty word. */
export function parseTags(v: unknown): string[] {
  if (v === undefined || v === null || v === '') return [];
  const raw = typeof v === 'string' ? v.split(',') : isStringArray(v) ? v : undefined;
  if (raw === undefined) throw bad('tags must be a comma-separated string or an array of strings');
  const tags = raw.map((t) => t.trim()).filter((t) => t !== '');
  for (const t of tags) {
    if (!/^[\x21-\x7e]{1,255}$/.test(t) || t.includes(',')) throw bad(`invalid tag '${t}'`);
  }
  return tags;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((t: unknown) => typeof t === 'string');
}

export function unknownTags(tags: readonly string[]): string[] {
  return tags.filter((t) => !KNOWN_TAGS.includes(t));
}

/**
 * hashing_algorithm and password_hash. Warren verifies rabbit_password_hashing_sha256 only, so a
 * hash of another algorithm (which RabbitMQ would accept) is refused rather than stored as a user
 * who can never log in. '' is RabbitMQ's "no password".
 */
export function checkPasswordHash(hash: string, algorithm: string | undefined): void {
  if (algorithm !== undefined && algorithm !== SHA256_HASHING) {
    throw bad(`unsupported hashing_algorithm '${algorithm}': Warren supports ${SHA256_HASHING} only`);
  }
  if (hash === '') return;
  const bytes = /^[A-Za-z0-9+/]*={0,2}$/.test(hash) && hash.length % 4 === 0 ? Buffer.from(hash, 'base64') : undefined;
  if (bytes === undefined || bytes.length !== SHA256_HASH_BYTES) {
    throw bad(`password_hash is not a ${SHA256_HASHING} hash (base64 of ${SHA256_HASH_BYTES} bytes)`);
  }
}

/** PUT /api/users/{name} and a definitions user, with RabbitMQ's reasons where it has them. */
export function userUpdate(body: unknown): UserUpdate {
  const o = asObject(body);
  if (!('tags' in o)) throw bad('tags_not_present');
  const password = optString(o, 'password');
  const passwordHash = optString(o, 'password_hash');
  if (password !== undefined && passwordHash !== undefined) throw bad('both_password_and_password_hash_are_provided');
  const algorithm = optString(o, 'hashing_algorithm');
  if (passwordHash !== undefined) checkPasswordHash(passwordHash, algorithm);
  else if (algorithm !== undefined) checkPasswordHash('', algorithm);
  return {
    tags: parseTags(o['tags']),
    ...(password !== undefined ? { password } : {}),
    ...(passwordHash !== undefined ? { password_hash: passwordHash } : {}),
  };
}

/**
 * A permission pattern: a JavaScript regular expression run unanchored against resource names,
 * '' meaning "nothing" (how src/meta/users.ts compiles them).
 */
function pattern(o: Record<string, unknown>, key: 'configure' | 'write' | 'read'): string {
  const v = reqString(o, key, true);
  try {
    new RegExp(v === '' ? '^$' : v);
  } catch (err) {
    throw bad(`invalid_regexp: ${key} '${v}': ${(err as Error).message}`);
  }
  return v;
}

export function permissionSpec(body: unknown): PermissionSpec {
  const o = asObject(body);
  return { configure: pattern(o, 'configure'), write: pattern(o, 'write'), read: pattern(o, 'read') };
}

export function vhostOptions(body: unknown): { description?: string; tags?: readonly string[] } {
  const o = asObject(body);
  const description = optString(o, 'description');
  return { ...(description !== undefined ? { description } : {}), ...('tags' in o ? { tags: parseTags(o['tags']) } : {}) };
}

export function exchangeType(o: Record<string, unknown>): string {
  const type = reqString(o, 'type');
  // RabbitMQ's rabbit_exchange:check_type text.
  if (!isExchangeType(type)) throw bad(`unknown exchange type '${type}'`);
  return type;
}

function fieldValue(v: unknown, key: string): FieldValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map((x: unknown) => fieldValue(x, key));
  if (typeof v === 'object') return fieldTable(v, key);
  throw bad(`arguments: unsupported value for '${key}'`);
}

/** JSON arguments as an AMQP field table (fromEntries: a "__proto__" key stays an ordinary key). */
function fieldTable(v: object, where: string): FieldTable {
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fieldValue(x, where === '' ? k : where)]));
}

/** An optional `arguments` object ({} when absent). */
export function argumentsTable(o: Record<string, unknown>): FieldTable {
  const v = o['arguments'];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw bad('arguments must be a JSON object');
  return fieldTable(v, '');
}

/** Queue arguments, checked by the broker's own rules (src/meta/queue-args.ts) with its texts. */
export function queueArguments(name: string, vhost: string, args: FieldTable): void {
  try {
    validateQueueArgs(name, vhost, args);
  } catch (err) {
    if (err instanceof AmqpError) throw bad(amqpDetail(err));
    throw err;
  }
}

/** "PRECONDITION_FAILED - invalid arg ..." → "invalid arg ...": HTTP clients get the detail only. */
export function amqpDetail(err: AmqpError): string {
  return err.message.replace(/^[A-Z_]+ - /, '');
}
