// `warren ctl status`'s pure part: owner reports → cluster status → text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildStatus, formatStatus, frontendOfSession, parseOwnerUrls, table, type OwnerReport, type ReportedPartition } from '../../../src/cli/ctl-status.js';

const part = (partition: number, leader: number, commit: number, applied: number, extra: Partial<ReportedPartition> = {}): ReportedPartition =>
  ({ partition, leader, term: 2, commit_index: commit, applied_index: applied, last_index: commit, ...extra });

test('parseOwnerUrls: id=host:port and id=URL, trailing slashes dropped, errors name the entry', () => {
  assert.deepEqual(parseOwnerUrls('1=127.0.0.1:15673, 2=http://[::1]:15674/'), [
    { id: 1, url: 'http://127.0.0.1:15673' }, { id: 2, url: 'http://[::1]:15674' },
  ]);
  assert.throws(() => parseOwnerUrls('x=1.2.3.4:5'), /invalid --owners entry 'x=1.2.3.4:5'/);
  assert.throws(() => parseOwnerUrls('0=h:1'), /invalid --owners entry/);
  assert.throws(() => parseOwnerUrls('1=h:1,1=h:2'), /owner 1 twice/);
  assert.throws(() => parseOwnerUrls(' , '), /lists no owner/);
});

test('frontendOfSession reads fe-<id>-<random>; other sessions name no frontend', () => {
  assert.equal(frontendOfSession('fe-101-a1b2c3'), 101);
  assert.equal(frontendOfSession('owner-1-abcd'), undefined);
});

test('buildStatus: replicas, the self-declared leader, lag against the leader commit, sessions per partition', () => {
  const reports: OwnerReport[] = [
    { id: 1, url: 'http://a', partitions: [part(1, 1, 100, 100, { sessions: ['fe-101-x'] }), part(2, 2, 50, 48)] },
    { id: 2, url: 'http://b', partitions: [part(1, 1, 100, 97), part(2, 2, 50, 50, { sessions: ['fe-102-y', 'owner-3-z'] })] },
    { id: 3, url: 'http://c', partitions: [part(1, 1, 99, 99), part(2, 2, 50, 50)] },
  ];
  const s = buildStatus(reports);
  assert.equal(s.healthy, true);
  assert.deepEqual(s.partitions.map((p) => [p.partition, p.leader, p.replicas.length]), [[1, 1, 3], [2, 2, 3]]);
  assert.deepEqual(s.partitions[0]?.replicas.map((r) => [r.id, r.role, r.lag]), [[1, 'leader', 0], [2, 'follower', 3], [3, 'follower', 1]]);
  assert.deepEqual(s.partitions[1]?.replicas.map((r) => r.lag), [2, 0, 0]);
  assert.deepEqual(s.sessions, [
    { session: 'fe-101-x', frontend: 101, partitions: [1] },
    { session: 'fe-102-y', frontend: 102, partitions: [2] },
    { session: 'owner-3-z', partitions: [2] },
  ]);
  assert.deepEqual(s.members.map((m) => [m.id, m.role, m.up, m.replicas, m.leads]), [
    [1, 'owner', true, 2, 1], [2, 'owner', true, 2, 1], [3, 'owner', true, 2, 0],
    [101, 'frontend', true, undefined, undefined], [102, 'frontend', true, undefined, undefined],
  ]);
});

test('buildStatus: a down owner and a partition whose leader is only named by followers; the newest term wins', () => {
  const s = buildStatus([
    { id: 1, url: 'http://a', error: 'ECONNREFUSED' },
    { id: 2, url: 'http://b', partitions: [part(1, 1, 10, 10, { term: 3 }), part(2, 0, 5, 5)] },
    { id: 3, url: 'http://c', partitions: [part(1, 1, 10, 10, { term: 3 }), part(2, 3, 5, 5, { term: 1 })] },
  ]);
  assert.equal(s.healthy, false);
  const [p1, p2] = s.partitions;
  assert.equal(p1?.leader, 1, 'the followers at the newest term agree on owner 1 (down, so it reported nothing)');
  assert.equal(p2?.leader, 0, "owner 3's claim is from an older term than owner 2's leaderless view");
  assert.deepEqual(s.members[0], { id: 1, role: 'owner', url: 'http://a', up: false, error: 'ECONNREFUSED' });
});

test('formatStatus prints every member, partition and session; table pads columns', () => {
  assert.deepEqual(table(['A', 'BB'], [['xyz', '1'], ['q', '']]), ['A    BB', 'xyz  1', 'q']);
  const placed = (epoch: number) => ({
    epoch, partitions: 7, replication_factor: 3, vnodes: 64,
    owners: [{ id: 1, address: 'a:1' }, { id: 2, address: 'b:1' }], replicas: Array.from({ length: 7 }, () => [1, 2]),
  });
  const status = buildStatus([
    { id: 1, url: 'http://a', partitions: [part(7, 1, 20, 20, { sessions: ['fe-101-x'] })], placement: placed(1) },
    { id: 2, url: 'http://b', partitions: [part(7, 1, 20, 18)], placement: placed(2) },
  ]);
  assert.equal(status.placement?.epoch, 2, 'the newest placement an owner reported');
  const text = formatStatus(status);
  assert.deepEqual(text.split('\n'), [
    'Cluster: healthy (2 owners, 1 partitions, 1 sessions)',
    'Placement: epoch 2 (7 partitions, replication factor 3, 64 vnodes, owners 1,2)',
    '',
    'Members',
    '  ID   ROLE      STATE  REPLICAS  LEADS  ADDRESS / SESSIONS',
    '  1    owner     up     1         1      http://a',
    '  2    owner     up     1         0      http://b',
    '  101  frontend  up     -         -      fe-101-x',
    '',
    "Partitions (replica: commit/applied, lag behind the leader's commit; * = leader)",
    '  PARTITION  LEADER  TERM  REPLICAS                   MAX LAG  SESSIONS',
    '  7          1       2     1*:20/20  2:20/18 (lag 2)  2        1',
    '',
    'Frontend sessions',
    '  SESSION   FRONTEND  PARTITIONS',
    '  fe-101-x  101       7',
    '',
  ]);
  assert.match(formatStatus(buildStatus([{ id: 1, url: 'http://a', error: 'HTTP 401' }])), /DEGRADED.*\nPlacement: none stored yet[\s\S]*down \(HTTP 401\)[\s\S]*\(none:/);
});
