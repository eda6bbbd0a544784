// RabbitMQ's memory alarm: when memory passes a high watermark, connections that publish are sent
// connection.blocked and their sockets stop being read until memory falls back under it.
// Two budgets: resident memory against a fraction of RAM (config memoryHighWatermark, RabbitMQ's
// vm_memory_high_watermark, default 0.4), and the V8 heap (where queue indexes live) against 70% of
// its limit, since exceeding that is fatal.
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import type { WarrenConfig } from '../config.js';
import type { FrontendContext } from '../frontend/context.js';

const HEAP_WATERMARK = 0.7;
const CHECK_INTERVAL_MS = 1000;

/** The resident-memory budget: memoryHighWatermark of RAM (RabbitMQ's mem_limit). */
export function memoryLimitBytes(config: Pick<WarrenConfig, 'memoryHighWatermark'>): number {
  return Math.floor(totalmem() * config.memoryHighWatermark);
}

export class MemoryAlarm {
  private readonly timer: NodeJS.Timeout;
  private readonly rssLimitBytes: number;
  private readonly heapLimitBytes = getHeapStatistics().heap_size_limit * HEAP_WATERMARK;

  constructor(private readonly ctx: FrontendContext) {
    this.rssLimitBytes = memoryLimitBytes(ctx.config);
    this.check();
    this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  private check(): void {
    const m = process.memoryUsage();
    const blocked = m.rss > this.rssLimitBytes || m.heapUsed > this.heapLimitBytes;
    if (blocked === this.ctx.blocked) return;
    this.ctx.blocked = blocked;
    this.ctx.log.warn({ rssBytes: m.rss, heapUsedBytes: m.heapUsed, blocked }, 'memory alarm');
    for (const c of this.ctx.connections) c.setBlocked(blocked, 'low on memory');
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
