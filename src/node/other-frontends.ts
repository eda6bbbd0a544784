// A cluster frontend asking the other frontends for what only they hold — their AMQP connections,
// their message counters — for GET /api/connections and /api/overview, which RabbitMQ answers for
// every node from any node. Each frontend holding a session advertised its management API with its
// lease; it is asked with the caller's own credentials (so it applies the caller's rights to what it
// holds) and `x-warren-scope: node` (its own objects only). A frontend that does not answer within
// `timeoutMs` is left out of the answer rather than holding it.
import { SCOPE_HEADER } from '../admin/routes.js';
import type { SessionRecord } from '../meta/sessions.js';

/** Each other frontend's JSON answer to GET `path`; the ones that failed are left out. */
export async function fromOtherFrontends(
  sessions: readonly SessionRecord[], selfLease: number, path: string, authorization: string | undefined, timeoutMs = 2_000,
): Promise<unknown[]> {
  const others = sessions.filter((s) => s.lease !== selfLease && s.http !== undefined);
  const answers = await Promise.all(others.map(async (s): Promise<unknown> => {
    try {
      const res = await fetch(`${s.http}${path}`, {
        headers: { ...(authorization !== undefined ? { authorization } : {}), [SCOPE_HEADER]: 'node' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      return res.ok ? await res.json() as unknown : undefined;
    } catch {
      return undefined;
    }
  }));
  return answers.filter((a) => a !== undefined);
}

/**
 * The management API base URL other frontends use to reach this one: WARREN_ADVERTISE_HOST (a pod's
 * IP, set by the Helm chart), else the address it binds when that is one address, else the host
 * name. '' when the HTTP port is chosen at start (0): not known before the lease is opened.
 */
export function advertisedHttpUrl(bind: readonly string[], httpPort: number, advertiseHost: string | undefined, hostname: string): string {
  if (httpPort === 0) return '';
  const bound = bind[0];
  const host = advertiseHost !== undefined && advertiseHost !== '' ? advertiseHost
    : bound !== undefined && bound !== '::' && bound !== '0.0.0.0' ? bound : hostname;
  return `http://${host.includes(':') ? `[${host}]` : host}:${httpPort}`;
}
