// A cluster frontend's view of the other frontends' AMQP connections, for GET /api/connections:
// RabbitMQ lists every node's connections from any node; a Warren frontend asks each other frontend
// holding a session for its own (its management API, advertised with its lease), with the caller's
// own credentials, so every frontend applies the caller's rights to what it holds. A frontend that
// does not answer within `timeoutMs` is left out of the answer rather than holding it.
import type { ConnectionInfo } from '../admin/source.js';
import { SCOPE_HEADER } from '../admin/routes.js';
import type { SessionRecord } from '../meta/sessions.js';

export async function otherFrontendsConnections(
  sessions: readonly SessionRecord[], selfLease: number, authorization: string | undefined, timeoutMs = 2_000,
): Promise<ConnectionInfo[]> {
  const others = sessions.filter((s) => s.lease !== selfLease && s.http !== undefined);
  const lists = await Promise.all(others.map(async (s): Promise<ConnectionInfo[]> => {
    try {
      const res = await fetch(`${s.http}/api/connections`, {
        headers: { ...(authorization !== undefined ? { authorization } : {}), [SCOPE_HEADER]: 'node' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) return [];
      const body: unknown = await res.json();
      return Array.isArray(body) ? body as ConnectionInfo[] : [];
    } catch {
      return [];
    }
  }));
  return lists.flat();
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
