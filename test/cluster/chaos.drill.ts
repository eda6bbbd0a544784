// A chaos drill (not part of the suite: `npm run drill -- [seconds]`, default 180): a local
// `warren cluster` of real nodes under confirm-tracked publishing and acked consuming through the
// balancer on four durable queues, while, every few seconds, a random node is killed with -9 (every
// fifth round two owners at once: the partitions lose their quorum until they are back) or an owner
// is frozen with SIGSTOP for 3–15 s (elections go on without it; awake, it must step down). After
// each fault it reports how long until every queue's confirms flowed again (STUCK after 60 s); at
// the end, per queue: confirmed, received, duplicates with and without the redelivered flag (a
// republished body is the client's own duplicate) and LOST, which must be 0.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ackingConsumer, ConfirmedPublisher, getJson, RealCluster, Received } from './amqp-load.js';

const seconds = Number(process.argv[2] ?? 180);
const QUEUES = ['chaos-a', 'chaos-b', 'chaos-c', 'chaos-d'];

// DRILL_LOG_LEVEL=info: the nodes' logs say more; they are kept when anything was lost.
const cluster = await RealCluster.start(1000, {}, process.env['DRILL_LOG_LEVEL'] ?? 'warn');
/** Something went wrong (lost, or duplicated without the redelivered flag): the nodes' logs are kept (always with DRILL_KEEP_LOGS=1). */
let keepLogs = process.env['DRILL_KEEP_LOGS'] === '1';
const log = (s: string): void => console.log(`[${new Date().toISOString().slice(11, 23)}] ${s}`);

/** A queue's figures through the balancer's management API, as one line. */
async function queueFigures(queue: string): Promise<string> {
  const q = await getJson<Record<string, unknown>>(`${cluster.state().lb.http}/api/queues/%2F/${queue}`);
  if (q === undefined) return 'unavailable';
  return ['messages_ready', 'messages_unacknowledged', 'consumers', 'leader', 'online'].map((k) => `${k} ${JSON.stringify(q[k])}`).join(', ');
}
try {
  const lb = cluster.state().lb.amqp.replace('amqp://', 'amqp://guest:guest@');
  const pubs = QUEUES.map((q) => new ConfirmedPublisher(lb, q, 100));
  for (const p of pubs) await p.start();
  const received = QUEUES.map(() => new Received());
  const subs = QUEUES.map((q, i) => ackingConsumer(lb, q, `sub-${q}`, received[i]!, 50));
  for (const s of subs) await s.start();
  const total = (): number => pubs.reduce((n, p) => n + p.confirmed.size, 0);
  const progress = async (what: string): Promise<void> => {
    const before = pubs.map((p) => p.confirmed.size);
    const t0 = Date.now();
    while (pubs.some((p, i) => p.confirmed.size < before[i]! + 50)) {
      if (Date.now() - t0 > 60_000) {
        log(`STUCK after ${what}: ${pubs.map((p, i) => `${QUEUES[i]} +${p.confirmed.size - before[i]!} pending ${p.pending.size}`).join(', ')}`);
        return;
      }
      await sleep(100);
    }
    log(`progress after ${what} in ${Date.now() - t0} ms (confirmed ${total()})`);
  };
  await progress('start');
  const end = Date.now() + seconds * 1000;
  let round = 0;
  while (Date.now() < end) {
    round++;
    const state = cluster.state();
    const owners = state.nodes.filter((n) => n.role === 'owner').map((n) => n.id);
    const all = state.nodes.map((n) => n.id);
    const victims = round % 5 === 0
      ? [...owners].sort(() => Math.random() - 0.5).slice(0, 2)
      : [all[Math.floor(Math.random() * all.length)]!];
    if (round % 3 === 1) {
      // Freeze an owner (a stalled VM, a long GC): elections go on without it; when it wakes it must step down.
      const id = owners[Math.floor(Math.random() * owners.length)] ?? owners[0]!;
      const pid = state.nodes.find((n) => n.id === id)!.pid!;
      const ms = 3_000 + Math.floor(Math.random() * 12_000);
      log(`round ${round}: SIGSTOP owner ${id} for ${ms} ms`);
      process.kill(pid, 'SIGSTOP');
      await sleep(ms);
      process.kill(pid, 'SIGCONT');
      await progress(`round ${round}`);
      await sleep(2_000);
      continue;
    }
    const pids = victims.map((id) => cluster.kill(id));
    log(`round ${round}: kill -9 ${victims.join(' and ')}`);
    await Promise.all(victims.map((id, i) => cluster.restarted(id, pids[i]!, 90_000)));
    await progress(`round ${round}`);
    await sleep(2_000 + Math.random() * 6_000);
  }
  log('finishing publishers');
  await Promise.all(pubs.map((p) => p.finish(120_000)));
  const t0 = Date.now();
  while (Date.now() - t0 < 90_000 && pubs.some((p, i) => received[i]!.missing(p.confirmed).length > 0)) await sleep(200);
  for (const [i, p] of pubs.entries()) {
    const r = received[i]!;
    const lost = r.missing(p.confirmed);
    const unflagged = [...r.unflagged].filter((b) => !p.resentBodies.has(b));
    log(`${QUEUES[i]}: confirmed ${p.confirmed.size}, nacked ${p.nacked}, resent ${p.resent}, received ${r.bodies.size}, `
      + `flagged dups ${r.duplicatesFlagged}, unflagged dups (not resent) ${unflagged.length}, LOST ${lost.length}${lost.length ? ' e.g. ' + lost.slice(0, 5).join(',') : ''}`);
    // Not received is not yet lost: say whether the queue still holds them (a consumer stuck) or not.
    if (unflagged.length > 0) {
      keepLogs = true; // keep the logs: a duplicate without the redelivered flag
      for (const b of unflagged.slice(0, 5)) log(`${QUEUES[i]} unflagged ${b}: ${r.unflaggedSeen.get(b)}`);
    }
    if (lost.length > 0) {
      keepLogs = true;
      log(`${QUEUES[i]} now: ${await queueFigures(QUEUES[i]!)}`);
    }
  }
  for (const s of subs) await s.stop();
} finally {
  if (keepLogs) {
    const kept = `/tmp/drill-logs-${Date.now()}`;
    cpSync(join(cluster.launcher.dir, 'data'), kept, { recursive: true, filter: (src) => !src.includes('/raft') });
    log(`node logs kept in ${kept}`);
  }
  await cluster.stop();
}
