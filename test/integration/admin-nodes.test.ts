// GET /api/nodes as RabbitMQ 3.10's management API answers it, for monitoring users and
// administrators: the node's name, pid, uptime, memory against its limit and alarm, free disk,
// file descriptors, sockets and processors. On a cluster (through any frontend): both frontends
// with their own figures, and the three owners with the figures each reports of itself (Warren
// only: the reference RabbitMQ runs without its management plugin).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, uniq, useBrokerConnection } from '../helpers/amqp.js';
import { apiBase, apiRequest, basicAuth, GUEST_AUTH } from '../helpers/admin.js';
import { TARGET } from '../helpers/target.js';

const fixture = useBrokerConnection();

interface NodeRow {
  name: string; type: string; running: boolean; os_pid?: string; uptime?: number; mem_used?: number; mem_limit?: number;
  mem_alarm?: boolean; disk_free?: number; disk_free_alarm?: boolean; fd_used?: number; sockets_used?: number; processors?: number;
}

const get = (path: string, auth = GUEST_AUTH): Promise<Response> => apiRequest(apiBase(fixture.broker), path, auth);

async function nodes(auth = GUEST_AUTH): Promise<NodeRow[]> {
  const res = await get('/api/nodes', auth);
  assert.equal(res.status, 200);
  return (await res.json()) as NodeRow[];
}

const skip = (t: { skip(m: string): void }): boolean => {
  if (fixture.broker.isWarren && fixture.broker.httpPort !== undefined) return false;
  t.skip('Warren only (the reference RabbitMQ runs without its management plugin)');
  return true;
};

/** A node that serves AMQP clients answers with its process's figures. */
function assertServingNode(n: NodeRow): void {
  assert.equal(n.type, 'disc');
  assert.equal(n.running, true);
  assert.match(n.os_pid ?? '', /^\d+$/);
  assert.ok((n.uptime ?? 0) > 0, `uptime ${n.uptime}`);
  assert.ok((n.mem_used ?? 0) > 1024 * 1024, `mem_used ${n.mem_used}`);
  assert.ok((n.mem_limit ?? 0) > (n.mem_used ?? 0), `mem_limit ${n.mem_limit} above mem_used ${n.mem_used}`);
  assert.equal(n.mem_alarm, false);
  assert.ok((n.disk_free ?? 0) > 0, `disk_free ${n.disk_free}`);
  assert.equal(n.disk_free_alarm, false);
  assert.ok((n.fd_used ?? 0) > 0, `fd_used ${n.fd_used}`);
  assert.ok((n.processors ?? 0) >= 1);
}

test('/api/nodes: the node with its process figures; /api/nodes/{name} the same row', async (t) => {
  if (skip(t)) return;
  if (TARGET === 'cluster') {
    const all = await eventually(async () => {
      const rows = await nodes();
      return rows.filter((n) => n.name.startsWith('warren@owner-')).every((n) => n.running) ? rows : undefined;
    }, 10_000, 'every owner to be reported running');
    assert.deepEqual(all.map((n) => n.name),
      ['warren@frontend-101', 'warren@frontend-102', 'warren@owner-1', 'warren@owner-2', 'warren@owner-3']);
    for (const n of all.filter((x) => x.name.startsWith('warren@frontend-'))) assertServingNode(n);
    // An owner answers with its own process's figures; it accepts no AMQP, so no sockets.
    const owners = all.filter((x) => x.name.startsWith('warren@owner-'));
    for (const n of owners) {
      assertServingNode(n);
      assert.equal(n.sockets_used, 0, n.name);
    }
    assert.equal(new Set([...all.map((n) => n.os_pid)]).size, 5, 'five processes');
  } else {
    const all = await nodes();
    assert.equal(all.length, 1);
    assertServingNode(all[0]!);
    assert.ok((all[0]!.sockets_used ?? 0) >= 1, 'the fixture\'s connection is a socket');
  }
  const first = (await nodes())[0]!;
  const one = await get(`/api/nodes/${encodeURIComponent(first.name)}`);
  assert.equal(one.status, 200);
  assert.equal(((await one.json()) as NodeRow).name, first.name);
  assert.equal((await get('/api/nodes/warren@nowhere')).status, 404);
});

test('/api/nodes is for monitoring users and administrators', async (t) => {
  if (skip(t)) return;
  const base = apiBase(fixture.broker);
  const mgmt = uniq('nodes-mgmt');
  const mon = uniq('nodes-mon');
  try {
    assert.equal((await apiRequest(base, `/api/users/${mgmt}`, GUEST_AUTH, 'PUT', { password: 'pw', tags: 'management' })).status, 201);
    assert.equal((await apiRequest(base, `/api/users/${mon}`, GUEST_AUTH, 'PUT', { password: 'pw', tags: 'monitoring' })).status, 201);
    const refused = await get('/api/nodes', basicAuth(mgmt, 'pw'));
    assert.equal(refused.status, 401);
    assert.deepEqual(await refused.json(), { error: 'not_authorised', reason: 'Not monitor user' });
    assert.ok((await nodes(basicAuth(mon, 'pw'))).length >= 1);
  } finally {
    await apiRequest(base, `/api/users/${mgmt}`, GUEST_AUTH, 'DELETE');
    await apiRequest(base, `/api/users/${mon}`, GUEST_AUTH, 'DELETE');
  }
});
