// Runs one seed of the simulator and reports instead of throwing.
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
}

export const DEFAULT_CHAOS_STEPS = 3000;
export const DEFAULT_LIVENESS_STEPS = 1600;

export async function runSeed(seed: number, opts: RunOptions = {}): Promise<SeedResult> {
  const sim = new Sim({
    seed,
    chaosSteps: opts.chaosSteps ?? DEFAULT_CHAOS_STEPS,
    livenessSteps: opts.livenessSteps ?? DEFAULT_LIVENESS_STEPS,
    ...(opts.log !== undefined ? { log: opts.log } : {}),
  });
  try {
    return { seed, ok: true, stats: await sim.run() };
  } catch (err) {
    const e = err as Error;
    return { seed, ok: false, error: `${e.name}: ${e.message}\n${e.stack ?? ''}`, step: sim.now, stats: sim.stats };
  }
}

export function replayCommand(seed: number): string {
  return `npm run sim -- --seeds 1 --from ${seed} --verbose`;
}
