// How a cluster frontend names its management API to the others (src/node/other-frontends.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advertisedHttpUrl } from '../../../src/node/other-frontends.js';

test('the advertised host wins, then a single bound address, then the host name; IPv6 in brackets', () => {
  assert.equal(advertisedHttpUrl(['::'], 15672, '10.1.2.3', 'pod-a'), 'http://10.1.2.3:15672');
  assert.equal(advertisedHttpUrl(['127.0.0.1'], 26707, undefined, 'box'), 'http://127.0.0.1:26707');
  assert.equal(advertisedHttpUrl(['::'], 15672, '', 'box'), 'http://box:15672');
  assert.equal(advertisedHttpUrl(['0.0.0.0'], 15672, undefined, 'box'), 'http://box:15672');
  assert.equal(advertisedHttpUrl(['::1'], 15672, undefined, 'box'), 'http://[::1]:15672');
  assert.equal(advertisedHttpUrl(['::'], 15672, 'fd00::7', 'box'), 'http://[fd00::7]:15672');
});

test('a port chosen at start is not known when the lease is opened: nothing is advertised', () => {
  assert.equal(advertisedHttpUrl(['127.0.0.1'], 0, '10.1.2.3', 'box'), '');
});
