// Broker administration for tests: users, vhosts, permissions; and the one way tests make a
// management API request (apiRequest), with basic auth as RabbitMQ's tools send it.
//
// Two implementations behind one interface:
// - RabbitMQ (reference broker, WARREN_TEST_URL set): shells out to rabbitmqctl through
//   /work/shared/tools/rabbitmq.sh (override with WARREN_TEST_RABBITMQ_CTL); the AMQP port
//   picks the node (`rabbitmq.sh ctl PORT ...`).
// - Warren: the management HTTP API on the broker's httpPort, with RabbitMQ's request shapes:
//     PUT    /api/users/{name}               {"password": "...", "tags": ""}
//     DELETE /api/users/{name}
//     PUT    /api/vhosts/{vhost}             {}
//     DELETE /api/vhosts/{vhost}
//     PUT    /api/permissions/{vhost}/{user} {"configure": "re", "write": "re", "read": "re"}
//   Path segments are URI-encoded (the default vhost "/" is "%2F"); basic auth as guest/guest;
//   any 2xx is success.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestBroker } from './broker.js';

const run = promisify(execFile);

export interface Permissions { readonly configure: string; readonly write: string; readonly read: string }

export interface Admin {
  addUser(name: string, password: string): Promise<void>;
  deleteUser(name: string): Promise<void>;
  addVhost(name: string): Promise<void>;
  deleteVhost(name: string): Promise<void>;
  setPermissions(vhost: string, user: string, perms: Permissions): Promise<void>;
}

/** An HTTP basic Authorization header value. */
export function basicAuth(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

/** The default user's credentials (guest may use the API from loopback, where tests run). */
export const GUEST_AUTH = basicAuth('guest', 'guest');

/** Where a Warren test broker serves its management API and /metrics. */
export function apiBase(broker: TestBroker): string {
  if (broker.httpPort === undefined) throw new Error('admin: broker without an HTTP port');
  return `http://${broker.host}:${broker.httpPort}`;
}

/**
 * One request to the management API at `base`: JSON in, `auth` as the Authorization header (none
 * when undefined, to see the 401). The caller reads the response.
 */
export function apiRequest(base: string, path: string, auth: string | undefined, method = 'GET', body?: unknown): Promise<Response> {
  return fetch(base + path, {
    method,
    headers: { ...(auth !== undefined ? { authorization: auth } : {}), 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

/**
 * The value of one sample of a Prometheus text exposition (`labels` as printed, e.g.
 * `partition="3"`; empty for an unlabelled metric), or undefined when it is absent.
 */
export function metricSample(metrics: string, name: string, labels = ''): number | undefined {
  const prefix = labels === '' ? `${name} ` : `${name}{${labels}} `;
  const line = metrics.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

export function adminFor(broker: TestBroker): Admin {
  if (broker.isWarren) return httpAdmin(apiBase(broker), 'guest', 'guest');
  return rabbitmqctlAdmin(process.env['WARREN_TEST_RABBITMQ_CTL'] ?? '/work/shared/tools/rabbitmq.sh', broker.amqpPort);
}

function rabbitmqctlAdmin(script: string, port: number): Admin {
  const ctl = async (...args: string[]): Promise<void> => {
    await run(script, ['ctl', String(port), ...args], { timeout: 30_000 });
  };
  return {
    addUser: (name, password) => ctl('add_user', name, password),
    deleteUser: (name) => ctl('delete_user', name),
    addVhost: (name) => ctl('add_vhost', name),
    deleteVhost: (name) => ctl('delete_vhost', name),
    setPermissions: (vhost, user, p) => ctl('set_permissions', '-p', vhost, user, p.configure, p.write, p.read),
  };
}

export function httpAdmin(baseUrl: string, user: string, pass: string): Admin {
  const auth = basicAuth(user, pass);
  const call = async (method: 'PUT' | 'DELETE', path: string, body?: object): Promise<void> => {
    const res = await apiRequest(baseUrl, path, auth, method, body);
    if (res.status < 200 || res.status >= 300) throw new Error(`admin: ${method} ${path} → ${res.status} ${await res.text()}`);
  };
  const seg = encodeURIComponent;
  return {
    addUser: (name, password) => call('PUT', `/api/users/${seg(name)}`, { password, tags: '' }),
    deleteUser: (name) => call('DELETE', `/api/users/${seg(name)}`),
    addVhost: (name) => call('PUT', `/api/vhosts/${seg(name)}`, {}),
    deleteVhost: (name) => call('DELETE', `/api/vhosts/${seg(name)}`),
    setPermissions: (vhost, u, p) => call('PUT', `/api/permissions/${seg(vhost)}/${seg(u)}`, { ...p }),
  };
}
