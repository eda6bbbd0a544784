// GET /api/metadata on a node holding a replica of the metadata group (an owner, or the embedded
// node's single-voter group): where its log stands and the frontend session leases its applied
// state holds open. Reads of in-memory state only. The lease deadlines are the metadata leader's
// (src/cluster/leases.ts keeps them in memory, renewals are not log entries), so only the leader's
// answer says how long each lease has left.
import type { LeaseInfo, MetadataInfo } from '../admin/source.js';
import type { MetaMachine } from '../meta/machine.js';
import { nodeOfFrontendName, sessionOfLease } from '../meta/sessions.js';
import type { GroupLogStats } from '../raft/node/group.js';

export interface MetadataReplica {
  /** This replica's driver of the metadata group. */
  readonly group: { logStats(): GroupLogStats };
  /** Its applied state. */
  machine(): MetaMachine;
  /**
   * Present on a node that can lead the lease keeping: ms until `lease` expires, or undefined when
   * this replica does not keep deadlines now (not the leader) or has none for it yet.
   */
  readonly leaseExpiresInMs?: (lease: number) => number | undefined;
  /** Whether this replica keeps the lease deadlines now (it leads the metadata group). */
  readonly keepsDeadlines?: () => boolean;
}

export function metadataInfo(r: MetadataReplica): MetadataInfo {
  const log = r.group.logStats();
  const sessions = r.machine().sessions;
  const deadlines = r.keepsDeadlines?.() ?? false;
  const leases = sessions.list().sort((a, b) => a.lease - b.lease).map((s): LeaseInfo => {
    const frontend = nodeOfFrontendName(s.frontend);
    const expires = deadlines ? r.leaseExpiresInMs?.(s.lease) : undefined;
    return {
      lease: s.lease, name: s.frontend,
      ...(frontend === undefined ? {} : { frontend, session: sessionOfLease(frontend, s.lease) }),
      ttl_ms: s.ttlMs,
      ...(expires === undefined ? {} : { expires_in_ms: Math.max(0, expires) }),
    };
  });
  return {
    leader: log.leader, term: log.term, first_index: log.firstIndex, last_index: log.lastIndex,
    commit_index: log.commitIndex, applied_index: log.appliedIndex,
    next_lease: sessions.snapshot().nextLease, lease_deadlines: deadlines, leases,
  };
}
