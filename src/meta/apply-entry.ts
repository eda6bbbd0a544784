// Applying one committed metadata command on a replica — the metadata group's (src/node/meta-group.ts)
// or a frontend's cache (src/cluster/meta-cache.ts) — with one rule for failures: they are the
// command's outcome, never an exception out of apply. A refusal (AmqpError) is what the machine
// decided before changing anything. Anything else is a defect met by this command: every replica
// runs the same code on the same bytes and meets it the same way, so the group goes on (answered
// 541 INTERNAL_ERROR) instead of stopping on every replica at once; the machine may have changed
// part way, the same on every replica, so the caller must not assume it did not.
import { AmqpError, ReplyCode } from '../amqp/errors.js';
import { decodeMeta } from './codec.js';
import type { MetaMachine } from './machine.js';
import type { MetaCommand, MetaResult } from './types.js';

export type AppliedCommand =
  | { readonly kind: 'applied'; readonly command: MetaCommand; readonly result: MetaResult }
  | { readonly kind: 'refused'; readonly error: AmqpError }
  | { readonly kind: 'failed'; readonly error: AmqpError; readonly cause: unknown };

export function applyCommand(machine: MetaMachine, bytes: Uint8Array): AppliedCommand {
  let command: MetaCommand | undefined;
  try {
    command = decodeMeta<MetaCommand>(bytes);
    return { kind: 'applied', command, result: machine.apply(command) };
  } catch (err) {
    if (err instanceof AmqpError) return { kind: 'refused', error: err };
    const what = command === undefined ? 'an undecodable metadata command' : `metadata command '${String(command.type)}'`;
    const detail = err instanceof Error ? err.message : String(err);
    return { kind: 'failed', error: new AmqpError(ReplyCode.InternalError, `${what} failed: ${detail}`), cause: err };
  }
}
