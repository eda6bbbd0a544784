// Partition mode of the simulator (`npm run sim -- --app partition`): every replica's GroupApp is
// the production PartitionApp over the production GroupDriver, under the world's faults. Per group:
// clients (client.ts) propose a realistic command stream, the leader's owner (owner.ts) carries out
// effects, and the ledger (ledger.ts) collects what every replica applied.
//
// Checked after every step, besides Raft's checks: the accounting invariant on every replica's
// every apply (AccountingChecker: each stored message ends exactly one way or is present, the
// machine holds exactly the present ones), replica agreement (the same state digest at the same
// applied index, including right after a restart or snapshot rebuilt a replica from its keys),
// enqueue deduplication (no (session, seq) stored twice), and every few steps the records on each
// replica's disk (present messages + dead-letters in flight, nothing else).
// Liveness phase: every publish is confirmed, every held message settled, no dead-letter in
// flight, and no message checked out to a live consumer that never received it. Then every
// confirmed publish is traced to where its messages are: present, or ended one recorded way (a
// dead-lettered one through its copy in the dead-letter queue). Anything else is lost.
import { mulberry32, type NodeId } from '../../../src/raft/core/index.js';
import { deadLetterSession } from '../../../src/partition/deadletter.js';
import type { PartitionMachine } from '../../../src/partition/machine.js';
import { SafetyViolation } from '../checker.js';
import type { Replica, SimGroupApp } from '../replica.js';
import type { Sim, SimStats, SimWorkload } from '../world.js';
import { PartitionClient, RANDOM_PROFILE, type ClientProfile } from './client.js';
import { GroupLedger } from './ledger.js';
import { SimOwner } from './owner.js';
import { SimPartitionApp } from './papp.js';

/** Steps between two checks of a replica's records on disk (round robin over the replicas). */
const STORE_CHECK_EVERY = 20;

interface GroupState {
  readonly id: number;
  readonly ledger: GroupLedger;
  readonly client: PartitionClient;
  /** The owner of each replica's current incarnation, by process id. */
  readonly owners: Map<NodeId, SimOwner>;
}

export interface PartitionWorkloadOptions {
  /** What the clients do (default: the random workload). */
  readonly profile?: ClientProfile;
}

export class PartitionWorkload implements SimWorkload {
  readonly rand: () => number;
  readonly groups = new Map<number, GroupState>();
  private readonly skew = new Map<NodeId, number>();
  private storeChecks = 0;

  constructor(private readonly sim: Sim, opts: PartitionWorkloadOptions = {}) {
    this.rand = mulberry32((sim.params.seed ^ 0x5bd1e995) >>> 0);
    for (const g of sim.groups) {
      const ledger = new GroupLedger(g.id);
      const client = new PartitionClient({
        group: g.id,
        rand: this.rand,
        target: () => this.target(g.id),
        clock: (id) => this.clock(id),
        kick: () => sim.kick(),
        log: (l) => sim.log(`g${g.id} client: ${l}`),
      }, opts.profile ?? RANDOM_PROFILE);
      for (const s of client.sessions()) ledger.sessions.add(s);
      this.groups.set(g.id, { id: g.id, ledger, client, owners: new Map() });
    }
  }

  /** Process `id`'s clock: virtual steps plus a fixed skew (the partition keeps the largest time). */
  clock(id: NodeId): number {
    let s = this.skew.get(id);
    if (s === undefined) {
      s = Math.floor(this.rand() * 31) - 15;
      this.skew.set(id, s);
    }
    return Math.max(1, this.sim.now + s);
  }

  /**
   * The replica clients propose to: the leader with the highest term (it may be cut off from the
   * others, and its proposals time out), now and then a random live one (NotLeader).
   */
  target(group: number): Replica | undefined {
    const leader = this.sim.groupLeader(group);
    if (leader?.driver != null && this.rand() > 0.02) return leader;
    const live = [...this.sim.replicas.values()].filter((r) => r.group === group && r.driver !== null);
    return leader === undefined || live.length === 0 ? undefined : live[Math.floor(this.rand() * live.length)];
  }

  /** Group `id`'s clients and ledger (scenario tests). */
  group(id: number): { readonly client: PartitionClient; readonly ledger: GroupLedger } {
    return this.groups.get(id)!;
  }

  makeApp(rep: Replica): SimGroupApp {
    const g = this.groups.get(rep.group)!;
    const sim = this.sim;
    const owner = new SimOwner(rep, {
      group: rep.group,
      clock: () => this.clock(rep.id),
      kick: () => sim.kick(),
      fail: (err) => sim.fail(err),
      log: (l) => sim.log(`n${rep.id}/g${rep.group} owner: ${l}`),
      deliver: (e, body) => g.client.deliver(e, body),
      consumerCancelled: (session, consumer, queue) => g.client.consumerCancelled(session, consumer, queue),
      unroutedDeadLetter: (queue, msgId) => g.ledger.unroutedDeadLetters.add(`${queue}:${msgId}`),
      after: (steps, fn) => {
        sim.ports.after(steps, fn);
      },
    });
    const app = new SimPartitionApp({
      id: rep.id, group: rep.group, checker: rep.checker, ledger: g.ledger,
      log: (l) => sim.log(`n${rep.id}/g${rep.group} ${l}`),
      effects: (fx) => owner.perform(fx),
      demoted: () => owner.demoted(),
    });
    owner.app = app;
    g.owners.set(rep.id, owner);
    return app;
  }

  step(clients: boolean): void {
    // Recoveries from keys, owners' record reads and proposal callbacks are promise chains: give
    // them microtask turns every step (the world awaits a step only when it has async work).
    this.sim.kick();
    for (const g of this.groups.values()) {
      for (const o of g.owners.values()) o.step();
      g.client.step(clients);
    }
  }

  check(): Promise<void> | undefined {
    if (this.sim.now % STORE_CHECK_EVERY !== 0) return undefined;
    const reps = [...this.sim.replicas.values()];
    const rep = reps[(this.sim.now / STORE_CHECK_EVERY) % reps.length];
    if (rep === undefined || !(rep.app instanceof SimPartitionApp) || rep.store === null) return undefined;
    const p = rep.app.checkStore(rep.store);
    if (p === undefined) return undefined;
    this.storeChecks++;
    return p.catch((err: unknown) => this.sim.fail(new SafetyViolation(`n${rep.id}/g${rep.group}: ${(err as Error).message}`)));
  }

  /** The leader's machine of group `id`, once it applied everything acknowledged. */
  private settledLeader(id: number): PartitionMachine | string {
    const leader = this.sim.groupLeader(id);
    if (leader === undefined || !(leader.app instanceof SimPartitionApp)) return `group ${id}: no leader`;
    if (leader.app.appliedIndex < leader.checker.ackedIndex) return `group ${id}: leader behind`;
    return leader.app.machine;
  }

  livenessProblem(): string | undefined {
    for (const g of this.groups.values()) {
      const pending = g.client.pending();
      if (pending !== undefined) return `group ${g.id}: ${pending}`;
      const m = this.settledLeader(g.id);
      if (typeof m === 'string') return m;
      for (const q of m.queueIds()) {
        if (m.deadLetterIds(q).length > 0) return `group ${g.id}: queue ${q} has ${m.deadLetterIds(q).length} dead-letters in flight`;
        for (const h of m.checkedOut(q)) {
          const c = g.client.consumers.get(`${h.session}\0${h.consumer}`);
          if (c === undefined || c.state === 'gone') return `group ${g.id}: ${q}:${h.msgId} checked out to ${h.session}/${h.consumer}, whose session is gone`;
          if (!c.held.has(h.msgId) && !c.settling.has(h.msgId)) {
            return `group ${g.id}: ${q}:${h.msgId} checked out to ${h.session}/${h.consumer}, which never received it`;
          }
        }
      }
    }
    return undefined;
  }

  finish(stats: SimStats): void {
    const totals: Record<string, number> = { storeChecks: this.storeChecks };
    const add = (k: string, n: number): void => {
      totals[k] = (totals[k] ?? 0) + n;
    };
    const problems: string[] = [];
    for (const g of this.groups.values()) {
      const m = this.settledLeader(g.id);
      if (typeof m === 'string') throw new SafetyViolation(m);
      const r = reconcile(g, m);
      problems.push(...r.problems, ...g.client.problems);
      for (const [k, v] of Object.entries(r.fates)) add(k === 'lost' || k === 'confirmedMessages' ? k : `fate:${k}`, v);
      // Every stored message's end as applied (fates above trace confirmed publishes only).
      for (const [k, v] of Object.entries(g.ledger.tally)) add(k === 'stored' || k === 'enqueueEntries' || k === 'duplicates' ? k : `ended:${k}`, v);
      for (const [k, v] of Object.entries(g.client.stats)) add(k, v);
    }
    stats.app = totals;
    if (problems.length > 0) {
      throw new SafetyViolation(`partition: ${problems.length} problem(s), lost ${totals['lost'] ?? 0}:\n  ${problems.slice(0, 12).join('\n  ')}`);
    }
  }
}

/** Where every confirmed publish of group `g` is now, per target queue. */
function reconcile(g: GroupState, m: PartitionMachine): { fates: Record<string, number>; problems: string[] } {
  const present = new Set<string>();
  for (const q of m.queueIds()) {
    for (const id of m.readyIds(q)) present.add(`${q}:${id}`);
    for (const h of m.checkedOut(q)) present.add(`${q}:${h.msgId}`);
    for (const id of m.deadLetterIds(q)) present.add(`${q}:${id}`);
  }
  const fates: Record<string, number> = { lost: 0, confirmedMessages: 0 };
  const problems: string[] = [];
  const fate = (k: string, what: string, depth: number): void => {
    if (present.has(k)) {
      const label = depth > 0 ? 'copy-present' : 'present';
      fates[label] = (fates[label] ?? 0) + 1;
      return;
    }
    const end = g.ledger.ends.get(k);
    if (end === undefined) {
      fates['lost']!++;
      problems.push(`${what}: message ${k} is neither present nor ended`);
      return;
    }
    if (end !== 'deadLettered' || depth > 0) {
      const label = depth > 0 ? `copy-${end}` : end;
      fates[label] = (fates[label] ?? 0) + 1;
      return;
    }
    const [queue] = k.split(':').map(Number) as [number];
    const seq = g.ledger.deadLetterSeq.get(k);
    const copy = seq === undefined ? undefined : g.ledger.enqueues.get(`${deadLetterSession(g.id, queue)}/${seq}`);
    if (copy === undefined || copy.outcomes[0] !== 'accepted') {
      if (g.ledger.unroutedDeadLetters.has(k)) fates['deadLetteredUnrouted'] = (fates['deadLetteredUnrouted'] ?? 0) + 1;
      else {
        fates['lost']!++;
        problems.push(`${what}: message ${k} was dead-lettered (seq ${seq}) but its copy was never stored`);
      }
      return;
    }
    fates['deadLettered'] = (fates['deadLettered'] ?? 0) + 1;
    fate(`${copy.queues[0]}:${copy.msgIds[0]}`, `${what} (dead-letter copy)`, depth + 1);
  };
  for (const p of g.client.publishers) {
    for (const [seq, conf] of p.confirmed) {
      const id = `${p.session}/${seq}`;
      const applied = g.ledger.enqueues.get(id);
      if (applied === undefined) {
        fates['lost']!++;
        problems.push(`publish ${id} was confirmed (${conf.kind}) but no replica ever applied it`);
        continue;
      }
      if (conf.kind === 'enqueued' && JSON.stringify(conf.outcomes) !== JSON.stringify(applied.outcomes)) {
        problems.push(`publish ${id} confirmed with ${JSON.stringify(conf.outcomes)} but applied with ${JSON.stringify(applied.outcomes)}`);
      }
      applied.outcomes.forEach((o, i) => {
        if (o !== 'accepted') return;
        fates['confirmedMessages']!++;
        fate(`${applied.queues[i]}:${applied.msgIds[i]}`, `publish ${id}`, 0);
      });
    }
  }
  return { fates, problems };
}
