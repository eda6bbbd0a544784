// Runs one seed of the simulator and reports instead of throwing.
import { PartitionWorkload } from './partition/workload.js';
import { Sim, type SimStats } from './world.js';

export interface SeedResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly stats?: SimStats;
  readonly error?: string;
  readonly step?: number;
}

export interface RunOptions {
  readonly chaosSteps?: number;
  readonly livenessSteps?: number;
  readonly log?: (line: string) => void;
  /** 'keys' (default): the hash-chain app; 'partition': PartitionApp with queue clients and owners. */
  readonly app?: SimAppKind;
}

export type SimAppKind = 'keys' | 'partition';

/** Driver proposal timeout in partition mode (steps): clients and owners retry after it. */
const PARTITION_PROPOSAL_TIMEOUT_STEPS = 150;

export const DEFAULT_CHAOS_STEPS = 3000;
export const DEFAULT_LIVENESS_STEPS = 1600;

export async function runSeed(seed: number, opts: RunOptions = {}): Promise<SeedResult> {
  const sim = new Sim({
    seed,
    chaosSteps: opts.chaosSteps ?? DEFAULT_CHAOS_STEPS,
    livenessSteps: opts.livenessSteps ?? DEFAULT_LIVENESS_STEPS,
    ...(opts.log !== undefined ? { log: opts.log } : {}),
    ...(opts.app === 'partition'
      ? { workload: (s: Sim) => new PartitionWorkload(s), proposalTimeoutSteps: PARTITION_PROPOSAL_TIMEOUT_STEPS, minSnapshotChunkBytes: 2048 }
      : {}),
  });
  try {
    return { seed, ok: true, stats: await sim.run() };
  } catch (err) {
    const e = err as Error;
    return { seed, ok: false, error: `${e.name}: ${e.message}\n${e.stack ?? ''}`, step: sim.now, stats: sim.stats };
  }
}

export function replayCommand(seed: number, app: SimAppKind = 'keys'): string {
  return `npm run sim -- ${app === 'keys' ? '' : `--app ${app} `}--seeds 1 --from ${seed} --verbose`;
}
