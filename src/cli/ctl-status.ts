// `warren ctl status`, the pure part: from what each owner's management API reported
// (GET /api/partitions: the partitions it replicates, with the leader it knows, term, commit and
// applied indexes, and the sessions each partition's state holds; GET /api/placement: the placement
// stored in the metadata group, as its replica has it; GET /api/metadata: its replica of the
// metadata group and the frontends' open session leases) to the cluster's status, and that status
// as text. No I/O here (src/cli/ctl.ts fetches), so it is unit-tested as it is.
import type { LeaseInfo, MetadataInfo, PartitionInfo, PlacementInfo } from '../admin/source.js';
import { leaseOfSession } from '../meta/sessions.js';

/** What an owner reported for one partition it replicates (the part of GET /api/partitions read here). */
export type ReportedPartition = Pick<PartitionInfo, 'partition' | 'leader' | 'term' | 'commit_index' | 'applied_index' | 'last_index' | 'sessions'>;

/** The placement an owner's metadata replica has (GET /api/placement). */
export type ReportedPlacement = PlacementInfo;

/** One open session lease as an owner's replica of the metadata group holds it; expires_in_ms only from the leader. */
export type ReportedLease = LeaseInfo;

/** An owner's replica of the metadata group (GET /api/metadata; whether deadlines were read there is not needed here). */
export type ReportedMetadata = Omit<MetadataInfo, 'lease_deadlines'>;

/** One owner, asked over HTTP. */
export interface OwnerReport {
  readonly id: number;
  readonly url: string;
  /** undefined: it did not answer (`error` says why). */
  readonly partitions?: readonly ReportedPartition[];
  /** undefined: none stored yet (or it did not answer). */
  readonly placement?: ReportedPlacement;
  readonly error?: string;
  /** Its replica of the metadata group; undefined: GET /api/metadata failed (`metadataError` says why). */
  readonly metadata?: ReportedMetadata;
  readonly metadataError?: string;
}

export interface MemberStatus {
  readonly id: number;
  readonly role: 'owner' | 'frontend';
  /** Owners: the management URL asked; frontends: none. */
  readonly url?: string;
  /**
   * Owners: answered; frontends: they hold an open lease in the metadata group (when no owner
   * reported the metadata group: their session is known to some partition).
   */
  readonly up: boolean;
  readonly error?: string;
  /** Owners: partitions replicated here and led here. */
  readonly replicas?: number;
  readonly leads?: number;
  /** Frontends: their sessions (fe-<id>-<lease>; a restarted frontend has a new lease). */
  readonly sessions?: readonly string[];
}

export interface ReplicaStatus {
  readonly id: number;
  readonly role: 'leader' | 'follower';
  readonly commit_index: number;
  readonly applied_index: number;
  readonly last_index: number;
  /** The leader's commit index minus what this replica applied (never below 0: replicas are read one after another). */
  readonly lag: number;
}

export interface PartitionStatus {
  readonly partition: number;
  /** 0: no replica knows a leader. */
  readonly leader: number;
  readonly term: number;
  readonly replicas: readonly ReplicaStatus[];
  readonly sessions: readonly string[];
}

/**
 * A session's lease as the metadata group says: open; ended (lease number below the next one and
 * not open: for good — the partitions still holding it are being swept by their leaders); unknown
 * (not applied on the replica read yet, or no owner reported the metadata group). Absent for a
 * session that holds no lease (an owner's own).
 */
export type LeaseState = 'open' | 'ended' | 'unknown';

export interface SessionStatus {
  readonly session: string;
  /** The frontend node id it names (fe-<id>-…), or undefined for another kind (an owner's own session). */
  readonly frontend?: number;
  readonly lease?: number;
  readonly state?: LeaseState;
  readonly ttl_ms?: number;
  /** From the metadata leader's memory, when it answered. */
  readonly expires_in_ms?: number;
  /** The partitions whose state holds its consumers or unacked messages. */
  readonly partitions: readonly number[];
}

export interface MetadataStatus {
  /** 0: no replica knows a leader. */
  readonly leader: number;
  readonly term: number;
  /** The owners that answered GET /api/metadata (lag: behind the leader's commit, as for partitions). */
  readonly replicas: readonly ReplicaStatus[];
  /** Owners that did not answer it, and why. */
  readonly unanswered: ReadonlyArray<{ readonly id: number; readonly error: string }>;
  /** The owner whose replica's leases are listed: the leader if it answered, else the one applied furthest; 0: none. */
  readonly leases_from: number;
  readonly open_leases: number;
  readonly next_lease: number;
}

export interface ClusterStatus {
  /** The newest placement the owners reported (they may trail one another by an epoch); none before the bootstrap. */
  readonly placement?: ReportedPlacement;
  readonly members: readonly MemberStatus[];
  readonly metadata: MetadataStatus;
  readonly partitions: readonly PartitionStatus[];
  readonly sessions: readonly SessionStatus[];
  /** Every owner answered, the metadata group and every partition have a leader. */
  readonly healthy: boolean;
}

/** `--owners 1=127.0.0.1:15673,2=http://h:15672`: owner ids and their management API base URLs. */
export function parseOwnerUrls(list: string): Array<{ id: number; url: string }> {
  const out: Array<{ id: number; url: string }> = [];
  for (const part of list.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    const id = Number(part.slice(0, eq));
    const addr = part.slice(eq + 1);
    if (eq <= 0 || !Number.isInteger(id) || id <= 0 || addr === '') {
      throw new Error(`invalid --owners entry '${part}': expected <owner id>=<host>:<http port> or <owner id>=http://<host>:<port>`);
    }
    if (out.some((o) => o.id === id)) throw new Error(`--owners names owner ${id} twice`);
    const url = /^https?:\/\//.test(addr) ? addr : `http://${addr}`;
    try {
      new URL(url);
    } catch {
      throw new Error(`invalid --owners entry '${part}': '${addr}' is not a host:port or URL`);
    }
    out.push({ id, url: url.replace(/\/+$/, '') });
  }
  if (out.length === 0) throw new Error('--owners lists no owner');
  return out;
}

/** The frontend id a session names: `fe-<id>-<lease>` (src/meta/sessions.ts sessionOfLease). */
export function frontendOfSession(session: string): number | undefined {
  const m = /^fe-(\d+)-/.exec(session);
  return m === null ? undefined : Number(m[1]);
}

/**
 * A partition's leader from its replicas' reports: one that says it leads itself at the highest
 * term it was reported at; else what most replicas at that term name.
 */
function leaderOf(reports: ReadonlyArray<{ id: number; p: { readonly leader: number; readonly term: number } }>): { leader: number; term: number } {
  const term = Math.max(0, ...reports.map((r) => r.p.term));
  const current = reports.filter((r) => r.p.term === term);
  const self = current.find((r) => r.p.leader === r.id);
  if (self !== undefined) return { leader: self.id, term };
  const votes = new Map<number, number>();
  for (const r of current) if (r.p.leader !== 0) votes.set(r.p.leader, (votes.get(r.p.leader) ?? 0) + 1);
  const best = [...votes].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
  return { leader: best?.[0] ?? 0, term };
}

export function buildStatus(reports: readonly OwnerReport[]): ClusterStatus {
  const byPartition = new Map<number, Array<{ id: number; p: ReportedPartition }>>();
  for (const r of reports) {
    for (const p of r.partitions ?? []) {
      const list = byPartition.get(p.partition) ?? [];
      list.push({ id: r.id, p });
      byPartition.set(p.partition, list);
    }
  }
  const partitions: PartitionStatus[] = [...byPartition].sort((a, b) => a[0] - b[0]).map(([partition, reps]) => {
    const { leader, term } = leaderOf(reps);
    const led = reps.find((r) => r.id === leader);
    const commit = led?.p.commit_index ?? Math.max(0, ...reps.map((r) => r.p.commit_index));
    const sessions = new Set<string>();
    // The leader's state is the authority; a follower's adds what it has applied and the leader has not reported yet.
    for (const r of reps) for (const s of r.p.sessions ?? []) sessions.add(s);
    return {
      partition, leader, term,
      replicas: [...reps].sort((a, b) => a.id - b.id).map((r) => ({
        id: r.id, role: r.id === leader ? 'leader' : 'follower',
        commit_index: r.p.commit_index, applied_index: r.p.applied_index, last_index: r.p.last_index,
        lag: Math.max(0, commit - r.p.applied_index),
      })),
      sessions: [...sessions].sort(),
    };
  });

  const meta = buildMetadata(reports);
  const sessions = buildSessions(partitions, meta.leases);

  const owners: MemberStatus[] = [...reports].sort((a, b) => a.id - b.id).map((r) => ({
    id: r.id, role: 'owner', url: r.url, up: r.partitions !== undefined,
    ...(r.error !== undefined ? { error: r.error } : {}),
    ...(r.partitions !== undefined
      ? { replicas: r.partitions.length, leads: partitions.filter((p) => p.leader === r.id).length }
      : {}),
  }));
  const frontends = frontendMembers(sessions, meta.leases !== undefined);

  const healthy = owners.every((o) => o.up) && meta.status.leader !== 0 && partitions.every((p) => p.leader !== 0);
  const placement = reports.map((r) => r.placement).filter((p) => p !== undefined).sort((a, b) => b.epoch - a.epoch)[0];
  return {
    ...(placement !== undefined ? { placement } : {}), members: [...owners, ...frontends], metadata: meta.status, partitions, sessions, healthy,
  };
}

/**
 * The metadata group from the owners' replicas: leader and term (as for a partition), each
 * replica's indexes and lag, and the replica whose leases are the truth for this status — the
 * leader's if it answered (it alone knows the deadlines), else the one that applied the most.
 */
export function buildMetadata(reports: readonly OwnerReport[]): { status: MetadataStatus; leases?: ReportedMetadata } {
  const reps = reports.filter((r) => r.metadata !== undefined).map((r) => ({ id: r.id, p: r.metadata as ReportedMetadata }));
  const { leader, term } = leaderOf(reps);
  const led = reps.find((r) => r.id === leader);
  const commit = led?.p.commit_index ?? Math.max(0, ...reps.map((r) => r.p.commit_index));
  const source = led ?? [...reps].sort((a, b) => b.p.applied_index - a.p.applied_index || a.id - b.id)[0];
  const status: MetadataStatus = {
    leader, term,
    replicas: [...reps].sort((a, b) => a.id - b.id).map((r) => ({
      id: r.id, role: r.id === leader ? 'leader' : 'follower',
      commit_index: r.p.commit_index, applied_index: r.p.applied_index, last_index: r.p.last_index,
      lag: Math.max(0, commit - r.p.applied_index),
    })),
    unanswered: [...reports].sort((a, b) => a.id - b.id).filter((r) => r.metadata === undefined)
      .map((r) => ({ id: r.id, error: r.metadataError ?? r.error ?? 'no answer' })),
    leases_from: source?.id ?? 0,
    open_leases: source?.p.leases.length ?? 0,
    next_lease: source?.p.next_lease ?? 0,
  };
  return source === undefined ? { status } : { status, leases: source.p };
}

/**
 * Sessions: every open lease (the metadata group's word), with the partitions still holding its
 * consumers, and every session a partition holds whose lease is not open — ended (its partitions'
 * leaders are sweeping it) or not known to the replica read. Without a metadata report: the
 * partitions' sessions only, their lease state unknown.
 */
export function buildSessions(partitions: readonly PartitionStatus[], meta: ReportedMetadata | undefined): SessionStatus[] {
  const held = new Map<string, number[]>();
  for (const p of partitions) for (const s of p.sessions) held.set(s, [...(held.get(s) ?? []), p.partition]);
  const out = new Map<string, SessionStatus>();
  for (const l of meta?.leases ?? []) {
    const session = l.session ?? l.name;
    out.set(session, {
      session, ...(l.frontend !== undefined ? { frontend: l.frontend } : {}), lease: l.lease, state: 'open', ttl_ms: l.ttl_ms,
      ...(l.expires_in_ms !== undefined ? { expires_in_ms: l.expires_in_ms } : {}), partitions: held.get(session) ?? [],
    });
  }
  for (const [session, parts] of held) {
    if (out.has(session)) continue;
    const frontend = frontendOfSession(session);
    const lease = leaseOfSession(session);
    const state: LeaseState | undefined = lease === undefined ? undefined
      : meta !== undefined && lease < meta.next_lease ? 'ended' : 'unknown';
    out.set(session, {
      session, ...(frontend !== undefined ? { frontend } : {}), ...(lease !== undefined ? { lease } : {}),
      ...(state !== undefined ? { state } : {}), partitions: parts,
    });
  }
  return [...out.values()].sort((a, b) => a.session.localeCompare(b.session, 'en', { numeric: true }));
}

/**
 * Frontends, from the sessions naming them: up while one holds an open lease (its open sessions
 * listed), else down with its ended ones. Without a metadata report a frontend seen in a
 * partition is taken as up, as nothing says otherwise.
 */
function frontendMembers(sessions: readonly SessionStatus[], leasesKnown: boolean): MemberStatus[] {
  const byFrontend = new Map<number, SessionStatus[]>();
  for (const s of sessions) if (s.frontend !== undefined) byFrontend.set(s.frontend, [...(byFrontend.get(s.frontend) ?? []), s]);
  return [...byFrontend].sort((a, b) => a[0] - b[0]).map(([id, ss]): MemberStatus => {
    const open = ss.filter((s) => s.state === 'open');
    if (!leasesKnown || open.length > 0) {
      return { id, role: 'frontend', up: true, sessions: (leasesKnown ? open : ss).map((s) => s.session) };
    }
    return { id, role: 'frontend', up: false, error: 'no open lease', sessions: ss.map((s) => s.session) };
  });
}

/** Left-aligned columns, two spaces apart. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

export function formatStatus(s: ClusterStatus): string {
  const out: string[] = [];
  out.push(`Cluster: ${s.healthy ? 'healthy' : 'DEGRADED'} (${s.members.filter((m) => m.role === 'owner').length} owners, ` +
    `${s.partitions.length} partitions, ${s.sessions.length} sessions)`);
  const p = s.placement;
  out.push(p === undefined ? 'Placement: none stored yet' : `Placement: epoch ${p.epoch} (${p.partitions} partitions, ` +
    `replication factor ${p.replication_factor}, ${p.vnodes} vnodes, owners ${p.owners.map((o) => o.id).join(',')})`, '');
  out.push('Members');
  out.push(...table(['ID', 'ROLE', 'STATE', 'REPLICAS', 'LEADS', 'ADDRESS / SESSIONS'], s.members.map((m) => [
    String(m.id), m.role, m.up ? 'up' : `down${m.error !== undefined ? ` (${m.error})` : ''}`,
    m.replicas === undefined ? '-' : String(m.replicas), m.leads === undefined ? '-' : String(m.leads),
    m.role === 'owner' ? m.url ?? '' : (m.sessions ?? []).join(' '),
  ])).map((l) => `  ${l}`));
  out.push('', ...formatMetadata(s.metadata));
  out.push('', 'Partitions (replica: commit/applied, lag behind the leader\'s commit; * = leader)');
  out.push(...table(['PARTITION', 'LEADER', 'TERM', 'REPLICAS', 'MAX LAG', 'SESSIONS'], s.partitions.map((p) => [
    String(p.partition), p.leader === 0 ? 'none' : String(p.leader), String(p.term),
    p.replicas.map((r) => `${r.id}${r.role === 'leader' ? '*' : ''}:${r.commit_index}/${r.applied_index}${r.lag > 0 ? ` (lag ${r.lag})` : ''}`).join('  '),
    String(Math.max(0, ...p.replicas.map((r) => r.lag))), String(p.sessions.length),
  ])).map((l) => `  ${l}`));
  out.push('', ...formatSessions(s.sessions));
  return `${out.join('\n')}\n`;
}

const seconds = (ms: number, digits: number): string => `${(ms / 1000).toFixed(digits)}s`;

/** The metadata group: leader, term, where each owner's replica stands. */
export function formatMetadata(m: MetadataStatus): string[] {
  const out = [`Metadata group: leader ${m.leader === 0 ? 'none' : m.leader}, term ${m.term}, ` +
    `${m.open_leases} open leases${m.leases_from === 0 ? '' : ` (owner ${m.leases_from}'s replica)`}`];
  if (m.replicas.length === 0 && m.unanswered.length === 0) return out;
  out.push(...table(['REPLICA', 'ROLE', 'COMMIT', 'APPLIED', 'LAST', 'LAG'], [
    ...m.replicas.map((r) => [String(r.id), r.role, String(r.commit_index), String(r.applied_index), String(r.last_index), String(r.lag)]),
    // Last column, so a long reason widens nothing.
    ...m.unanswered.map((u) => [String(u.id), '?', '-', '-', '-', `- (no answer: ${u.error})`]),
  ]).map((l) => `  ${l}`));
  return out;
}

/** Sessions: lease state, TTL, time left (from the metadata leader) and the partitions holding each one's consumers. */
export function formatSessions(sessions: readonly SessionStatus[]): string[] {
  const out = ['Frontend sessions (leases in the metadata group; partitions holding their consumers)'];
  if (sessions.length === 0) {
    out.push('  (none: no open lease, and no partition holds a consumer or an unacked message of any session)');
    return out;
  }
  const state = (x: SessionStatus): string =>
    x.state === undefined ? 'no lease' : x.state === 'ended' ? 'ended, being swept' : x.state;
  out.push(...table(['SESSION', 'FRONTEND', 'LEASE', 'STATE', 'TTL', 'EXPIRES IN', 'PARTITIONS'], sessions.map((x) => [
    x.session, x.frontend === undefined ? '-' : String(x.frontend), x.lease === undefined ? '-' : String(x.lease), state(x),
    x.ttl_ms === undefined ? '-' : seconds(x.ttl_ms, 0), x.expires_in_ms === undefined ? '-' : seconds(x.expires_in_ms, 1),
    x.partitions.length === 0 ? '-' : x.partitions.join(','),
  ])).map((l) => `  ${l}`));
  return out;
}
