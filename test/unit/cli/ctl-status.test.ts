// `warren ctl status`'s pure part: owner reports → cluster status → text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildMetadata, buildStatus, formatStatus, frontendOfSession, parseOwnerUrls, table,
  type OwnerReport, type ReportedLease, type ReportedMetadata, type ReportedPartition,
} from '../../../src/cli/ctl-status.js';

const part = (partition: number, leader: number, commit: number, applied: number, extra: Partial<ReportedPartition> = {}): ReportedPartition =>
  ({ partition, leader, term: 2, commit_index: commit, applied_index: applied, last_index: commit, ...extra });

/** A frontend's lease as GET /api/metadata lists it. */
const lease = (node: number, n: number, extra: Partial<ReportedLease> = {}): ReportedLease =>
  ({ lease: n, name: `frontend-${node}`, frontend: node, session: `fe-${node}-${n}`, ttl_ms: 10_000, ...extra });

/** An owner's replica of the metadata group. */
const meta = (leader: number, commit: number, applied: number, leases: readonly ReportedLease[] = [], extra: Partial<ReportedMetadata> = {}): ReportedMetadata =>
  ({ leader, term: 4, first_index: 1, last_index: commit, commit_index: commit, applied_index: applied, next_lease: 10, leases, ...extra });

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
  const leases = [lease(101, 3), lease(102, 4)];
  const reports: OwnerReport[] = [
    { id: 1, url: 'http://a', partitions: [part(1, 1, 100, 100, { sessions: ['fe-101-3'] }), part(2, 2, 50, 48)], metadata: meta(3, 40, 40, leases) },
    { id: 2, url: 'http://b', partitions: [part(1, 1, 100, 97), part(2, 2, 50, 50, { sessions: ['fe-102-4', 'owner-3-z'] })], metadata: meta(3, 40, 40, leases) },
    { id: 3, url: 'http://c', partitions: [part(1, 1, 99, 99), part(2, 2, 50, 50)], metadata: meta(3, 40, 40, leases) },
  ];
  const s = buildStatus(reports);
  assert.equal(s.healthy, true);
  assert.deepEqual(s.partitions.map((p) => [p.partition, p.leader, p.replicas.length]), [[1, 1, 3], [2, 2, 3]]);
  assert.deepEqual(s.partitions[0]?.replicas.map((r) => [r.id, r.role, r.lag]), [[1, 'leader', 0], [2, 'follower', 3], [3, 'follower', 1]]);
  assert.deepEqual(s.partitions[1]?.replicas.map((r) => r.lag), [2, 0, 0]);
  assert.deepEqual(s.sessions, [
    { session: 'fe-101-3', frontend: 101, lease: 3, state: 'open', ttl_ms: 10_000, partitions: [1] },
    { session: 'fe-102-4', frontend: 102, lease: 4, state: 'open', ttl_ms: 10_000, partitions: [2] },
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
  const leases = [lease(101, 5, { expires_in_ms: 7_240 }), lease(102, 6, { expires_in_ms: 9_900 })];
  const status = buildStatus([
    {
      id: 1, url: 'http://a', partitions: [part(7, 1, 20, 20, { sessions: ['fe-101-5', 'fe-103-2'] })], placement: placed(1),
      metadata: meta(2, 31, 29, leases.map(({ expires_in_ms: _, ...l }) => l)),
    },
    { id: 2, url: 'http://b', partitions: [part(7, 1, 20, 18)], placement: placed(2), metadata: meta(2, 31, 31, leases) },
    { id: 3, url: 'http://c', partitions: [], metadataError: 'HTTP 404' },
  ]);
  assert.equal(status.placement?.epoch, 2, 'the newest placement an owner reported');
  const text = formatStatus(status);
  assert.deepEqual(text.split('\n'), [
    'Cluster: healthy (3 owners, 1 partitions, 3 sessions)',
    'Placement: epoch 2 (7 partitions, replication factor 3, 64 vnodes, owners 1,2)',
    '',
    'Members',
    '  ID   ROLE      STATE                 REPLICAS  LEADS  ADDRESS / SESSIONS',
    '  1    owner     up                    1         1      http://a',
    '  2    owner     up                    1         0      http://b',
    '  3    owner     up                    0         0      http://c',
    '  101  frontend  up                    -         -      fe-101-5',
    '  102  frontend  up                    -         -      fe-102-6',
    '  103  frontend  down (no open lease)  -         -      fe-103-2',
    '',
    "Metadata group: leader 2, term 4, 2 open leases (owner 2's replica)",
    '  REPLICA  ROLE      COMMIT  APPLIED  LAST  LAG',
    '  1        follower  31      29       31    2',
    '  2        leader    31      31       31    0',
    '  3        ?         -       -        -     - (no answer: HTTP 404)',
    '',
    "Partitions (replica: commit/applied, lag behind the leader's commit; * = leader)",
    '  PARTITION  LEADER  TERM  REPLICAS                   MAX LAG  SESSIONS',
    '  7          1       2     1*:20/20  2:20/18 (lag 2)  2        2',
    '',
    'Frontend sessions (leases in the metadata group; partitions holding their consumers)',
    '  SESSION   FRONTEND  LEASE  STATE               TTL  EXPIRES IN  PARTITIONS',
    '  fe-101-5  101       5      open                10s  7.2s        7',
    '  fe-102-6  102       6      open                10s  9.9s        -',
    '  fe-103-2  103       2      ended, being swept  -    -           7',
    '',
  ]);
  assert.match(formatStatus(buildStatus([{ id: 1, url: 'http://a', error: 'HTTP 401', metadataError: 'HTTP 401' }])),
    /DEGRADED.*\nPlacement: none stored yet[\s\S]*down \(HTTP 401\)[\s\S]*leader none[\s\S]*no answer: HTTP 401[\s\S]*\(none:/);
});

test('buildMetadata: the self-declared leader, lag behind its commit, leases (with time left) from its replica', () => {
  const open = [lease(101, 7, { expires_in_ms: 4_000 })];
  const { status, leases } = buildMetadata([
    { id: 1, url: 'http://a', metadata: meta(2, 50, 45, [], { next_lease: 7 }) },
    { id: 2, url: 'http://b', metadata: meta(2, 52, 52, open, { next_lease: 8 }) },
    { id: 3, url: 'http://c', error: 'ECONNREFUSED' },
  ]);
  assert.deepEqual([status.leader, status.term, status.leases_from, status.open_leases, status.next_lease], [2, 4, 2, 1, 8]);
  assert.deepEqual(status.replicas.map((r) => [r.id, r.role, r.commit_index, r.applied_index, r.lag]), [[1, 'follower', 50, 45, 7], [2, 'leader', 52, 52, 0]]);
  assert.deepEqual(status.unanswered, [{ id: 3, error: 'ECONNREFUSED' }]);
  assert.deepEqual(leases?.leases, open);
});

test('buildMetadata: without the leader\'s answer the furthest-applied replica\'s leases are listed; none answered: no leader', () => {
  const { status, leases } = buildMetadata([
    { id: 1, url: 'http://a', metadata: meta(3, 60, 58, [lease(101, 1)], { term: 5 }) },
    { id: 2, url: 'http://b', metadata: meta(3, 61, 61, [lease(101, 1), lease(102, 2)], { term: 5 }) },
    { id: 3, url: 'http://c', metadataError: 'timeout' },
  ]);
  assert.equal(status.leader, 3, 'named by the replicas at the newest term');
  assert.equal(status.leases_from, 2);
  assert.deepEqual(leases?.leases.map((l) => l.session), ['fe-101-1', 'fe-102-2']);
  assert.deepEqual(status.replicas.map((r) => r.lag), [3, 0], 'lag behind the highest commit reported');
  const none = buildMetadata([{ id: 1, url: 'http://a', error: 'ECONNREFUSED' }]);
  assert.deepEqual(none, { status: { leader: 0, term: 0, replicas: [], unanswered: [{ id: 1, error: 'ECONNREFUSED' }], leases_from: 0, open_leases: 0, next_lease: 0 } });
});

test('buildStatus: sessions are the open leases; a partition\'s session whose lease ended is being swept; one not applied yet is unknown', () => {
  const s = buildStatus([
    {
      id: 1, url: 'http://a', metadata: meta(1, 9, 9, [lease(101, 8), lease(102, 9, { expires_in_ms: 1_500 })], { next_lease: 10 }),
      // fe-101-3: an old lease of frontend 101 (restarted since); fe-104-12: opened after the replica read's state.
      partitions: [part(1, 1, 5, 5, { sessions: ['fe-101-3', 'fe-101-8', 'fe-104-12', 'owner-1-q'] }), part(2, 1, 5, 5, { sessions: ['fe-101-3'] })],
    },
  ]);
  assert.equal(s.healthy, true);
  assert.deepEqual(s.sessions.map((x) => [x.session, x.state, x.partitions]), [
    ['fe-101-3', 'ended', [1, 2]], ['fe-101-8', 'open', [1]], ['fe-102-9', 'open', []], ['fe-104-12', 'unknown', [1]], ['owner-1-q', undefined, [1]],
  ]);
  assert.equal(s.sessions.find((x) => x.session === 'fe-102-9')?.expires_in_ms, 1_500);
  assert.deepEqual(s.members.filter((m) => m.role === 'frontend').map((m) => [m.id, m.up, m.error, m.sessions]), [
    [101, true, undefined, ['fe-101-8']],
    [102, true, undefined, ['fe-102-9']], // no consumer anywhere: seen through its lease alone
    [104, false, 'no open lease', ['fe-104-12']],
  ]);
});

test('buildStatus: healthy needs a metadata leader; with no metadata report, sessions come from the partitions alone', () => {
  const partitions = [part(1, 1, 5, 5, { sessions: ['fe-101-2'] })];
  const leaderless = buildStatus([{ id: 1, url: 'http://a', partitions, metadata: meta(0, 9, 9, [lease(101, 2)]) }]);
  assert.equal(leaderless.healthy, false);
  assert.equal(leaderless.metadata.leader, 0);
  const unreported = buildStatus([{ id: 1, url: 'http://a', partitions, metadataError: 'HTTP 404' }]);
  assert.equal(unreported.healthy, false);
  assert.deepEqual(unreported.sessions, [{ session: 'fe-101-2', frontend: 101, lease: 2, state: 'unknown', partitions: [1] }]);
  assert.deepEqual(unreported.members.at(-1), { id: 101, role: 'frontend', up: true, sessions: ['fe-101-2'] });
});
