// POST /api/definitions, first half: a RabbitMQ definitions document checked as a whole, without
// touching the broker, into an ImportPlan the source applies all-or-nothing. Every entry gets the
// same checks as the matching PUT route (validate.ts); all failures are collected and reported in
// one 400, each prefixed with its entry ("queues[3]: invalid arg 'x-message-ttl' ...").
//
// What is not imported is reported, never dropped silently: sections Warren has no equivalent of
// (policies, parameters, global_parameters, topic_permissions, unknown ones) when non-empty, and
// entries RabbitMQ itself skips (the default exchange, 'amq.*' names other than server-named
// 'amq.gen-' queues, which Warren does import so that an export round-trips).
import { SERVER_NAMED_PREFIX } from '../meta/queues.js';
import {
  AdminError, type ImportPlan, type Located, type PermissionInfo, type PlannedBinding, type PlannedExchange,
  type PlannedQueue, type PlannedUser,
} from './source.js';
import {
  argumentsTable, asObject, exchangeType, optString, permissionSpec, queueArguments, reqBool, reqString,
  unknownTags, userUpdate,
} from './validate.js';

/** At most this many entry errors are listed in one answer. */
export const MAX_REPORTED_ERRORS = 20;

/** Top-level keys describing the exporting broker, not definitions. */
const METADATA_KEYS = ['rabbit_version', 'rabbitmq_version', 'product_name', 'product_version'];

const UNSUPPORTED: Readonly<Record<string, string>> = {
  policies: 'Warren has no policies yet',
  parameters: 'Warren has no runtime parameters (federation, shovel, limits)',
  global_parameters: 'Warren has no global parameters',
  topic_permissions: 'Warren has no topic permissions',
};

export interface ValidatedDefinitions {
  readonly plan: ImportPlan;
  readonly warnings: readonly string[];
}

/** Per entry: the planned value, null for an entry skipped with a warning; throws AdminError when invalid. */
type EntryCheck<T> = (o: Record<string, unknown>, warn: (text: string) => void) => T | null;

class Collector {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  section<T>(doc: Record<string, unknown>, key: string, check: EntryCheck<T>): Array<Located<T>> {
    const list = doc[key];
    if (list === undefined || list === null) return [];
    if (!Array.isArray(list)) { this.errors.push(`${key}: must be an array`); return []; }
    const out: Array<Located<T>> = [];
    list.forEach((entry: unknown, i: number) => {
      const at = `${key}[${i}]`;
      try {
        const value = check(asObject(entry, 'entry'), (text) => this.warnings.push(`${at}: ${text}`));
        if (value !== null) out.push({ ...value, at });
      } catch (err) {
        if (!(err instanceof AdminError)) throw err;
        this.errors.push(`${at}: ${err.message}`);
      }
    });
    return out;
  }
}

/** Validates a whole document; throws AdminError 400 listing every invalid entry. */
export function validateDefinitions(body: unknown): ValidatedDefinitions {
  const doc = asObject(body);
  const c = new Collector();
  const plan: ImportPlan = {
    users: c.section(doc, 'users', checkUser),
    vhosts: c.section(doc, 'vhosts', checkVhost),
    permissions: c.section(doc, 'permissions', checkPermission),
    exchanges: c.section(doc, 'exchanges', checkExchange),
    queues: c.section(doc, 'queues', checkQueue),
    bindings: c.section(doc, 'bindings', checkBinding),
  };
  for (const [key, value] of Object.entries(doc)) {
    if (METADATA_KEYS.includes(key) || key in plan || isEmpty(value)) continue;
    const count = Array.isArray(value) ? `${value.length} ${value.length === 1 ? 'entry' : 'entries'} ` : '';
    c.warnings.push(`${key}: ${count}not imported (${UNSUPPORTED[key] ?? 'unknown section'})`);
  }
  if (c.errors.length > 0) {
    const more = c.errors.length > MAX_REPORTED_ERRORS ? `; and ${c.errors.length - MAX_REPORTED_ERRORS} more` : '';
    throw AdminError.badRequest(c.errors.slice(0, MAX_REPORTED_ERRORS).join('; ') + more);
  }
  return { plan, warnings: c.warnings };
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

const checkUser: EntryCheck<PlannedUser> = (o, warn) => {
  const name = reqString(o, 'name');
  const u = userUpdate(o);
  const unknown = unknownTags(u.tags);
  if (unknown.length > 0) warn(`tags ${unknown.map((t) => `'${t}'`).join(', ')} have no meaning in Warren (kept)`);
  if (!isEmpty(o['limits'])) warn('limits not imported (Warren has no user limits)');
  return {
    name, tags: u.tags,
    ...(u.password !== undefined ? { password: u.password } : { passwordHash: u.password_hash ?? '' }),
  };
};

const checkVhost: EntryCheck<{ name: string }> = (o, warn) => {
  const name = reqString(o, 'name');
  const dropped = ['description', 'tags', 'metadata', 'limits', 'default_queue_type'].filter((k) => !isEmpty(o[k]));
  if (dropped.length > 0) warn(`${dropped.join(', ')} not imported (Warren keeps vhost names only)`);
  return { name };
};

const checkPermission: EntryCheck<PermissionInfo> = (o) =>
  ({ user: reqString(o, 'user'), vhost: reqString(o, 'vhost'), ...permissionSpec(o) });

const checkExchange: EntryCheck<PlannedExchange> = (o, warn) => {
  const name = reqString(o, 'name', true);
  const x: PlannedExchange = {
    vhost: reqString(o, 'vhost'), name, type: exchangeType(o), durable: reqBool(o, 'durable'),
    autoDelete: reqBool(o, 'auto_delete'), internal: reqBool(o, 'internal', false), arguments: argumentsTable(o),
  };
  const ae = x.arguments['alternate-exchange'];
  if (ae !== undefined && typeof ae !== 'string') throw AdminError.badRequest('alternate-exchange must be a string');
  // rabbit_definitions:add_exchange_int skips these the same way.
  if (name === '') { warn('the default exchange is not imported'); return null; }
  if (name.startsWith('amq.')) { warn(`exchange '${name}' not imported: names starting with 'amq.' are reserved`); return null; }
  return x;
};

const checkQueue: EntryCheck<PlannedQueue> = (o, warn) => {
  const q: PlannedQueue = {
    name: reqString(o, 'name'), vhost: reqString(o, 'vhost'), durable: reqBool(o, 'durable'),
    autoDelete: reqBool(o, 'auto_delete'), arguments: argumentsTable(o),
  };
  queueArguments(q.name, q.vhost, q.arguments);
  if (o['exclusive'] === true) warn('exclusive is not a definition: imported as a non-exclusive queue');
  // RabbitMQ 3.10 skips every 'amq.*' queue; Warren imports server-named ones so exports round-trip.
  if (q.name.startsWith('amq.') && !(q.name.startsWith(SERVER_NAMED_PREFIX) && q.name.length > SERVER_NAMED_PREFIX.length)) {
    warn(`queue '${q.name}' not imported: names starting with 'amq.' are reserved`);
    return null;
  }
  return q;
};

const checkBinding: EntryCheck<PlannedBinding> = (o, warn) => {
  const kind = reqString(o, 'destination_type');
  if (kind !== 'queue' && kind !== 'exchange') throw AdminError.badRequest(`destination_type must be 'queue' or 'exchange'`);
  const b: PlannedBinding = {
    vhost: reqString(o, 'vhost'), source: reqString(o, 'source', true), destination: reqString(o, 'destination'),
    destinationType: kind, routingKey: optString(o, 'routing_key') ?? '', arguments: argumentsTable(o),
  };
  if (b.source === '') { warn('bindings of the default exchange are implicit: not imported'); return null; }
  return b;
};
