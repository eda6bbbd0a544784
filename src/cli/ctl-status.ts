// `warren ctl status`, the pure part: from what each owner's management API reported
// (GET /api/partitions: the partitions it replicates, with the leader it knows, term, commit and
// applied indexes, and the sessions each partition's state holds; GET /api/placement: the placement
// stored in the metadata group, as its replica has it) to the cluster's status, and
// that status as text. No I/O here (src/cli/ctl.ts fetches), so it is unit-tested as it is.

/** What an owner reported for one partition it replicates (a subset of src/admin/source.ts PartitionInfo). */
export interface ReportedPartition {
  readonly partition: number;
  readonly leader: number;
  readonly term: number;
  readonly commit_index: number;
  readonly applied_index: number;
  readonly last_index: number;
  readonly sessions?: readonly string[];
}

/** The placement an owner's metadata replica has (src/admin/source.ts PlacementInfo). */
export interface ReportedPlacement {
  readonly epoch: number;
  readonly partitions: number;
  readonly replication_factor: number;
  readonly vnodes: number;
  readonly owners: ReadonlyArray<{ readonly id: number; readonly address: string }>;
  /** replicas[p - 1]: partition p's owners, preferred leader first. */
  readonly replicas: ReadonlyArray<readonly number[]>;
}

/** One owner, asked over HTTP. */
export interface OwnerReport {
  readonly id: number;
  readonly url: string;
  /** undefined: it did not answer (`error` says why). */
  readonly partitions?: readonly ReportedPartition[];
  /** undefined: none stored yet (or it did not answer). */
  readonly placement?: ReportedPlacement;
  readonly error?: string;
}

export interface MemberStatus {
  readonly id: number;
  readonly role: 'owner' | 'frontend';
  /** Owners: the management URL asked; frontends: none. */
  readonly url?: string;
  /** Owners: answered; frontends: their session is known to some partition. */
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

export interface SessionStatus {
  readonly session: string;
  /** The frontend node id it names (fe-<id>-…), or undefined for another kind (an owner's own session). */
  readonly frontend?: number;
  readonly partitions: readonly number[];
}

export interface ClusterStatus {
  /** The newest placement the owners reported (they may trail one another by an epoch); none before the bootstrap. */
  readonly placement?: ReportedPlacement;
  readonly members: readonly MemberStatus[];
  readonly partitions: readonly PartitionStatus[];
  readonly sessions: readonly SessionStatus[];
  /** Every owner answered and every partition has a leader. */
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
function leaderOf(reports: ReadonlyArray<{ id: number; p: ReportedPartition }>): { leader: number; term: number } {
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

  const sessionParts = new Map<string, number[]>();
  for (const p of partitions) for (const s of p.sessions) sessionParts.set(s, [...(sessionParts.get(s) ?? []), p.partition]);
  const sessions: SessionStatus[] = [...sessionParts].sort((a, b) => a[0].localeCompare(b[0])).map(([session, parts]) => {
    const frontend = frontendOfSession(session);
    return { session, ...(frontend !== undefined ? { frontend } : {}), partitions: parts };
  });

  const owners: MemberStatus[] = [...reports].sort((a, b) => a.id - b.id).map((r) => ({
    id: r.id, role: 'owner', url: r.url, up: r.partitions !== undefined,
    ...(r.error !== undefined ? { error: r.error } : {}),
    ...(r.partitions !== undefined
      ? { replicas: r.partitions.length, leads: partitions.filter((p) => p.leader === r.id).length }
      : {}),
  }));
  const frontendSessions = new Map<number, string[]>();
  for (const s of sessions) {
    if (s.frontend !== undefined) frontendSessions.set(s.frontend, [...(frontendSessions.get(s.frontend) ?? []), s.session]);
  }
  const frontends: MemberStatus[] = [...frontendSessions].sort((a, b) => a[0] - b[0])
    .map(([id, ss]) => ({ id, role: 'frontend', up: true, sessions: ss }));

  const healthy = owners.every((o) => o.up) && partitions.every((p) => p.leader !== 0);
  const placement = reports.map((r) => r.placement).filter((p) => p !== undefined).sort((a, b) => b.epoch - a.epoch)[0];
  return { ...(placement !== undefined ? { placement } : {}), members: [...owners, ...frontends], partitions, sessions, healthy };
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
  out.push('', 'Partitions (replica: commit/applied, lag behind the leader\'s commit; * = leader)');
  out.push(...table(['PARTITION', 'LEADER', 'TERM', 'REPLICAS', 'MAX LAG', 'SESSIONS'], s.partitions.map((p) => [
    String(p.partition), p.leader === 0 ? 'none' : String(p.leader), String(p.term),
    p.replicas.map((r) => `${r.id}${r.role === 'leader' ? '*' : ''}:${r.commit_index}/${r.applied_index}${r.lag > 0 ? ` (lag ${r.lag})` : ''}`).join('  '),
    String(Math.max(0, ...p.replicas.map((r) => r.lag))), String(p.sessions.length),
  ])).map((l) => `  ${l}`));
  out.push('', 'Frontend sessions');
  if (s.sessions.length === 0) out.push('  (none: no partition holds a consumer or an unacked message of any session)');
  else {
    out.push(...table(['SESSION', 'FRONTEND', 'PARTITIONS'], s.sessions.map((x) => [
      x.session, x.frontend === undefined ? '-' : String(x.frontend), x.partitions.join(','),
    ])).map((l) => `  ${l}`));
  }
  return `${out.join('\n')}\n`;
}
