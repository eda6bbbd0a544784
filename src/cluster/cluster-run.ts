// Whether a new metadata leader starts a new run of the cluster, one that follows a stop of every
// owner. The metadata group stores every record, durable or not (src/node/meta-records.ts), so
// something has to decide when the non-durable ones go: in RabbitMQ they go when the last node of
// the cluster stops. Here they go when the metadata group's first leader after such a stop starts
// its term (issue 7: "non-durable ones do not" survive restarts).
//
// The evidence: every member remembers the term of the first leader its process saw
// (MetaGroupApp.firstLeaderTerm). A member whose process saw a leader of an earlier term has been
// running across the change of leader, so the cluster did not stop. When every member answers that
// it saw none before this term, every process is new: the whole cluster restarted. A member that
// does not answer is waited for a moment (a straggler of a full restart, or a survivor behind a
// slow link); after that, a majority of new processes (the leader's own quorum) decides, since a
// member that ran on alone could not have kept the metadata group available anyway.
//
// The leader makes the decision, and proposes the purge, before it proposes any change a client
// asked for in its term (src/cluster/meta-service.ts), so nothing declared in the new run is purged.

/** 'new': every process is new (purge); 'continued': some member ran on (keep); 'undecided': ask again. */
export type RunVerdict = 'new' | 'continued' | 'undecided';

/**
 * `term`: the new leader's term. `answers`: per member (the leader included), the term of the first
 * leader its process saw (0: none yet), or undefined when it did not answer. `final`: no more time
 * to wait for the members that did not answer.
 */
export function runVerdict(term: number, answers: readonly (number | undefined)[], final: boolean): RunVerdict {
  if (answers.some((a) => a !== undefined && a !== 0 && a < term)) return 'continued';
  const fresh = answers.filter((a) => a !== undefined).length;
  if (fresh === answers.length) return 'new';
  if (!final) return 'undecided';
  return fresh * 2 > answers.length ? 'new' : 'continued';
}

export interface RunCheckOptions {
  readonly term: number;
  /** This member's own answer. */
  readonly own: () => number;
  /** The other members' answers (undefined: no answer in time). */
  readonly askOthers: () => Promise<readonly (number | undefined)[]>;
  /** How long members that do not answer are waited for (default 2 s). */
  readonly waitMs?: number;
  /** Pause between rounds of asking (default 200 ms). */
  readonly retryMs?: number;
}

/** Asks until the verdict is known, at most `waitMs`. */
export async function checkRun(o: RunCheckOptions): Promise<'new' | 'continued'> {
  const deadline = Date.now() + (o.waitMs ?? 2_000);
  for (;;) {
    const own = o.own();
    // Seen an earlier leader itself: no need to ask (the common failover).
    if (own !== 0 && own < o.term) return 'continued';
    const verdict = runVerdict(o.term, [own, ...await o.askOthers()], Date.now() >= deadline);
    if (verdict !== 'undecided') return verdict;
    await new Promise((r) => setTimeout(r, o.retryMs ?? 200));
  }
}
