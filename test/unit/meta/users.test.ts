// Users, password hashes, vhost access and resource permissions (rabbit_access_control semantics).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { MetaMachine } from '../../../src/meta/machine.js';
import { hashPassword, verifyPassword } from '../../../src/meta/users.js';
import { throwsAmqp } from './helpers.js';

const SALT = Uint8Array.of(1, 2, 3, 4);

function withBob(perms?: { configure: string; write: string; read: string }, vhost = '/'): MetaMachine {
  const m = new MetaMachine();
  m.apply({ type: 'user.put', name: 'bob', passwordHash: hashPassword('secret', SALT), tags: [] });
  if (perms) m.apply({ type: 'permissions.set', user: 'bob', vhost, ...perms });
  return m;
}

describe('password hashes', () => {
  test('rabbit_password_hashing_sha256 layout: base64(salt ++ sha256(salt ++ password))', () => {
    const h = Buffer.from(hashPassword('s3cret', SALT), 'base64');
    assert.equal(h.length, 36);
    assert.deepEqual([...h.subarray(0, 4)], [1, 2, 3, 4]);
    const expected = createHash('sha256').update(Buffer.from([1, 2, 3, 4, ...Buffer.from('s3cret')])).digest();
    assert.deepEqual(h.subarray(4), expected);
    assert.equal(verifyPassword(h.toString('base64'), 's3cret'), true);
    assert.equal(verifyPassword(h.toString('base64'), 's3creT'), false);
    assert.equal(verifyPassword('garbage', 's3cret'), false);
  });

  test('different salts give different hashes for the same password', () => {
    assert.notEqual(hashPassword('p', SALT), hashPassword('p', Uint8Array.of(9, 9, 9, 9)));
  });
});

describe('users', () => {
  test('default guest/guest: administrator, loopback only, full permissions on /', () => {
    const m = new MetaMachine();
    const g = m.authenticate('guest', 'guest');
    assert.ok(g);
    assert.deepEqual(g.tags, ['administrator']);
    assert.equal(g.loopbackOnly, true);
    assert.equal(m.authenticate('guest', 'wrong'), undefined);
    assert.equal(m.authenticate('nobody', 'guest'), undefined);
    m.checkVhostAccess('guest', '/');
    m.checkPermission('guest', '/', 'configure', 'queue', 'anything');
  });

  test('the default user can be disabled or replaced', () => {
    assert.equal(new MetaMachine({ defaultUser: null }).authenticate('guest', 'guest'), undefined);
    const m = new MetaMachine({ defaultUser: { name: 'admin', password: 'pw', salt: SALT, loopbackOnly: false } });
    assert.equal(m.authenticate('admin', 'pw')?.loopbackOnly, false);
  });

  test('user.delete removes the user and its permissions', () => {
    const m = withBob({ configure: '.*', write: '.*', read: '.*' });
    assert.ok(m.authenticate('bob', 'secret'));
    m.apply({ type: 'user.delete', name: 'bob' });
    assert.equal(m.authenticate('bob', 'secret'), undefined);
    throwsAmqp(() => m.checkVhostAccess('bob', '/'), 530, "NOT_ALLOWED - access to vhost '/' refused for user 'bob'");
  });
});

describe('vhost access', () => {
  test('530 without permissions on the vhost, or for a missing vhost', () => {
    const m = withBob();
    throwsAmqp(() => m.checkVhostAccess('bob', '/'), 530, "NOT_ALLOWED - access to vhost '/' refused for user 'bob'");
    throwsAmqp(() => m.checkVhostAccess('guest', '/v'), 530, 'NOT_ALLOWED - vhost /v not found');
    m.apply({ type: 'vhost.add', name: '/v' });
    m.apply({ type: 'permissions.set', user: 'bob', vhost: '/v', configure: '', write: '', read: '' });
    m.checkVhostAccess('bob', '/v');
  });
});

describe('resource permissions', () => {
  test('403 texts for queues and exchanges', () => {
    const m = withBob({ configure: '^own-.*', write: '', read: '.*' });
    m.checkPermission('bob', '/', 'configure', 'queue', 'own-q');
    throwsAmqp(() => m.checkPermission('bob', '/', 'configure', 'queue', 'q'), 403,
      "ACCESS_REFUSED - access to queue 'q' in vhost '/' refused for user 'bob'");
    throwsAmqp(() => m.checkPermission('bob', '/', 'write', 'exchange', 'x'), 403,
      "ACCESS_REFUSED - access to exchange 'x' in vhost '/' refused for user 'bob'");
  });

  test('patterns are unanchored searches, as re:run; the empty pattern matches no name', () => {
    const m = withBob({ configure: 'foo', write: '^(a|b)$', read: '' });
    m.checkPermission('bob', '/', 'configure', 'queue', 'xfooy');
    m.checkPermission('bob', '/', 'write', 'queue', 'a');
    throwsAmqp(() => m.checkPermission('bob', '/', 'write', 'queue', 'ab'), 403,
      "ACCESS_REFUSED - access to queue 'ab' in vhost '/' refused for user 'bob'");
    throwsAmqp(() => m.checkPermission('bob', '/', 'read', 'queue', 'q'), 403,
      "ACCESS_REFUSED - access to queue 'q' in vhost '/' refused for user 'bob'");
  });

  test("the default exchange is checked and reported as 'amq.default'", () => {
    const m = withBob({ configure: '', write: '^amq\\.default$', read: '' });
    m.checkPermission('bob', '/', 'write', 'exchange', '');
    throwsAmqp(() => m.checkPermission('bob', '/', 'read', 'exchange', ''), 403,
      "ACCESS_REFUSED - access to exchange 'amq.default' in vhost '/' refused for user 'bob'");
  });

  test('permissions are per vhost; cleared permissions refuse', () => {
    const m = withBob({ configure: '.*', write: '.*', read: '.*' });
    m.apply({ type: 'vhost.add', name: '/v' });
    throwsAmqp(() => m.checkPermission('bob', '/v', 'read', 'queue', 'q'), 403,
      "ACCESS_REFUSED - access to queue 'q' in vhost '/v' refused for user 'bob'");
    m.apply({ type: 'permissions.clear', user: 'bob', vhost: '/' });
    throwsAmqp(() => m.checkPermission('bob', '/', 'read', 'queue', 'q'), 403,
      "ACCESS_REFUSED - access to queue 'q' in vhost '/' refused for user 'bob'");
  });

  test('permissions.set rejects unknown users and bad regexes without changing anything', () => {
    const m = withBob({ configure: '.*', write: '.*', read: '.*' });
    throwsAmqp(() => m.apply({ type: 'permissions.set', user: 'bob', vhost: '/', configure: '(', write: '', read: '' }), 406,
      "PRECONDITION_FAILED - invalid regexp '('");
    m.checkPermission('bob', '/', 'configure', 'queue', 'q');
    throwsAmqp(() => m.apply({ type: 'permissions.set', user: 'zed', vhost: '/', configure: '', write: '', read: '' }), 404,
      "NOT_FOUND - no user 'zed'");
  });
});
