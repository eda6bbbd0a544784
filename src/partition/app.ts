// The partition machine as a Raft group application (src/raft/node/app.ts GroupApp): results go
// back to proposers through the driver; effects are handed to `onEffects` on the leader only, and
// a replica that becomes leader first gets the effects it must redo (resumeEffects), as Ra's
// state_enter. Followers skip the record reads that only effects and results need.
import { EntryType, type Entry } from '../raft/core/types.js';
import type { ApplyBatch, GroupApp, RecoverInfo, RoleInfo } from '../raft/node/app.js';
import { PartitionMachine } from './machine.js';
import type { ApplyOutput, CommandResult, PartitionEffect } from './types.js';

const NO_COMMANDS: readonly never[] = [];

export type PartitionResult = readonly CommandResult[];

export class PartitionApp implements GroupApp<PartitionResult> {
  private leader = false;

  constructor(
    readonly machine: PartitionMachine,
    /** Called with each apply's effects while this replica leads (after the apply returned). */
    private readonly onEffects: (effects: readonly PartitionEffect[]) => void,
  ) {}

  get isLeader(): boolean { return this.leader; }

  recover(info: RecoverInfo): Promise<void> {
    return this.machine.recover(info.store);
  }

  apply(entries: readonly Entry[], batch: ApplyBatch): PartitionResult[] | Promise<PartitionResult[]> {
    // ConfChange entries are informational here: no commands.
    const inputs = entries.map((e) => (e.type === EntryType.Normal ? e.data : NO_COMMANDS));
    const out = this.machine.apply(inputs, batch, { readRecords: this.leader });
    return out instanceof Promise ? out.then((o) => this.done(o)) : this.done(out);
  }

  roleChanged(role: RoleInfo): void {
    const was = this.leader;
    this.leader = role.isLeader;
    if (role.isLeader && !was) {
      const fx = this.machine.resumeEffects();
      if (fx.length > 0) this.onEffects(fx);
    }
  }

  private done(o: ApplyOutput): PartitionResult[] {
    if (this.leader && o.effects.length > 0) this.onEffects(o.effects);
    return o.results;
  }
}
