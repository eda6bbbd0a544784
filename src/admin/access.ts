// Who may call what and see what on /api, as RabbitMQ 3.10's management plugin decides it
// (rabbit_mgmt_util; statuses and texts checked against a 3.10.8 broker):
//
//   login      no credentials: 401, WWW-Authenticate, empty body. Unknown user or wrong password:
//              401 {"error":"not_authorized","reason":"Login failed"} with WWW-Authenticate.
//              A loopback-only user (guest) from another address: 401 not_authorised
//              "User can only log in via localhost". No management tag: "Not management user".
//   'management' any user tagged administrator, monitoring, policymaker or management.
//   'vhost'    the route names a vhost: also administrator or permissions in that vhost, else
//              "User not authorised to access virtual host"; a vhost that does not exist passes here
//              and the route answers 404.
//   'monitor'  administrator or monitoring, else "Not monitor user" (rabbit_mgmt_util's
//              is_authorized_monitor: /api/nodes).
//   'admin'    administrator, else "Not administrator user".
//
// The listings a route then filters (routes.ts) follow the same module: vhosts are all visible to
// administrator and monitoring, others see their permitted ones; queues, exchanges and bindings
// across vhosts are all visible to administrators only (monitoring users too see just their
// permitted vhosts); connections are all visible to administrator and monitoring, others see their
// own; the overview's totals are global for administrator and monitoring, scoped otherwise.
import { AdminError, MANAGEMENT_TAGS, type AdminSource, type LoginFailure } from './source.js';

export type Access = 'management' | 'monitor' | 'vhost' | 'admin';

export const isAdmin = (tags: readonly string[]): boolean => tags.includes('administrator');
export const isMonitor = (tags: readonly string[]): boolean => isAdmin(tags) || tags.includes('monitoring');
export const isManagementUser = (tags: readonly string[]): boolean =>
  tags.some((t) => (MANAGEMENT_TAGS as readonly string[]).includes(t));

/** Why a request was refused, for the log; the HTTP answer is RabbitMQ's. */
export type RefusalReason = LoginFailure | 'no credentials' | 'not a management user' | 'not a monitoring user' | 'not administrator' | 'vhost access refused';

/** A 401 that also says, for the log, who was refused and why. */
export class AccessRefused extends AdminError {
  constructor(
    readonly logReason: RefusalReason,
    readonly user: string | undefined,
    error: 'not_authorized' | 'not_authorised',
    reason: string,
    /** Send WWW-Authenticate (a browser asks for credentials again): only for failed logins, as RabbitMQ. */
    readonly challenge: boolean,
  ) {
    super(401, error, reason);
  }

  /** The credentials were refused (as opposed to a valid user lacking a right). */
  get loginFailed(): boolean {
    return this.logReason === 'unknown user' || this.logReason === 'bad password' || this.logReason === 'loopback only';
  }

  /**
   * A refusal a metadata view that trails could give for a user created, a password or tags
   * changed, or a permission granted a moment ago through another frontend.
   */
  get mayBeStale(): boolean {
    return this.logReason !== 'no credentials' && this.logReason !== 'loopback only';
  }

  /** RabbitMQ answers a request without credentials with an empty 401. */
  get emptyBody(): boolean {
    return this.logReason === 'no credentials';
  }
}

export interface Caller {
  readonly user: string;
  readonly tags: readonly string[];
  /** Vhosts the caller has permissions in (fetched once per request, on first use). */
  permittedVhosts(): Promise<ReadonlySet<string>>;
}

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

const LOGIN_FAILED = 'Login failed';

/**
 * Authenticates and authorises one request, in RabbitMQ's order: credentials, loopback rule,
 * management tag, then the route's level. `vhost` is the vhost the route names, if any.
 */
export async function authorize(
  source: AdminSource, creds: Credentials | undefined, peer: string | undefined, access: Access, vhost: string | undefined,
): Promise<Caller> {
  if (creds === undefined) throw new AccessRefused('no credentials', undefined, 'not_authorized', LOGIN_FAILED, true);
  const auth = await source.authenticate(creds.user, creds.password, peer);
  if (!auth.ok) {
    if (auth.reason === 'loopback only') {
      throw new AccessRefused(auth.reason, creds.user, 'not_authorised', 'User can only log in via localhost', false);
    }
    throw new AccessRefused(auth.reason, creds.user, 'not_authorized', LOGIN_FAILED, true);
  }
  const { tags } = auth;
  if (!isManagementUser(tags)) {
    throw new AccessRefused('not a management user', creds.user, 'not_authorised', 'Not management user', false);
  }
  let permitted: Promise<ReadonlySet<string>> | undefined;
  const caller: Caller = {
    user: creds.user, tags,
    permittedVhosts: () => (permitted ??= Promise.resolve(source.permittedVhosts(creds.user)).then((vs) => new Set(vs))),
  };
  if (access === 'monitor' && !isMonitor(tags)) {
    throw new AccessRefused('not a monitoring user', creds.user, 'not_authorised', 'Not monitor user', false);
  }
  if (access === 'admin' && !isAdmin(tags)) {
    throw new AccessRefused('not administrator', creds.user, 'not_authorised', 'Not administrator user', false);
  }
  if (access === 'vhost' && vhost !== undefined && !isAdmin(tags) && !(await caller.permittedVhosts()).has(vhost)) {
    // rabbit_mgmt_util:user_matches_vhost/2: a vhost that does not exist is not refused here.
    const exists = (await source.listVhosts()).some((v) => v.name === vhost);
    if (exists) {
      throw new AccessRefused('vhost access refused', creds.user, 'not_authorised', 'User not authorised to access virtual host', false);
    }
  }
  return caller;
}

/** Filters items of a cross-vhost listing (queues, exchanges, bindings) to what the caller may see. */
export async function inVisibleVhosts<T extends { readonly vhost: string }>(caller: Caller, items: readonly T[]): Promise<T[]> {
  if (isAdmin(caller.tags)) return [...items];
  const permitted = await caller.permittedVhosts();
  return items.filter((x) => permitted.has(x.vhost));
}
