// validateDefinitions: a whole definitions document checked without a broker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_REPORTED_ERRORS, validateDefinitions } from '../../../src/admin/definitions.js';
import { AdminError } from '../../../src/admin/source.js';

const queue = (name: string, args: Record<string, unknown> = {}) => ({ name, vhost: '/', durable: true, auto_delete: false, arguments: args });

function reasonOf(body: unknown): string {
  try {
    validateDefinitions(body);
  } catch (err) {
    assert.ok(err instanceof AdminError);
    assert.equal(err.status, 400);
    return err.message;
  }
  return assert.fail('expected a 400');
}

test('a valid document becomes a typed plan with defaults and entry positions', () => {
  const { plan, warnings } = validateDefinitions({
    queues: [queue('a', { 'x-max-length': 5 })],
    exchanges: [{ name: 'x', vhost: '/', type: 'topic', durable: true, auto_delete: false }],
    bindings: [{ source: 'x', vhost: '/', destination: 'a', destination_type: 'queue' }],
    users: [{ name: 'u', password_hash: '', tags: 'management,custom' }],
  });
  assert.deepEqual(plan.queues, [{ name: 'a', vhost: '/', durable: true, autoDelete: false, arguments: { 'x-max-length': 5 }, at: 'queues[0]' }]);
  assert.deepEqual(plan.exchanges[0], { vhost: '/', name: 'x', type: 'topic', durable: true, autoDelete: false, internal: false, arguments: {}, at: 'exchanges[0]' });
  assert.equal(plan.bindings[0]?.routingKey, '');
  assert.deepEqual(plan.users[0], { name: 'u', tags: ['management', 'custom'], passwordHash: '', at: 'users[0]' });
  assert.deepEqual(warnings, ["users[0]: tags 'custom' have no meaning in Warren (kept)"]);
});

test('server-named queues are planned; other amq.* names and the default exchange are skipped with a warning', () => {
  const { plan, warnings } = validateDefinitions({
    queues: [queue('amq.gen-abc'), queue('amq.other'), queue('amq.gen-')],
    exchanges: [{ name: '', vhost: '/', type: 'direct', durable: true, auto_delete: false }],
  });
  assert.deepEqual(plan.queues.map((q) => q.name), ['amq.gen-abc']);
  assert.deepEqual(warnings, [
    "exchanges[0]: the default exchange is not imported",
    "queues[1]: queue 'amq.other' not imported: names starting with 'amq.' are reserved",
    "queues[2]: queue 'amq.gen-' not imported: names starting with 'amq.' are reserved",
  ]);
});

test('an argument named __proto__ stays an ordinary key', () => {
  const { plan } = validateDefinitions(JSON.parse('{"queues":[{"name":"q","vhost":"/","durable":true,"auto_delete":false,"arguments":{"__proto__":{"x":1}}}]}'));
  const args = plan.queues[0]?.arguments ?? {};
  assert.deepEqual(Object.keys(args), ['__proto__']);
  assert.equal(Object.getPrototypeOf(args), Object.prototype);
});

test('sections must be arrays, entries objects; mandatory fields are named', () => {
  assert.equal(reasonOf({ queues: {} }), 'queues: must be an array');
  assert.equal(reasonOf({ vhosts: ['x'] }), 'vhosts[0]: entry must be a JSON object');
  assert.equal(reasonOf({ queues: [{ name: 'q', vhost: '/', auto_delete: false }] }), 'queues[0]: durable is mandatory');
  assert.equal(reasonOf({ permissions: [{ user: 'u', vhost: '/', configure: '', write: '' }] }), 'permissions[0]: read is mandatory');
  assert.equal(reasonOf({ queues: [{ ...queue('q'), arguments: [1] }] }), 'queues[0]: arguments must be a JSON object');
  assert.equal(reasonOf([]), 'body must be a JSON object');
});

test('at most MAX_REPORTED_ERRORS entries are listed, with a count of the rest', () => {
  const queues = Array.from({ length: MAX_REPORTED_ERRORS + 3 }, (_, i) => queue(`q${i}`, { 'x-expires': 0 }));
  const reason = reasonOf({ queues });
  assert.equal(reason.split('; ').length, MAX_REPORTED_ERRORS + 1);
  assert.match(reason, /; and 3 more$/);
});
