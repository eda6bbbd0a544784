// Shared builders for the partition machine tests: commands, content headers, and a harness that
// applies entries (as encoded log bytes) to a machine over an in-memory store.
import assert from 'node:assert/strict';
import { basicPropertiesSize, writeBasicProperties, type BasicProperties } from '../../../src/amqp/generated.js';
import { encodeTable, type FieldTable } from '../../../src/amqp/table.js';
import { encodeBatch } from '../../../src/partition/codec.js';
import { AccountingChecker } from '../../../src/partition/invariants.js';
import { PartitionMachine } from '../../../src/partition/machine.js';
import { MemoryAppStore } from '../../../src/partition/memory.js';
import type {
  ApplyOutput, CommandResult, DeliverEffect, EnqueueCmd, PartitionCommand, PartitionEffect,
} from '../../../src/partition/types.js';

/** A content header payload: class 60, weight 0, body size, then the properties. */
export function header(props: BasicProperties = {}, bodyBytes = 0): Uint8Array {
  const buf = Buffer.alloc(12 + basicPropertiesSize(props));
  buf.writeUInt16BE(60, 0);
  buf.writeBigUInt64BE(BigInt(bodyBytes), 4);
  writeBasicProperties(buf, 12, props);
  return buf;
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

export function declare(name: string, args: FieldTable = {}, nowMs = 0, vhost = '/'): PartitionCommand {
  const bytes = Object.keys(args).length === 0 ? new Uint8Array(0) : encodeTable(args);
  return { kind: 'declare', vhost, name, arguments: bytes, nowMs };
}

export function enqueue(queues: number | readonly number[], body: string, opts: Partial<Omit<EnqueueCmd, 'kind' | 'queues'>> = {}): PartitionCommand {
  return {
    kind: 'enqueue', queues: typeof queues === 'number' ? [queues] : queues, exchange: opts.exchange ?? 'ex',
    routingKey: opts.routingKey ?? 'rk', header: opts.header ?? header(), body: opts.body ?? text(body),
    session: opts.session ?? '', seq: opts.seq ?? 0, priority: opts.priority, expirationMs: opts.expirationMs,
    nowMs: opts.nowMs ?? 0,
  };
}

export function checkout(queue: number, consumer: string, prefetch = 0, opts: { session?: string; noAck?: boolean; priority?: number; nowMs?: number } = {}): PartitionCommand {
  return {
    kind: 'checkout', queue, session: opts.session ?? 's1', consumer, prefetch, priority: opts.priority ?? 0,
    noAck: opts.noAck ?? false, nowMs: opts.nowMs ?? 0,
  };
}

export function settle(kind: 'settle' | 'return' | 'discard', queue: number, consumer: string, msgIds: number[], session = 's1', nowMs = 0): PartitionCommand {
  return { kind, queue, session, consumer, msgIds, nowMs };
}

export const tick = (nowMs: number): PartitionCommand => ({ kind: 'tick', nowMs });

export function deliveries(effects: readonly PartitionEffect[]): DeliverEffect[] {
  return effects.filter((e): e is DeliverEffect => e.kind === 'deliver');
}

/** "consumer:msgId" per delivery. */
export const delivered = (effects: readonly PartitionEffect[]): string[] =>
  deliveries(effects).map((d) => `${d.consumer}:${d.msgId}`);

export function only(out: ApplyOutput): CommandResult {
  assert.equal(out.results.length, 1);
  const [rs] = out.results;
  assert.equal(rs?.length, 1);
  return rs[0] as CommandResult;
}

/** A machine over an in-memory store; every apply is one committed batch, checked for accounting. */
export class Harness {
  readonly store = new MemoryAppStore();
  machine = new PartitionMachine({ trackOutcomes: true });
  readonly checker = new AccountingChecker();
  /** Every entry applied so far, as log bytes. */
  readonly log: Uint8Array[] = [];

  /** Applies one entry per argument (each a list of commands); returns the output. */
  async apply(...entries: PartitionCommand[][]): Promise<ApplyOutput> {
    const data = entries.map((cmds) => encodeBatch(cmds));
    this.log.push(...data);
    const batch = this.store.batch();
    const out = await this.machine.apply(data, batch);
    batch.commit();
    this.checker.observe(out);
    this.checker.checkMachine(this.machine);
    await this.checker.checkStore(this.machine, this.store);
    return out;
  }

  /** One entry of these commands. */
  run(...cmds: PartitionCommand[]): Promise<ApplyOutput> {
    return this.apply(cmds);
  }

  /** Declares a queue and returns its id. */
  async declare(name: string, args: FieldTable = {}, nowMs = 0): Promise<number> {
    const r = only(await this.run(declare(name, args, nowMs)));
    assert.equal(r.kind, 'declared');
    return r.kind === 'declared' ? r.queue : 0;
  }

  /** A fresh machine recovered from this store. */
  async recovered(): Promise<PartitionMachine> {
    const m = new PartitionMachine({ trackOutcomes: true });
    await m.recover(this.store);
    return m;
  }
}

/** Everything observable of a machine, for comparing two of them. */
export function observable(m: PartitionMachine): unknown {
  return {
    clock: m.clockMs,
    deadline: m.nextDeadlineMs(),
    queues: m.queueIds().sort((a, b) => a - b).map((id) => ({
      view: m.queue(id), ready: m.readyMessages(id), checkedOut: m.checkedOut(id), deadLetters: m.deadLetterIds(id),
      consumers: m.consumerIds(id),
    })),
  };
}
