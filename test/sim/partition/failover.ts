// The three-failover scenario (issue 7, "Three replicas"): one partition group of three replicas
// under the production driver, a publisher with confirms and a consumer acking every message, and
// the leader's process killed three times at chosen points:
//   1. while the consumer holds deliveries of that leader, unacked: it acks them after the
//      failover, and each must end settled, delivered once (consumers and checked-out messages
//      are replicated state, so the new leader knows who holds what) — unless still unacked at
//      kill 2, which takes the consumer's session;
//   2. while an ack is in flight, taking the consumer's frontend session with it (it ran on the
//      dead node): what that consumer held comes back redelivered (redelivered = true) to a new
//      consumer, unless its in-flight ack committed first;
//   3. while publishes are unconfirmed: they are retried (same seq) and stored once.
// Deterministic: no random faults (calm world), the kills are scripted; the seed only shapes timing.
import { Sim } from '../world.js';
import type { Consumer, ClientProfile } from './client.js';
import { SimPartitionApp } from './papp.js';
import { PartitionWorkload } from './workload.js';

export const FAILOVER_PROFILE: ClientProfile = {
  queues: [{ name: 'q', args: {} }],
  targets: ['q'],
  consumers: [['q', 20, false]],
  admin: false,
  nackShare: 0,
  publishRate: 0.7,
  maxUnconfirmed: 40,
  settleRate: 0.3,
  idleRate: 0,
  messageTtlShare: 0,
  cancelWhenDone: false,
};

export interface FailoverReport {
  readonly kills: { step: number; leader: number; point: string }[];
  confirmed: number;
  /** Distinct messages consumers received. */
  received: number;
  lost: number;
  /** Messages delivered by a killed leader, acked after the failover, that ended settled once delivered once. */
  ackedAfterFailover: number;
  /** Messages held by the consumer whose session died with the leader, redelivered with redelivered = true. */
  redeliveredAfterSessionLoss: number;
  /** Publishes unconfirmed at kill 3, confirmed later. */
  confirmedAfterRetry: number;
  readonly problems: string[];
  steps: number;
  app: Record<string, number>;
}

const PHASE_STEPS = 400;
const DOWN_STEPS = 250;

export async function runFailover(seed: number, log?: (line: string) => void): Promise<FailoverReport> {
  let w: PartitionWorkload | undefined;
  const sim = new Sim({
    seed, chaosSteps: 0, livenessSteps: 0, calm: true, shape: { voters: 3, groups: 1 },
    workload: (s) => (w = new PartitionWorkload(s, { profile: FAILOVER_PROFILE })),
    proposalTimeoutSteps: 150, minSnapshotChunkBytes: 256, ...(log === undefined ? {} : { log }),
  });
  const { client, ledger } = w!.group(1);
  const report: FailoverReport = {
    kills: [], confirmed: 0, received: 0, lost: 0, ackedAfterFailover: 0, redeliveredAfterSessionLoss: 0,
    confirmedAfterRetry: 0, problems: [], steps: 0, app: {},
  };
  const deliveries = new Map<number, { consumer: string; redelivered: boolean }[]>();
  client.onDelivery = (c, e) => {
    const list = deliveries.get(e.msgId) ?? [];
    list.push({ consumer: `${c.session}/${c.tag}`, redelivered: e.redelivered });
    deliveries.set(e.msgId, list);
  };
  const step = async (): Promise<void> => {
    const p = sim.step();
    if (p !== undefined) await p;
  };
  const until = async (what: string, cond: () => boolean, max = 3000): Promise<void> => {
    for (let i = 0; i < max && !cond(); i++) await step();
    if (!cond()) throw new Error(`failover scenario: ${what} not reached by step ${sim.now}`);
  };
  const consumer = (): Consumer | undefined => [...client.consumers.values()].find((c) => c.state === 'active' && !c.getter);
  const leader = (): number => sim.groupLeader(1)?.id ?? 0;
  const kill = (point: string): number => {
    const id = leader();
    report.kills.push({ step: sim.now, leader: id, point });
    sim.log(`scenario: kill leader n${id} (${point})`);
    sim.crashNow(id, DOWN_STEPS);
    return id;
  };
  const publisher = client.publishers[0]!;

  await until('a leader and a consumer', () => leader() !== 0 && consumer() !== undefined && publisher.confirmed.size >= 30);
  // Kill 1: the consumer holds deliveries of this leader, unacked.
  await until('held deliveries', () => (consumer()?.held.size ?? 0) >= 5);
  const held1 = new Set(consumer()!.held.keys());
  const dead1 = kill('consumer holds unacked deliveries');
  await until('a new leader', () => leader() !== 0 && leader() !== dead1);
  for (let i = 0; i < PHASE_STEPS; i++) await step();

  // Kill 2: an ack in flight; the consumer's frontend session dies with the leader.
  await until('an ack in flight', () => (consumer()?.settling.size ?? 0) > 0 && (consumer()?.held.size ?? 0) > 0);
  const c2 = consumer()!;
  const lostWithSession = new Set([...c2.held.keys(), ...c2.settling.keys()]);
  const dead2 = kill('ack in flight, consumer session on the dead node');
  client.dropConsumerSession(c2.session);
  await until('a new leader', () => leader() !== 0 && leader() !== dead2);
  for (let i = 0; i < PHASE_STEPS; i++) await step();

  // Kill 3: publishes unconfirmed.
  await until('unconfirmed publishes', () => publisher.unconfirmed.size >= 4);
  const unconfirmed3 = new Set(publisher.unconfirmed.keys());
  const dead3 = kill('publishes unconfirmed');
  await until('a new leader', () => leader() !== 0 && leader() !== dead3);
  for (let i = 0; i < PHASE_STEPS; i++) await step();

  sim.quiesce();
  const drained = (): boolean => {
    const lead = sim.groupLeader(1);
    const m = lead?.app instanceof SimPartitionApp ? lead.app.machine : undefined;
    const view = m?.queue(client.queueIds.get('q') ?? 0);
    return w!.livenessProblem() === undefined && lead?.app.appliedIndex === lead?.checker.ackedIndex
      && view !== undefined && view.messageCount === 0 && view.unackedCount === 0;
  };
  await until('everything confirmed, consumed and settled', drained, 6000);
  w!.finish(sim.stats);
  report.app = sim.stats.app;
  report.steps = sim.now;
  report.confirmed = report.app['confirmed'] ?? 0;
  report.lost = report.app['lost'] ?? 0;
  report.received = deliveries.size;
  const q = client.queueIds.get('q')!;
  for (const id of held1) {
    if (lostWithSession.has(id)) continue; // still unacked at kill 2: checked below
    const end = ledger.ends.get(`${q}:${id}`);
    const times = deliveries.get(id)?.length ?? 0;
    if (end === 'settled' && times === 1) report.ackedAfterFailover++;
    else report.problems.push(`kill 1: ${q}:${id} held at the kill ended ${end ?? 'nowhere'} after ${times} deliveries: ${JSON.stringify(deliveries.get(id))}`);
  }
  for (const id of lostWithSession) {
    const again = (deliveries.get(id) ?? []).filter((d) => d.consumer !== `${c2.session}/${c2.tag}`);
    if (again.length > 0 && again.every((d) => d.redelivered)) report.redeliveredAfterSessionLoss++;
    else if (again.length > 0) report.problems.push(`kill 2: ${q}:${id} came back without redelivered`);
    else if (ledger.ends.get(`${q}:${id}`) !== 'settled') report.problems.push(`kill 2: ${q}:${id} neither settled by the in-flight ack nor redelivered`);
  }
  for (const seq of unconfirmed3) {
    if (publisher.confirmed.has(seq)) report.confirmedAfterRetry++;
    else report.problems.push(`kill 3: publish ${seq} never confirmed`);
  }
  if (process.env['SIM_DEBUG_FAILOVER'] === '1') {
    for (const [seq] of publisher.confirmed) {
      const a = ledger.enqueues.get(`${publisher.session}/${seq}`);
      const id = a?.msgIds[0] ?? 0;
      if (!deliveries.has(id)) report.problems.push(`debug: ${seq} -> ${q}:${id} ended ${ledger.ends.get(`${q}:${id}`)} never received`);
    }
  }
  return report;
}
