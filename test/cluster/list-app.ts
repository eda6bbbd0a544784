// A test application for the Raft driver: the state is the list of applied commands, stored as
// the group's application keys `c/<u64 index>` -> command, so it survives restarts, travels in
// snapshots, and is rebuilt by recover() from the store. apply() checks exactly-once, in-order
// application (a gap or a repeat throws, which the driver treats as fatal).
import type { Entry } from '../../src/raft/core/types.js';
import { EntryType } from '../../src/raft/core/types.js';
import type { AppReader, ApplyBatch, GroupApp, RecoverInfo, RoleInfo } from '../../src/raft/node/app.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

export function cmdKey(index: number): Uint8Array {
  const k = Buffer.alloc(10);
  k.write('c/', 0);
  k.writeBigUInt64BE(BigInt(index), 2);
  return k;
}

export class ListApp implements GroupApp<string> {
  cmds: string[] = [];
  /** Index of every command in cmds (same order). */
  indexes: number[] = [];
  lastIndex = 0;
  readonly recovers: Array<{ reason: RecoverInfo['reason']; appliedIndex: number }> = [];
  readonly roles: RoleInfo[] = [];
  store: AppReader | undefined;

  async recover(info: RecoverInfo): Promise<void> {
    this.store = info.store;
    this.cmds = [];
    this.indexes = [];
    for await (const [k, v] of info.store.iterate({ gte: enc.encode('c/'), lt: enc.encode('c0') })) {
      this.indexes.push(Number(Buffer.from(k).readBigUInt64BE(2)));
      this.cmds.push(dec.decode(v));
    }
    this.lastIndex = info.appliedIndex;
    this.recovers.push({ reason: info.reason, appliedIndex: info.appliedIndex });
  }

  apply(entries: readonly Entry[], batch: ApplyBatch): string[] {
    return entries.map((e) => {
      // Exactly once, in order, continuing from the recovered state: a gap means lost state.
      if (e.index !== this.lastIndex + 1) throw new Error(`apply gap: ${e.index} after ${this.lastIndex}`);
      this.lastIndex = e.index;
      if (e.type !== EntryType.Normal || e.data.length === 0) return '';
      const cmd = dec.decode(e.data);
      batch.put(cmdKey(e.index), e.data);
      this.cmds.push(cmd);
      this.indexes.push(e.index);
      return `applied ${cmd} at ${e.index}`;
    });
  }

  roleChanged(role: RoleInfo): void {
    this.roles.push(role);
  }
}

export const utf8 = (s: string): Uint8Array => enc.encode(s);
