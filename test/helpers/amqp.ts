// Shared helpers for integration tests that drive a broker through amqplib.
//
// amqplib reports a server channel.close as an 'error' event on the channel (and rejects the
// RPC in flight) and a server connection.close as 'error' + 'close' on the connection. An
// unhandled 'error' event would crash the test process, so every connection and channel made
// here gets listeners, and the last error is kept for assertions.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options, SocketOptions } from 'amqplib';
import { startBroker, type TestBroker } from './broker.js';

/**
 * Set by the *.durable.test.ts wrappers: the suite's own queues are declared durable (and not
 * exclusive), so the same tests run against partition-hosted queues instead of in-memory ones.
 */
export const DURABLE_QUEUES = process.env['WARREN_TEST_DURABLE_QUEUES'] === '1';

/** A name no other test (or concurrently running test file) uses. */
export function uniq(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export interface AmqpError extends Error { code?: number; classId?: number; methodId?: number }

/** Resolves with the error carried by the next close of `emitter` (undefined for a clean close). */
export function closeOf(emitter: Channel | ChannelModel): Promise<AmqpError | undefined> {
  return new Promise((resolve) => {
    let err: AmqpError | undefined;
    emitter.on('error', (e: AmqpError) => { err = e; });
    emitter.once('close', (e?: AmqpError) => resolve(e ?? err));
  });
}

/**
 * Connects to `broker` (a TestBroker or a URL). `opts` overrides fields of the URL (user,
 * frameMax, heartbeat, ...); `socketOpts` goes to amqplib (credentials, TLS options).
 */
export async function connect(broker: TestBroker | string, opts: Options.Connect = {}, socketOpts: SocketOptions = {}): Promise<ChannelModel> {
  const url = typeof broker === 'string' ? broker : broker.url;
  const target = Object.keys(opts).length === 0 ? url : { ...urlToOptions(url), ...opts };
  const conn = await amqp.connect(target, socketOpts);
  conn.on('error', () => { /* surfaced through closeOf / expectConnectionClose */ });
  return conn;
}

export function urlToOptions(url: string): Options.Connect {
  const u = new URL(url);
  const vhost = u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : '/';
  return {
    protocol: u.protocol.replace(':', ''), hostname: u.hostname, port: Number(u.port || 5672),
    username: decodeURIComponent(u.username || 'guest'), password: decodeURIComponent(u.password || 'guest'), vhost,
  };
}

export async function channel(conn: ChannelModel): Promise<Channel> {
  const ch = await conn.createChannel();
  ch.on('error', () => { /* surfaced through closeOf / expectChannelClose */ });
  return ch;
}

export async function confirmChannel(conn: ChannelModel): Promise<ConfirmChannel> {
  const ch = await conn.createConfirmChannel();
  ch.on('error', () => { /* surfaced through closeOf / expectChannelClose */ });
  return ch;
}

/** The reply code of an amqplib error: its `code`, or the "NNN (NAME)" in its message. */
export function replyCodeOf(e: AmqpError): number | undefined {
  if (typeof e.code === 'number') return e.code;
  const m = /\b(\d{3}) \(/.exec(e.message);
  return m ? Number(m[1]) : undefined;
}

/**
 * Asserts that `p` fails because the server closed the channel with `code` and a reply text
 * matching `text`. `p` is an RPC promise or `closeOf(channel)` (for async failures like publish).
 */
export async function expectChannelClose(p: Promise<unknown>, code: number, text: RegExp): Promise<AmqpError> {
  let err: AmqpError | undefined;
  try {
    const v = await p;
    if (v instanceof Error) err = v;
  } catch (e) { err = e as AmqpError; }
  assert.ok(err, `expected a channel close ${code}, but the operation succeeded`);
  assert.equal(replyCodeOf(err), code, `reply code; message was: ${err.message}`);
  assert.match(err.message, text);
  return err;
}

/** Asserts that the connection was closed by the server with `code` and a text matching `text`. */
export async function expectConnectionClose(closed: Promise<AmqpError | undefined>, code: number, text: RegExp): Promise<AmqpError> {
  const err = await withTimeout(closed, 5000, 'connection close');
  assert.ok(err, 'expected the connection to be closed with an error');
  assert.equal(replyCodeOf(err), code, `reply code; message was: ${err.message}`);
  assert.match(err.message, text);
  return err;
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Polls `check` until it returns a defined value (for broker-side state with no event to await). */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Collects deliveries of one consumer; `take(n)` resolves once n have arrived. */
export class Inbox {
  readonly messages: ConsumeMessage[] = [];
  cancelled = false;
  private readonly waiters = new Set<() => void>();

  readonly onMessage = (m: ConsumeMessage | null): void => {
    if (m === null) this.cancelled = true; else this.messages.push(m);
    for (const w of [...this.waiters]) w();
  };

  async take(n: number, timeoutMs = 5000): Promise<ConsumeMessage[]> {
    await this.until(() => this.messages.length >= n, timeoutMs, `${n} deliveries (have ${this.messages.length})`);
    return this.messages.slice(0, n);
  }

  async until(cond: () => boolean, timeoutMs = 5000, what = 'inbox condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const wake = (): void => { clearTimeout(t); this.waiters.delete(wake); r(); };
        const t = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }
}

export const texts = (ms: ReadonlyArray<{ content: Buffer }>): string[] => ms.map((m) => m.content.toString());

/** Class/method ids (class << 16 | method) for RPCs amqplib has no API for. */
const ids = {
  channelFlow: (20 << 16) | 20, channelFlowOk: (20 << 16) | 21,
  txSelect: (90 << 16) | 10, txSelectOk: (90 << 16) | 11,
  txCommit: (90 << 16) | 20, txCommitOk: (90 << 16) | 21,
  txRollback: (90 << 16) | 30, txRollbackOk: (90 << 16) | 31,
} as const;

interface RpcChannel { rpc(method: number, fields: object, expect: number): Promise<Record<string, unknown>> }
const rpc = (ch: Channel, method: number, fields: object, expect: number): Promise<Record<string, unknown>> =>
  (ch as unknown as RpcChannel).rpc(method, fields, expect);

export const txSelect = (ch: Channel): Promise<unknown> => rpc(ch, ids.txSelect, {}, ids.txSelectOk);
export const txCommit = (ch: Channel): Promise<unknown> => rpc(ch, ids.txCommit, {}, ids.txCommitOk);
export const txRollback = (ch: Channel): Promise<unknown> => rpc(ch, ids.txRollback, {}, ids.txRollbackOk);
export const channelFlow = async (ch: Channel, active: boolean): Promise<boolean> =>
  (await rpc(ch, ids.channelFlow, { active }, ids.channelFlowOk))['active'] as boolean;

/** Runs `body` with a fresh connection + channel, always closing the connection afterwards. */
export async function withChannel<T>(broker: TestBroker, body: (ch: Channel, conn: ChannelModel) => Promise<T>): Promise<T> {
  const conn = await connect(broker);
  try {
    return await body(await channel(conn), conn);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/**
 * Publishes one message with a publisher confirm and returns which of `queues` received it.
 * Sound because the broker confirms only once every target queue has enqueued the message;
 * each queue is then purged (the purge-ok count is the answer), leaving them empty.
 */
export async function routedTo(ch: ConfirmChannel, exchange: string, routingKey: string, queues: readonly string[],
  opts: Options.Publish = {}): Promise<string[]> {
  ch.publish(exchange, routingKey, Buffer.from('probe'), opts);
  await ch.waitForConfirms();
  const hit: string[] = [];
  for (const q of queues) if ((await ch.purgeQueue(q)).messageCount > 0) hit.push(q);
  return hit;
}

/**
 * The usual fixture of an integration file: a broker (startBroker) and one connection to it, made
 * before the file's tests and closed after them. Read `broker` and `conn` inside tests.
 */
export function useBrokerConnection(): { readonly broker: TestBroker; readonly conn: ChannelModel } {
  let broker: TestBroker | undefined;
  let conn: ChannelModel | undefined;
  before(async () => {
    broker = await startBroker();
    conn = await connect(broker);
  });
  after(async () => {
    await conn?.close().catch(() => undefined);
    await broker?.stop();
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the broker fixture is used before its before() hook ran');
    return v;
  };
  return {
    get broker() { return started(broker); },
    get conn() { return started(conn); },
  };
}
