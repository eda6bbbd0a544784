// Recorded renders of the single-node chart (test/helm/golden/*.yaml), so that cluster mode's
// template changes provably leave `cluster.enabled=false` byte-for-byte as it was. The files were
// rendered from the chart before cluster mode existed. After an intended change to the single
// node's output, rewrite them: `WARREN_UPDATE_GOLDEN=1 node --import tsx --test test/helm/chart.test.ts`.
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/helm-bin.js';

/** The chart generates a random password when none is given: pin it so that renders compare. */
export function pinnedSingleValues(values: object): object {
  const user = (values as { defaultUser?: { password?: string; existingSecret?: string } }).defaultUser;
  return user?.password || user?.existingSecret ? values : { ...values, defaultUser: { ...user, password: 'pinned-for-comparison' } };
}

export function goldenPath(setName: string): string {
  const slug = setName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return join(REPO_ROOT, 'test', 'helm', 'golden', `single-${slug}.yaml`);
}
