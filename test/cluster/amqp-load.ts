// Test helpers for drills against a real `warren cluster` (frontend-kill, owner-wipe): starting the
// cluster with real nodes, and amqplib clients that survive the loss of their connection — they
// reconnect through the balancer, re-create their channels and consumers, and a publisher resends
// whatever was unconfirmed when its channel died (so duplicates are possible and are counted).
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { findHaproxy } from '../../src/launcher/commands.js';
import type { ClusterState } from '../../src/launcher/state.js';
import { cleanUp, get, readState, startLauncher, waitFor, waitReady, type Launcher } from '../launcher/harness.js';

const ROOT = join(import.meta.dirname, '../..');
const REAL_NODE = [process.execPath, '--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'start'];
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

export const haproxyMissing = ((): string | false => {
  try { findHaproxy(); return false; } catch (err) { return (err as Error).message; }
})();

export async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const res = await fetch(url, { headers: { authorization: AUTH }, signal: AbortSignal.timeout(2000) });
    return res.ok ? (await res.json()) as T : undefined;
  } catch {
    return undefined;
  }
}

/** A real cluster under `warren cluster`; every pid it was seen running is remembered for cleanup. */
export class RealCluster {
  private readonly pids = new Set<number>();
  private constructor(readonly launcher: Launcher) {}

  /** `restartDelayMs`: how long a killed node stays down before the launcher restarts it. */
  static async start(restartDelayMs = 1000, env: NodeJS.ProcessEnv = {}, logLevel = 'warn'): Promise<RealCluster> {
    const launcher = await startLauncher(['--restart-delay-ms', String(restartDelayMs), '--log-level', logLevel], { WARREN_CLUSTER_NODE_COMMAND: JSON.stringify(REAL_NODE), ...env });
    const c = new RealCluster(launcher);
    const state = await waitReady(launcher, 120_000);
    c.remember(state);
    await waitFor('every node ready', () => Promise.all(state.nodes.map((n) => get(`${n.http}/readyz`).then((r) => r.status, () => 0))),
      (codes) => codes.every((code) => code === 200), 60_000);
    return c;
  }

  state(): ClusterState {
    const s = readState(this.launcher.stateFile);
    if (s === undefined) throw new Error('no state file');
    this.remember(s);
    return s;
  }

  private remember(s: ClusterState): void {
    for (const n of s.nodes) if (n.pid !== null) this.pids.add(n.pid);
    if (s.lb.pid) this.pids.add(s.lb.pid);
  }

  /** kill -9 node `id`; resolves with the killed pid. */
  kill(id: number): number {
    const victim = this.state().nodes.find((n) => n.id === id);
    if (victim?.pid == null) throw new Error(`node ${id} is not running`);
    process.kill(victim.pid, 'SIGKILL');
    return victim.pid;
  }

  /** Waits until the launcher restarted node `id` (a new pid) and it answers /readyz. */
  async restarted(id: number, oldPid: number, timeoutMs = 60_000): Promise<void> {
    await waitFor(`node ${id} restarted`, () => this.state(), (s) => {
      const n = s.nodes.find((x) => x.id === id);
      return n !== undefined && n.up && n.pid !== null && n.pid !== oldPid;
    }, timeoutMs);
  }

  async stop(): Promise<void> {
    try { this.state(); } catch { /* the launcher already removed it */ }
    await cleanUp(this.launcher, [...this.pids]);
  }
}

/** One AMQP connection through `url` that is re-made whenever it is lost, with `setup` run on each. */
export class Reconnecting {
  conn: ChannelModel | undefined;
  reconnects = 0;
  private stopped = false;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    readonly name: string,
    private readonly setup: (conn: ChannelModel) => Promise<void>,
  ) {}

  start(): Promise<void> {
    this.connecting ??= this.loop().finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  private async loop(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      let conn: ChannelModel | undefined;
      try {
        conn = await amqp.connect(this.url, { clientProperties: { connection_name: this.name } });
        conn.on('error', () => {});
        await this.setup(conn);
        this.conn = conn;
        conn.once('close', () => {
          if (this.conn === conn) this.conn = undefined;
          if (this.stopped) return;
          this.reconnects++;
          void this.start();
        });
        return;
      } catch {
        // A connection refused, or one that died during setup: try again shortly.
        conn?.close().catch(() => {});
        await sleep(Math.min(200 * (attempt + 1), 1000));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.conn?.close().catch(() => {});
  }
}

/** A channel whose errors are swallowed (the connection's close drives the reconnect). */
export async function quietChannel(conn: ChannelModel): Promise<Channel> {
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  return ch;
}

/**
 * Confirm-tracked publishing of `p<n>` bodies to a durable queue with at most `window` unconfirmed:
 * a body whose channel closed before its confirm (or that was nacked) is sent again on the next
 * channel, so every body ends up confirmed; `resent` counts the possible duplicates that makes.
 */
export class ConfirmedPublisher {
  readonly confirmed = new Set<string>();
  readonly pending = new Set<string>();
  nacked = 0;
  resent = 0;
  /** Bodies sent more than once (their first confirm was lost with the channel): a second copy of these is the client's doing. */
  readonly resentBodies = new Set<string>();
  longestGapMs = 0;
  private lastConfirmAt = Date.now();
  private ch: ConfirmChannel | undefined;
  private readonly retry: string[] = [];
  private sent = 0;
  private stopping = false;
  private aborted = false;
  private loop: Promise<void> | undefined;
  readonly client: Reconnecting;

  /** `padBytes` of filler after each body's `p<n>`, so a run fills the Raft logs enough to compact them. */
  constructor(url: string, private readonly queue: string, private readonly window = 200, private readonly padBytes = 0) {
    this.client = new Reconnecting(url, 'publisher', async (conn) => {
      const ch = await conn.createConfirmChannel();
      ch.on('error', () => {});
      await ch.assertQueue(queue, { durable: true });
      ch.once('close', () => { if (this.ch === ch) this.ch = undefined; });
      this.ch = ch;
    });
  }

  async start(): Promise<void> {
    await this.client.start();
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.aborted && (!this.stopping || this.pending.size > 0 || this.retry.length > 0)) {
      const ch = this.ch;
      if (ch === undefined || this.pending.size >= this.window || (this.stopping && this.retry.length === 0)) {
        await sleep(2);
        continue;
      }
      const again = this.retry.shift();
      const body = again ?? `p${this.sent++}${this.padBytes > 0 ? ' ' + '.'.repeat(this.padBytes) : ''}`;
      if (again !== undefined) {
        this.resent++;
        this.resentBodies.add(again);
      }
      this.pending.add(body);
      ch.sendToQueue(this.queue, Buffer.from(body), { persistent: true }, (err) => {
        this.pending.delete(body);
        if (err === null || err === undefined) {
          const now = Date.now();
          this.longestGapMs = Math.max(this.longestGapMs, now - this.lastConfirmAt);
          this.lastConfirmAt = now;
          this.confirmed.add(body);
          return;
        }
        if ((err as Error).message === 'message nacked') this.nacked++;
        this.retry.push(body);
      });
      if (this.sent % 50 === 0) await sleep(1);
    }
  }

  /** Stops making new bodies; resolves once every body made so far is confirmed. */
  async finish(timeoutMs = 60_000): Promise<void> {
    this.stopping = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.loop, new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`publisher: ${this.pending.size + this.retry.length} unconfirmed after ${timeoutMs} ms`)), timeoutMs);
      })]);
    } finally {
      clearTimeout(timer);
      await this.stop();
    }
  }

  /** Stops at once, confirmed or not. */
  async stop(): Promise<void> {
    this.aborted = true;
    await this.loop;
    await this.client.stop();
  }
}

/** What consumers saw: every body, and which arrived more than once with or without the redelivered flag. */
export class Received {
  readonly bodies = new Map<string, { count: number; redelivered: boolean; at: number; by: string }>();
  duplicatesFlagged = 0;
  /** Bodies that arrived again without the redelivered flag (a republished copy is one). */
  readonly unflagged = new Set<string>();
  /** For each of those: when, and through which consumer connection, each copy arrived. */
  readonly unflaggedSeen = new Map<string, string>();

  /** `by`: which consumer connection received it (for the report of unflagged duplicates). */
  record(m: ConsumeMessage, by = ''): void {
    const body = m.content.toString();
    const seen = this.bodies.get(body);
    if (seen !== undefined) {
      if (m.fields.redelivered) this.duplicatesFlagged++;
      else {
        this.unflagged.add(body);
        const when = (ms: number): string => new Date(ms).toISOString().slice(11, 23);
        this.unflaggedSeen.set(body, `first ${when(seen.at)} via ${seen.by}${seen.redelivered ? ' (redelivered)' : ''}, `
          + `again ${when(Date.now())} via ${by} tag ${m.fields.deliveryTag}`);
      }
      seen.count++;
      if (m.fields.redelivered && !seen.redelivered) Object.assign(seen, { redelivered: true, at: Date.now() });
      return;
    }
    this.bodies.set(body, { count: 1, redelivered: m.fields.redelivered, at: Date.now(), by });
  }

  missing(confirmed: Iterable<string>): string[] {
    return [...confirmed].filter((b) => !this.bodies.has(b));
  }
}

/** A consumer that acks each message, re-consuming after every reconnect. */
export function ackingConsumer(url: string, queue: string, name: string, received: Received, prefetch = 100): Reconnecting {
  const consumer: Reconnecting = new Reconnecting(url, name, async (conn) => {
    const ch = await quietChannel(conn);
    await ch.prefetch(prefetch);
    await ch.checkQueue(queue);
    const by = `${name} connection ${consumer.reconnects}`;
    await ch.consume(queue, (m) => {
      if (m === null) return;
      received.record(m, by);
      ch.ack(m);
    });
  });
  return consumer;
}
