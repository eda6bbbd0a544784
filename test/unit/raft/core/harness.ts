// Test helpers: a white-box Raft for paper-section tests (step a message, read the messages it
// produced), and a synchronous Cluster of RawNodes driven by the Ready contract.
import { Raft } from '../../../../src/raft/core/raft.js';
import type { Config } from '../../../../src/raft/core/raft.js';
import {
  MemoryStorage,
  RawNode,
  bootstrap,
  mulberry32,
  type Entry,
  type Message,
  type NodeId,
  type ReadState,
  MessageType,
  StateType,
} from '../../../../src/raft/core/index.js';

export type Opts = Partial<Omit<Config, 'id' | 'storage'>>;

export function baseConfig(id: NodeId, storage: MemoryStorage, opts: Opts = {}): Config {
  return {
    id,
    storage,
    electionTicks: 10,
    heartbeatTicks: 1,
    rand: mulberry32(id * 7919),
    preVote: false,
    checkQuorum: false,
    ...opts,
  };
}

/** A Raft over a storage bootstrapped with `peers` (entries 1..n, term 1, committed). */
export function newRaft(id: NodeId, peers: NodeId[], opts: Opts = {}): Raft {
  const storage = new MemoryStorage();
  bootstrap(storage, peers);
  return new Raft(baseConfig(id, storage, opts));
}

/** Removes and returns the messages the node produced. */
export function take(r: Raft): Message[] {
  const ms = r.msgs;
  r.msgs = [];
  return ms;
}

/** Persists everything unstable (as a driver would) so that later logic sees a stable log. */
export function persistAll(r: Raft): void {
  const storage = r.log.storage as MemoryStorage;
  const ents = r.log.unstableEntries();
  storage.append(ents);
  const last = ents[ents.length - 1];
  if (last !== undefined) r.log.stableTo(last.index, last.term);
}

/** Elects r (term+1) with a vote from `voter`; the leader's own entries are persisted. */
export function electWith(r: Raft, voter: NodeId): void {
  r.campaign('election');
  r.step(msg({ type: MessageType.VoteResp, from: voter, to: r.id, term: r.term }));
  if (r.state !== StateType.Leader) throw new Error(`node ${r.id} did not become leader`);
  persistAll(r);
  r.prs.get(r.id)!.maybeUpdate(r.log.lastIndex());
}

export function msg(m: Partial<Message> & Pick<Message, 'type' | 'from' | 'to'>): Message {
  return { term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...m };
}

export function ent(index: number, term: number, data = ''): Entry {
  return { index, term, type: 0, data: new TextEncoder().encode(data) };
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export interface NodeCtx {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  node: RawNode;
  applied: Entry[];
  readStates: ReadState[];
}

/** A synchronous cluster: messages are delivered at once unless a link is cut or filtered. */
export class Cluster {
  readonly nodes = new Map<NodeId, NodeCtx>();
  private cut = new Set<string>();
  private down = new Set<NodeId>();
  queue: Message[] = [];
  /** Return false to drop a message. */
  filter: ((m: Message) => boolean) | undefined;
  sent: Message[] = [];

  constructor(
    ids: NodeId[],
    private readonly opts: Opts = {},
  ) {
    for (const id of ids) {
      const storage = new MemoryStorage();
      bootstrap(storage, ids);
      this.nodes.set(id, { id, storage, node: new RawNode(baseConfig(id, storage, opts)), applied: [], readStates: [] });
    }
  }

  /** A new, empty node (to be added by a conf change). */
  addEmpty(id: NodeId): NodeCtx {
    const storage = new MemoryStorage();
    const ctx = { id, storage, node: new RawNode(baseConfig(id, storage, this.opts)), applied: [], readStates: [] };
    this.nodes.set(id, ctx);
    return ctx;
  }

  get(id: NodeId): NodeCtx {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  node(id: NodeId): RawNode {
    return this.get(id).node;
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cutLink(id, other);
  }

  cutLink(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}-${b}`);
    this.cut.add(`${b}-${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  crash(id: NodeId): void {
    this.down.add(id);
  }

  /** Restarts from durable state only. */
  restart(id: NodeId): void {
    const ctx = this.get(id);
    this.down.delete(id);
    ctx.node = new RawNode(baseConfig(id, ctx.storage, this.opts));
    ctx.applied = [];
  }

  /** Handles one Ready of one node by the contract: persist, send, apply, advance. */
  processReady(id: NodeId): boolean {
    const ctx = this.get(id);
    if (this.down.has(id) || !ctx.node.hasReady()) return false;
    const rd = ctx.node.ready();
    if (rd.snapshot !== undefined) ctx.storage.applySnapshot(rd.snapshot);
    ctx.storage.append(rd.entries);
    if (rd.hardState !== undefined) ctx.storage.setHardState(rd.hardState);
    this.queue.push(...rd.messages);
    this.sent.push(...rd.messages);
    ctx.applied.push(...rd.committedEntries);
    ctx.readStates.push(...rd.readStates);
    ctx.node.advance(rd);
    return true;
  }

  deliver(m: Message): void {
    if (this.down.has(m.to) || this.down.has(m.from) || this.cut.has(`${m.from}-${m.to}`)) return;
    if (this.filter !== undefined && !this.filter(m)) return;
    this.nodes.get(m.to)?.node.step(m);
  }

  /** Runs until no node has a Ready and no message is queued. */
  stabilize(maxRounds = 10000): void {
    for (let round = 0; round < maxRounds; round++) {
      let progress = false;
      for (const id of this.nodes.keys()) while (this.processReady(id)) progress = true;
      const q = this.queue;
      this.queue = [];
      for (const m of q) this.deliver(m);
      if (!progress && q.length === 0) return;
    }
    throw new Error('cluster did not stabilize');
  }

  tick(ids: NodeId[], n: number): void {
    for (let i = 0; i < n; i++) {
      for (const id of ids) if (!this.down.has(id)) this.node(id).tick();
      this.stabilize();
    }
  }

  tickAll(n: number): void {
    this.tick([...this.nodes.keys()], n);
  }

  elect(id: NodeId): void {
    this.node(id).campaign();
    this.stabilize();
  }

  leader(): NodeId | undefined {
    let best: NodeId | undefined;
    let term = -1;
    for (const [id, ctx] of this.nodes) {
      if (this.down.has(id)) continue;
      const st = ctx.node.basicStatus();
      if (st.state === 2 && st.term > term) {
        best = id;
        term = st.term;
      }
    }
    return best;
  }

  /** Proposes on `id` and stabilizes; returns the data for lookup. */
  propose(id: NodeId, data: string): void {
    this.node(id).propose(utf8(data));
    this.stabilize();
  }

  appliedData(id: NodeId): string[] {
    return this.get(id)
      .applied.filter((e) => e.type === 0 && e.data.length > 0)
      .map((e) => new TextDecoder().decode(e.data));
  }

  messagesOfType(t: MessageType): Message[] {
    return this.sent.filter((m) => m.type === t);
  }
}
