// One group's replica on one simulated process: the PRODUCTION driver (src/raft/node GroupDriver)
// over the real core, with the simulator's ports (virtual time, deferred work), a simulated disk
// (SimLogStore: durable after a seeded delay, lost on crash) and the simulated network. A crash
// stops the driver and drops what was not durable; restart rebuilds core and application from the
// disk exactly as a restarted process would (openRawCore + GroupApp.recover).
import type { Entry, Message, NodeId, RawNode } from '../../src/raft/core/index.js';
import { openRawCore } from '../../src/raft/node/adapter.js';
import type { CompactionPolicy } from '../../src/raft/node/compaction.js';
import type { GroupApp } from '../../src/raft/node/app.js';
import { GroupDriver } from '../../src/raft/node/group.js';
import type { DriverPorts } from '../../src/raft/node/ports.js';
import type { MemoryLogStore } from '../../src/raft/storage/memory.js';
import { SimApp } from './app.js';
import type { GroupChecker } from './checker.js';
import { SimLogStore } from './disk.js';

export interface ReplicaEnv {
  now(): number;
  send(group: number, messages: readonly Message[]): void;
  log(line: string): void;
  diskDelaySteps(): number;
  ports: DriverPorts;
  fatal(err: Error): void;
  compaction: CompactionPolicy;
  snapshotChunkBytes: number;
  maxSizePerMsgBytes: number;
  maxInflightMsgs: number;
  /** Driver proposal timeout in steps (0: never). */
  proposalTimeoutMs: number;
  /** The application of a new incarnation; undefined: the keys app (SimApp). */
  makeApp(rep: Replica): SimGroupApp | undefined;
}

/** A replica's application as the world sees it. */
export interface SimGroupApp extends GroupApp {
  /** The index of the last entry applied (in memory). */
  readonly appliedIndex: number;
}

export class Replica {
  node: RawNode | null = null;
  driver: GroupDriver | null = null;
  app: SimGroupApp;
  store: SimLogStore | null = null;
  checkedCommit = 0;
  /** Bumped on every start/crash, so async work of an older incarnation is recognised. */
  incarnation = 0;

  constructor(
    readonly id: NodeId,
    readonly group: number,
    readonly disk: MemoryLogStore,
    private readonly env: ReplicaEnv,
    readonly checker: GroupChecker,
  ) {
    this.app = new SimApp(id, checker, (l) => env.log(`n${id}/g${group} ${l}`));
  }

  /** (Re)starts from the disk: the core reloads hard state, log and applied index, the app its keys. */
  async start(seed: number): Promise<void> {
    const inc = ++this.incarnation;
    const store = new SimLogStore(this.disk, {
      now: () => this.env.now(),
      delaySteps: () => this.env.diskDelaySteps(),
      persisting: (entries) => this.checkEntries(entries),
    });
    const { core, node } = await openRawCore({
      id: this.id, voters: [], store, electionTicks: 10, heartbeatTicks: 2, seed,
      maxSizePerMsgBytes: this.env.maxSizePerMsgBytes, maxInflightMsgs: this.env.maxInflightMsgs,
    });
    if (inc !== this.incarnation) return; // crashed while loading
    this.store = store;
    this.app = this.env.makeApp(this) ?? new SimApp(this.id, this.checker, (l) => this.env.log(`n${this.id}/g${this.group} ${l}`));
    this.node = node;
    this.checkedCommit = 0;
    this.driver = new GroupDriver(this.group, core, store, { send: (g, ms) => this.env.send(g, ms) }, this.app, {
      ports: this.env.ports,
      proposalTimeoutMs: this.env.proposalTimeoutMs,
      onFatal: (err) => this.env.fatal(err),
      compaction: this.env.compaction,
      snapshots: { chunkBytes: this.env.snapshotChunkBytes, window: 2, ackTimeoutTicks: 40 },
    });
    this.driver.schedule();
  }

  crash(): void {
    this.incarnation++;
    this.driver?.stop();
    this.store?.crash();
    this.driver = null;
    this.node = null;
    this.store = null;
  }

  /** Completes the disk writes due now; returns how many. */
  completeWrites(now: number): number {
    return this.store?.complete(now) ?? 0;
  }

  private checkEntries(entries: readonly Entry[]): void {
    const node = this.node;
    if (node === null || entries.length === 0) return;
    let prev = node.termAt(entries[0]!.index - 1);
    for (const e of entries) {
      this.checker.entry(e, prev, this.id);
      prev = e.term;
    }
  }
}
