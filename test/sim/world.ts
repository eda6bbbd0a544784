// The deterministic simulator: P processes hosting G Raft groups in one JS process, a virtual
// clock (one step = one time unit; each process ticks its replicas every TICK_STEPS), a seeded
// network and disk, fault injection, and the safety checker run after every step.
// Everything random comes from one mulberry32 stream, so a seed replays exactly.
import {
  ConfChangeType,
  MemoryStorage,
  RaftError,
  StateType,
  bootstrap,
  mulberry32,
  MessageType,
  type ConfChange,
  type Message,
  type NodeId,
} from '../../src/raft/core/index.js';
import type { DriverPorts } from '../../src/raft/node/ports.js';
import { MemoryLogStore } from '../../src/raft/storage/memory.js';
import { clientValue } from './app.js';
import { GroupChecker } from './checker.js';
import { Network, type PartitionKind } from './network.js';
import { Replica, type SimGroupApp } from './replica.js';

const TICK_STEPS = 5;

/**
 * An application and its clients plugged into the world (the default is the keys app of app.ts
 * with the world's own client). Called at fixed points of every step; see partition/workload.ts.
 */
export interface SimWorkload {
  /** The application of one replica incarnation (called on every start). */
  makeApp(rep: Replica): SimGroupApp;
  /** Client and owner work of one step; `clients` is false once the liveness phase quiesces. */
  step(clients: boolean): void;
  /** Extra safety checks after every step (a promise when they read stores). */
  check(): Promise<void> | undefined;
  /** Why the run is not finished yet in the liveness phase (undefined: done). */
  livenessProblem(): string | undefined;
  /** Final checks once live; adds the workload's figures to the stats. */
  finish(stats: SimStats): void;
}

export interface SimParams {
  readonly seed: number;
  readonly chaosSteps: number;
  readonly livenessSteps: number;
  readonly log?: (line: string) => void;
  /** Scenario tests: no random faults (network, disk, crashes, membership); crashes are scripted. */
  readonly calm?: boolean;
  /** Overrides the seeded choice of voters per group and number of groups. */
  readonly shape?: { readonly voters: number; readonly groups: number };
  /** Replaces the keys app and its client (called once, after the world is built). */
  readonly workload?: (sim: Sim) => SimWorkload;
  /** Snapshot chunks are at least this large (the keys app's snapshots are tiny; a partition's are not). */
  readonly minSnapshotChunkBytes?: number;
  /** Proposals not answered within this many steps reject (0: never, the keys app's default). */
  readonly proposalTimeoutSteps?: number;
}

export interface SimStats {
  steps: number;
  faults: Record<string, number>;
  committed: number;
  elections: number;
  messages: number;
  groups: number;
  voters: number;
  /** The workload's own figures (partition mode: enqueues committed, lost, ...). */
  app: Record<string, number>;
}

interface Proc {
  readonly id: NodeId;
  alive: boolean;
  restartAt: number;
  readonly phase: number;
}

interface Group {
  readonly id: number;
  readonly checker: GroupChecker;
  readonly retired: Set<NodeId>;
  seq: number;
}

export class Sim {
  readonly rand: () => number;
  now = 0;
  readonly procs = new Map<NodeId, Proc>();
  readonly replicas = new Map<string, Replica>();
  readonly groups: Group[] = [];
  readonly net: Network;
  readonly stats: SimStats;
  private partitionEndsAt = 0;
  /** Replica starts (async: openRawCore loads the disk) awaited by the next settle(). */
  private starting: Array<Promise<void>> = [];
  private chaos = true;
  private clients = true;
  private readonly maxDiskDelay: number;
  private readonly crashRate: number;
  private readonly isolateNewLeaderRate: number;
  private readonly maxMsgBytes: number;
  private readonly maxInflight: number;
  private readonly snapshotEvery: number;
  private readCtx = 0;
  /** Scheduled crashes of freshly elected leaders (process id -> step). */
  private readonly crashAt = new Map<NodeId, number>();
  private readonly compactKeep: number;
  private readonly chunkBytes: number;
  /** The drivers' deferred work and timers, run by settle() in virtual time. */
  private deferred: Array<() => void> = [];
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  private fatalError: Error | undefined;
  /** Inputs this step that start async work in a driver (snapshot chunks and acks, client calls). */
  private asyncKicks = 0;
  /** Set by params.workload once the world is built. */
  private workload: SimWorkload | undefined;
  readonly ports: DriverPorts = {
    defer: (fn) => {
      this.deferred.push(fn);
    },
    after: (ms, fn) => {
      const t = { at: this.now + ms, fn, live: true };
      this.timers.push(t);
      return { cancel: () => { t.live = false; } };
    },
  };

  constructor(readonly params: SimParams) {
    this.rand = mulberry32(params.seed);
    const voters = params.shape?.voters ?? this.pick([3, 3, 5]);
    const nGroups = params.shape?.groups ?? this.pick([1, 1, 1, 2, 3]);
    const nProcs = voters + 2;
    this.net = new Network(this.rand, {
      dropRate: this.pick([0, 0.01, 0.05, 0.2]),
      dupRate: this.pick([0, 0.01, 0.1]),
      maxDelaySteps: this.pick([1, 3, 10, 25]),
    });
    const diskDelay = this.pick([0, 1, 4, 15]);
    this.maxDiskDelay = params.calm === true ? 1 : diskDelay;
    this.crashRate = this.pick([0.0005, 0.0015, 0.005]);
    this.isolateNewLeaderRate = this.pick([0, 0.1, 0.3]);
    this.maxMsgBytes = this.pick([24, 256, 4096]);
    this.maxInflight = this.pick([1, 4, 64]);
    this.snapshotEvery = this.pick([8, 30, 200]);
    this.compactKeep = this.pick([0, 2, 7]);
    // A partition's snapshot is kilobytes to hundreds of kilobytes: 16-byte chunks would take longer than the run.
    this.chunkBytes = Math.max(this.pick([16, 64, 4096]), params.minSnapshotChunkBytes ?? 0);
    this.stats = { steps: 0, faults: {}, committed: 0, elections: 0, messages: 0, groups: nGroups, voters, app: {} };
    for (let id = 1; id <= nProcs; id++) {
      this.procs.set(id, { id, alive: true, restartAt: 0, phase: Math.floor(this.rand() * TICK_STEPS) });
    }
    const initial = [...Array(voters).keys()].map((i) => i + 1);
    for (let g = 1; g <= nGroups; g++) {
      this.groups.push({ id: g, checker: new GroupChecker(g), retired: new Set(), seq: 0 });
      for (const id of initial) {
        // Bootstrapped like openCore does: conf-change entries at term 1, committed.
        const boot = new MemoryStorage();
        bootstrap(boot, initial);
        const disk = new MemoryLogStore();
        void disk.save({ entries: boot.entries(1, boot.lastIndex() + 1, Infinity), hardState: boot.hardStateNow() });
        this.addReplica(id, g, disk);
      }
    }
    this.log(
      `seed ${params.seed}: ${nProcs} processes, ${nGroups} group(s) of ${voters} voters, ` +
        `drop ${this.net.faults.dropRate} dup ${this.net.faults.dupRate} delay≤${this.net.faults.maxDelaySteps} ` +
        `disk≤${this.maxDiskDelay} crash ${this.crashRate} isolateNewLeader ${this.isolateNewLeaderRate} ` +
        `msg≤${this.maxMsgBytes}B inflight ${this.maxInflight} snapshotEvery ${this.snapshotEvery} keep ${this.compactKeep} ` +
        `chunk ${this.chunkBytes}B`,
    );
    if (params.calm === true) {
      this.chaos = false;
      this.net.faults = { dropRate: 0, dupRate: 0, maxDelaySteps: 3 };
    }
    // Replicas above start asynchronously: they ask for their application after this.
    this.workload = params.workload?.(this);
  }

  log(line: string): void {
    this.params.log?.(`[${String(this.now).padStart(6)}] ${line}`);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }

  fault(kind: string): void {
    this.stats.faults[kind] = (this.stats.faults[kind] ?? 0) + 1;
  }

  private addReplica(id: NodeId, group: number, disk: MemoryLogStore): Replica {
    const g = this.groups[group - 1]!;
    const rep = new Replica(id, group, disk, {
      now: () => this.now,
      send: (grp, ms) => {
        for (const m of ms) {
          this.stats.messages++;
          this.net.send(this.now, grp, m);
        }
      },
      log: (l) => this.log(l),
      diskDelaySteps: () => Math.floor(this.rand() * (this.maxDiskDelay + 1)),
      ports: this.ports,
      fatal: (err) => this.fail(err),
      proposalTimeoutMs: this.params.proposalTimeoutSteps ?? 0,
      makeApp: (r) => this.workload?.makeApp(r),
      compaction: { everyEntries: this.snapshotEvery, keepEntries: this.compactKeep, maxKeepForFollowers: this.snapshotEvery },
      snapshotChunkBytes: this.chunkBytes,
      maxSizePerMsgBytes: this.maxMsgBytes,
      maxInflightMsgs: this.maxInflight,
    }, g.checker);
    this.replicas.set(`${id}/${group}`, rep);
    if (this.procs.get(id)!.alive) this.starting.push(rep.start(Math.floor(this.rand() * 2 ** 32)));
    return rep;
  }

  /** Runs the chaos phase, heals everything, runs the liveness phase, then checks liveness. */
  async run(): Promise<SimStats> {
    await this.settle();
    for (let i = 0; i < this.params.chaosSteps; i++) {
      const p = this.step(); // awaited only when it has asynchronous work (most steps have none)
      if (p !== undefined) await p;
    }
    this.healAll();
    const quiesceAt = Math.floor(this.params.livenessSteps / 2);
    for (let i = 0; i < this.params.livenessSteps; i++) {
      if (i === quiesceAt) this.clients = false;
      const p = this.step();
      if (p !== undefined) await p;
    }
    // Slow configurations (1-entry messages, window 1, 25-step delays) may need longer to catch
    // a learner up from nothing; allow up to 4x the phase before calling it a liveness failure.
    for (let extra = 0; this.livenessProblem() !== undefined && extra < 3 * this.params.livenessSteps; extra++) {
      const p = this.step();
      if (p !== undefined) await p;
    }
    const problem = this.livenessProblem();
    if (problem !== undefined) throw new LivenessFailure(problem);
    this.stats.steps = this.now;
    this.stats.committed = this.groups.reduce((n, g) => n + g.checker.ackedCount(), 0);
    this.workload?.finish(this.stats);
    return this.stats;
  }

  /** One step; returns a promise only when the drivers have asynchronous work to finish. */
  step(): Promise<void> | undefined {
    this.now++;
    if (this.chaos) this.injectFaults();
    for (const env of this.net.due(this.now)) this.deliver(env.group, env.msg);
    for (const p of this.procs.values()) {
      if (!p.alive && p.restartAt <= this.now) this.restart(p);
      if (!p.alive || (this.now + p.phase) % TICK_STEPS !== 0) continue;
      for (const g of this.groups) this.replicas.get(`${p.id}/${g.id}`)?.driver?.tick();
    }
    if (this.workload !== undefined) this.workload.step(this.clients);
    else if (this.clients) this.clientRequests();
    if (this.starting.length === 0 && this.runDue() === 0) return this.endStep();
    return this.settle().then(() => this.endStep());
  }

  private endStep(): Promise<void> | undefined {
    if (this.fatalError !== undefined) throw this.fatalError;
    this.check();
    const extra = this.workload?.check();
    if (extra === undefined) return undefined;
    return extra.then(() => {
      if (this.fatalError !== undefined) throw this.fatalError;
    });
  }

  /** A workload's or driver's failure: the run stops at the end of this step. */
  fail(err: Error): void {
    this.fatalError ??= err;
  }

  /** A workload started asynchronous work this step: let settle() run its continuations. */
  kick(): void {
    this.asyncKicks++;
  }

  /** Clients stop starting new work (the liveness phase's quiesce; scenario tests). */
  quiesce(): void {
    this.clients = false;
  }

  /** Whether the run is still in its chaos phase (faults injected). */
  get inChaos(): boolean {
    return this.chaos;
  }

  /** Whether process `id` is up. */
  alive(id: NodeId): boolean {
    return this.procs.get(id)?.alive === true;
  }

  /** The leader of group `id` with the highest term, if any (it may be cut off from the others). */
  groupLeader(id: number): Replica | undefined {
    return this.leaderOf(this.groups[id - 1]!);
  }

  /** Crashes process `id` now (scenario tests); it restarts after `downSteps`. */
  crashNow(id: NodeId, downSteps: number): void {
    const p = this.procs.get(id);
    if (p === undefined || !p.alive) return;
    this.crash(p);
    p.restartAt = this.now + downSteps;
    this.fault('crash-scripted');
  }

  /**
   * Lets the drivers run: completes disk writes due now, fires due timers, runs deferred drains,
   * and yields to the microtask queue (the drivers' awaits) until a round produces no new work.
   * Work still in flight after that simply continues in the next step (it took "longer").
   */
  private async settle(): Promise<void> {
    if (this.starting.length > 0) {
      const starting = this.starting;
      this.starting = [];
      await Promise.all(starting);
      this.runDue();
    }
    for (let round = 0; round < 32; round++) {
      for (let i = 0; i < 8; i++) await null;
      if (this.runDue() === 0) break;
    }
  }

  /**
   * One synchronous round; returns the work that leaves continuations on the microtask queue:
   * disk writes completing, timers, drains that took a Ready, snapshot chunks and acks, client
   * calls. A drain that found nothing to do finishes synchronously and needs no yield.
   */
  private runDue(): number {
    let work = this.asyncKicks;
    this.asyncKicks = 0;
    for (const rep of this.replicas.values()) work += rep.completeWrites(this.now);
    if (this.timers.length > 0 && this.timers.some((t) => t.at <= this.now)) {
      const due = this.timers.filter((t) => t.at <= this.now && t.live);
      this.timers = this.timers.filter((t) => t.at > this.now && t.live);
      for (const t of due) t.fn();
      work += due.length;
    }
    if (this.deferred.length > 0) {
      const before = this.readies();
      while (this.deferred.length > 0) {
        const fns = this.deferred;
        this.deferred = [];
        for (const fn of fns) fn();
      }
      work += this.readies() - before;
    }
    return work;
  }

  private readies(): number {
    let n = 0;
    for (const rep of this.replicas.values()) n += rep.driver?.stats.readies ?? 0;
    return n;
  }

  private deliver(group: number, m: Message): void {
    const p = this.procs.get(m.to);
    if (p === undefined || !p.alive || !this.net.connected(m.from, m.to)) return;
    const driver = this.replicas.get(`${m.to}/${group}`)?.driver;
    if (driver === undefined || driver === null) return;
    this.net.delivered++;
    if (m.type === MessageType.Snap || m.type === MessageType.SnapAck) this.asyncKicks++;
    driver.step(m); // a throw here is a core bug: network input must never make step() fail
  }

  private restart(p: Proc): void {
    p.alive = true;
    this.log(`restart n${p.id}`);
    for (const g of this.groups) {
      const rep = this.replicas.get(`${p.id}/${g.id}`);
      if (rep !== undefined) this.starting.push(rep.start(Math.floor(this.rand() * 2 ** 32)));
    }
  }

  private crash(p: Proc): void {
    p.alive = false;
    p.restartAt = this.now + 20 + Math.floor(this.rand() * 600);
    this.log(`crash n${p.id} (restart at ${p.restartAt}); unsynced writes lost`);
    for (const g of this.groups) this.replicas.get(`${p.id}/${g.id}`)?.crash();
  }

  private injectFaults(): void {
    const r = this.rand();
    if (this.net.partition === null && r < 0.002) {
      const kind = this.pick<PartitionKind>(['halves', 'ring', 'isolate']);
      const desc = this.net.cut(kind, [...this.procs.keys()]);
      this.partitionEndsAt = this.now + 100 + Math.floor(this.rand() * 1000);
      this.fault(`partition-${kind}`);
      this.log(`partition ${desc} until ${this.partitionEndsAt}`);
    } else if (this.net.partition !== null && this.now >= this.partitionEndsAt) {
      this.net.heal();
      this.log('partition healed');
    }
    const down = [...this.procs.values()].filter((p) => !p.alive).length;
    for (const [id, at] of this.crashAt) {
      if (at > this.now) continue;
      this.crashAt.delete(id);
      const p = this.procs.get(id)!;
      if (p.alive && down < 2) {
        this.crash(p);
        this.fault('crash-new-leader');
      }
    }
    if (this.rand() < this.crashRate / 3 && down < 2) {
      // Leaders are where the interesting interleavings are (Figure 8): crash one on purpose.
      const leader = this.leaderOf(this.pick(this.groups));
      const p = leader === undefined ? undefined : this.procs.get(leader.id);
      if (p?.alive === true) {
        this.crash(p);
        this.fault('crash-leader');
      }
    } else if (this.rand() < this.crashRate && down < 2) {
      const alive = [...this.procs.values()].filter((p) => p.alive);
      if (alive.length > 0) {
        this.crash(this.pick(alive));
        this.fault('crash');
      }
    }
    if (this.rand() < 0.003) this.changeMembership(this.pick(this.groups));
    if (this.rand() < 0.0015) this.transferLeadership(this.pick(this.groups));
  }

  private healAll(): void {
    this.chaos = false;
    this.net.heal();
    this.net.faults = { dropRate: 0, dupRate: 0, maxDelaySteps: this.net.faults.maxDelaySteps };
    for (const p of this.procs.values()) if (!p.alive) this.restart(p);
    this.log('--- liveness phase: all faults healed, all processes up ---');
  }

  private leaderOf(g: Group): Replica | undefined {
    let best: Replica | undefined;
    let bestTerm = -1;
    for (const p of this.procs.values()) {
      const rep = this.replicas.get(`${p.id}/${g.id}`);
      const st = rep?.node?.basicStatus();
      if (st !== undefined && st.state === StateType.Leader && st.term > bestTerm) {
        best = rep;
        bestTerm = st.term;
      }
    }
    return best;
  }

  private clientRequests(): void {
    for (const g of this.groups) {
      const r = this.rand();
      if (r > 0.04) continue;
      const reps = [...this.procs.values()]
        .filter((p) => p.alive)
        .map((p) => this.replicas.get(`${p.id}/${g.id}`))
        .filter((x): x is Replica => x?.node != null);
      if (reps.length === 0) continue;
      const rep = this.pick(reps);
      if (r < 0.006) this.read(rep, g);
      else this.propose(rep, g);
    }
  }

  /** A linearizable read through the driver: the answer must cover every write acknowledged before. */
  private read(rep: Replica, g: Group): void {
    const min = g.checker.ackedIndex;
    this.asyncKicks++;
    this.readCtx++;
    rep.driver!.readIndex().then((index) => g.checker.read(index, min, rep.id), (err: unknown) => this.expected(err));
  }

  /**
   * On the leader through the driver (the result must be the proposer's own apply result); on a
   * follower straight into its core, which forwards the proposal to the leader.
   */
  private propose(rep: Replica, g: Group): void {
    const data = clientValue(g.id, ++g.seq);
    if (rep.driver!.isLeader()) {
      this.asyncKicks++;
      rep.driver!.propose<string>(data).then((c) => {
        const want = g.checker.hashAt(c.index);
        if (c.result !== want) this.fatalError ??= new Error(`proposal at ${c.index} resolved with ${c.result}, applied ${want}`);
      }, (err: unknown) => this.expected(err));
      return;
    }
    try {
      rep.node!.propose(data);
      rep.driver!.schedule();
    } catch (err) {
      this.expected(err);
    }
  }

  /** Raft errors (not leader, dropped, stopped) are expected outcomes; anything else is a bug. */
  private expected(err: unknown): void {
    if (!(err instanceof RaftError)) this.fatalError ??= err instanceof Error ? err : new Error(String(err));
  }

  private changeMembership(g: Group): void {
    const leader = this.leaderOf(g);
    if (leader?.node == null) return;
    const st = leader.node.status();
    const { voters, learners } = st.conf;
    const members = new Set([...voters, ...learners]);
    const spare = [...this.procs.keys()].filter((id) => !members.has(id) && !g.retired.has(id));
    let cc: ConfChange | undefined;
    const ready = learners.find((l) => (st.progress.get(l)?.match ?? 0) + 5 >= st.lastIndex);
    if (ready !== undefined && voters.length < 5) cc = { type: ConfChangeType.AddNode, nodeId: ready };
    else if (learners.length === 0 && spare.length > 0 && voters.length < 5) {
      cc = { type: ConfChangeType.AddLearner, nodeId: this.pick(spare) };
    } else if (voters.length > 3) cc = { type: ConfChangeType.RemoveNode, nodeId: this.pick(voters) };
    else if (learners.length > 0 && this.rand() < 0.3) cc = { type: ConfChangeType.RemoveNode, nodeId: this.pick(learners) };
    if (cc === undefined) return;
    try {
      leader.node.proposeConfChange(cc);
      leader.driver?.schedule();
    } catch (err) {
      if (err instanceof RaftError) return;
      throw err;
    }
    const kind = cc.type === ConfChangeType.AddNode ? 'promote' : cc.type === ConfChangeType.AddLearner ? 'add-learner' : 'remove';
    this.fault(`conf-${kind}${cc.type === ConfChangeType.RemoveNode && cc.nodeId === leader.id ? '-leader' : ''}`);
    this.log(`g${g.id}: leader n${leader.id} proposes ${kind} n${cc.nodeId}`);
    if (cc.type === ConfChangeType.AddLearner && !this.replicas.has(`${cc.nodeId}/${g.id}`)) {
      this.addReplica(cc.nodeId, g.id, new MemoryLogStore());
    }
    if (cc.type === ConfChangeType.RemoveNode) g.retired.add(cc.nodeId);
  }

  private transferLeadership(g: Group): void {
    const leader = this.leaderOf(g);
    if (leader?.node == null) return;
    const others = leader.node.confState().voters.filter((v) => v !== leader.id);
    if (others.length === 0) return;
    const target = this.pick(others);
    leader.driver?.transferLeadership(target);
    this.fault('transfer');
    this.log(`g${g.id}: transfer leadership n${leader.id} -> n${target}`);
  }

  /** Safety, after every step. */
  private check(): void {
    for (const rep of this.replicas.values()) {
      const node = rep.node;
      if (node === null) continue;
      const st = node.basicStatus();
      const checker = this.groups[rep.group - 1]!.checker;
      if (st.commit > rep.checkedCommit) {
        for (let i = Math.max(rep.checkedCommit + 1, node.firstIndex()); i <= st.commit; i++) {
          const t = node.termAt(i);
          if (t !== undefined) checker.commit(i, t, st.term, rep.id);
        }
        rep.checkedCommit = st.commit;
      }
    }
    for (const rep of this.replicas.values()) {
      const node = rep.node;
      if (node === null) continue;
      const st = node.basicStatus();
      if (st.state !== StateType.Leader) continue;
      const checker = this.groups[rep.group - 1]!.checker;
      if (checker.leader(st.term, rep.id)) {
        this.stats.elections++;
        this.log(`g${rep.group}: n${rep.id} leads term ${st.term} (last index ${st.lastIndex})`);
        checker.newLeader(st.term, rep.id, node.firstIndex(), (i) => node.termAt(i));
        if (this.chaos && this.rand() < this.isolateNewLeaderRate) {
          // ...or crashed shortly after, while it is still bringing followers up to date.
          this.crashAt.set(rep.id, this.now + 3 + Math.floor(this.rand() * 60));
        }
        if (this.chaos && this.net.partition === null && this.rand() < this.isolateNewLeaderRate) {
          // A leader cut off right after its election leaves entries of a new term on a minority.
          this.net.isolateNode(rep.id);
          this.partitionEndsAt = this.now + 20 + Math.floor(this.rand() * 300);
          this.fault('partition-new-leader');
          this.log(`partition isolates new leader n${rep.id} until ${this.partitionEndsAt}`);
        }
      }
    }
  }

  /** Every entry acknowledged as committed is applied by every live member once faults heal. */
  private livenessProblem(): string | undefined {
    for (const g of this.groups) {
      const leader = this.leaderOf(g);
      if (leader?.node == null) return `group ${g.id}: no leader ${this.now - this.params.chaosSteps} steps after healing`;
      const conf = leader.node.confState();
      for (const id of [...conf.voters, ...conf.learners]) {
        const rep = this.replicas.get(`${id}/${g.id}`);
        if (rep?.node == null) return `group ${g.id}: member n${id} has no running replica`;
        if (rep.app.appliedIndex < g.checker.ackedIndex) {
          return `group ${g.id}: member n${id} applied ${rep.app.appliedIndex} < acknowledged ${g.checker.ackedIndex}`;
        }
      }
    }
    return this.workload?.livenessProblem();
  }
}

export class LivenessFailure extends Error {
  override readonly name = 'LivenessFailure';
}
