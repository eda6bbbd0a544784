// The metadata group's records as stored under its keys (src/node/meta-group.ts), and which keys a
// command changed. Values are src/meta/codec.ts JSON, compared as strings.
//
// Keys (relative to the group's prefix):
//   init                      written once: the keys, not the defaults, are the state
//   v/<vhost>                 a vhost
//   u/<user>                  UserRecord
//   p/<user>\0<vhost>         PermissionRecord
//   x/<vhost>\0<exchange>     ExchangeRecord
//   q/<vhost>\0<queue>        QueueRecord
//   b/<binding id>            BindingRecord
//   s                         SessionsSnapshot: the open frontend leases and the next lease number
//   placement                 PlacementRecord: the partitions' replicas and their epoch (a cluster's)
//
// Every record is stored, durable or not: the keys are what a replica restarts from and what a
// lagging replica is sent as a snapshot, so a replica that kept only the durable part would differ
// from the others for as long as the transient records live (and answer commands about them
// differently). What "non-durable" means is decided by who removes them: the embedded broker
// proposes `transient.purge` when it starts (as RabbitMQ drops them with its node), exclusive
// queues go with their connection or their frontend's session.
import { decodeMeta, encodeMeta } from '../meta/codec.js';
import type { MetaMachine, MetaSnapshot } from '../meta/machine.js';
import type { PlacementRecord } from '../meta/placement.js';
import type { SessionsSnapshot } from '../meta/sessions.js';
import type {
  BindingRecord, ExchangeRecord, MetaCommand, MetaResult, PermissionRecord, QueueRecord, UserRecord,
} from '../meta/types.js';

export const INIT_KEY = 'init';
const SESSIONS_KEY = 's';
const PLACEMENT_KEY = 'placement';

const encode = (value: unknown): string => Buffer.from(encodeMeta(value)).toString('utf8');

const vhostKey = (name: string): string => `v/${name}`;
const userKey = (name: string): string => `u/${name}`;
const permissionKey = (user: string, vhost: string): string => `p/${user}\0${vhost}`;
const exchangeKey = (vhost: string, name: string): string => `x/${vhost}\0${name}`;
const queueKey = (vhost: string, name: string): string => `q/${vhost}\0${name}`;
function bindingKey(b: BindingRecord): string {
  const args = Buffer.from(encodeMeta({ arguments: b.arguments })).toString('base64');
  return `b/${b.vhost}\0${b.source}\0${b.destinationKind}\0${b.destination}\0${b.routingKey}\0${args}`;
}

/** The leases' record; none until a lease was ever opened. */
function sessionsRecord(s: SessionsSnapshot | undefined): string | undefined {
  return s !== undefined && s.nextLease > 1 ? encode(s) : undefined;
}

/** Every record of a state, keyed as stored. */
export function recordsOf(s: MetaSnapshot): Map<string, string> {
  const out = new Map<string, string>();
  out.set(INIT_KEY, encode(1));
  for (const v of s.vhosts) out.set(vhostKey(v), encode(v));
  for (const u of s.users) out.set(userKey(u.name), encode(u));
  for (const p of s.permissions) out.set(permissionKey(p.user, p.vhost), encode(p));
  for (const x of s.exchanges) out.set(exchangeKey(x.vhost, x.name), encode(x));
  for (const q of s.queues) out.set(queueKey(q.vhost, q.name), encode(q));
  for (const b of s.bindings) out.set(bindingKey(b), encode(b));
  const sessions = sessionsRecord(s.sessions);
  if (sessions !== undefined) out.set(SESSIONS_KEY, sessions);
  if (s.placement !== undefined) out.set(PLACEMENT_KEY, encode(s.placement));
  return out;
}

export function snapshotFrom(records: ReadonlyMap<string, string>): MetaSnapshot {
  const vhosts: string[] = [];
  const users: UserRecord[] = [];
  const permissions: PermissionRecord[] = [];
  const exchanges: ExchangeRecord[] = [];
  const queues: QueueRecord[] = [];
  const bindings: BindingRecord[] = [];
  let sessions: SessionsSnapshot | undefined;
  let placement: PlacementRecord | undefined;
  for (const [key, value] of records) {
    const v = decodeMeta<unknown>(Buffer.from(value));
    if (key === SESSIONS_KEY) {
      sessions = v as SessionsSnapshot;
      continue;
    }
    if (key === PLACEMENT_KEY) {
      placement = v as PlacementRecord;
      continue;
    }
    switch (key.slice(0, 2)) {
      case 'v/': vhosts.push(v as string); break;
      case 'u/': users.push(v as UserRecord); break;
      case 'p/': permissions.push(v as PermissionRecord); break;
      case 'x/': exchanges.push(v as ExchangeRecord); break;
      case 'q/': queues.push(v as QueueRecord); break;
      case 'b/': bindings.push(v as BindingRecord); break;
      default: break;
    }
  }
  return { vhosts, users, permissions, exchanges, queues, bindings, ...(sessions ? { sessions } : {}), ...(placement ? { placement } : {}) };
}

/** One key's record now: its stored value, or undefined when it is gone. */
export type KeyRead = (m: MetaMachine) => string | undefined;

/**
 * The keys an applied command changed, each with how to read its record now; undefined when the
 * command can change records beyond the ones it names (cascades: deletes, purges, batches), and
 * the whole state must be compared with the keys instead (a new vhost brings its default exchanges).
 * The frequent commands (declares, binds, leases, users, permissions) are answered here, so their
 * cost does not grow with the state.
 */
export function changedKeys(cmd: MetaCommand, result: MetaResult): Map<string, KeyRead> | undefined {
  const one = (key: string, read: KeyRead): Map<string, KeyRead> => new Map([[key, read]]);
  switch (cmd.type) {
    case 'user.put':
      return one(userKey(cmd.name), (m) => opt(m.getUser(cmd.name)));
    case 'permissions.set':
    case 'permissions.clear':
      return one(permissionKey(cmd.user, cmd.vhost), (m) => opt(m.getPermission(cmd.user, cmd.vhost)));
    case 'exchange.declare':
      return one(exchangeKey(cmd.vhost, cmd.name), (m) => opt(m.getExchange(cmd.vhost, cmd.name)));
    case 'queue.declare': {
      // A server-named queue's name is in the result.
      const name = result.queue?.name ?? cmd.name;
      return one(queueKey(cmd.vhost, name), (m) => opt(m.getQueue(cmd.vhost, name)));
    }
    case 'binding.add': {
      const b: BindingRecord = {
        vhost: cmd.vhost, source: cmd.source, destinationKind: cmd.destinationKind, destination: cmd.destination,
        routingKey: cmd.routingKey, arguments: cmd.arguments,
      };
      return one(bindingKey(b), (m) => opt(m.findBinding(b)));
    }
    case 'session.open':
    case 'session.end':
      return one(SESSIONS_KEY, (m) => sessionsRecord(m.sessions.snapshot()));
    case 'placement.set':
      return one(PLACEMENT_KEY, (m) => opt(m.placement));
    default:
      return undefined;
  }
}

const opt = (record: unknown): string | undefined => (record === undefined ? undefined : encode(record));
