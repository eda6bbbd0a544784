// The contract between the chart's cluster mode and `warren start --role owner|frontend`: every
// owner pod, resolved as the kubelet would for its own ordinal, starts with a node id and an
// owners list that name exactly the owners the chart creates (ids 1..N ↔ the DNS names the
// headless Service gives the StatefulSet's pods ↔ the port each owner listens on); frontends get
// the same list; Services, probes, the PDB, anti-affinity and scraping point at the right pods and
// ports. Checked from the WarrenConfig Warren's own loadConfig builds for each container.
import assert from 'node:assert/strict';
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IContainerPort, IPodSpec, IPodTemplateSpec } from 'kubernetes-models/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import type { OwnerAddress, WarrenConfig } from '../../src/config.js';
import { containerView, imageEntrypoint, startConfigOf, type ContainerView, type PodIdentity } from './container-view.js';
import { checkDataDir, checkDefaultUser, checkProbe, checkTlsFiles, resolvePort, type ExpectedDeployment } from './contract.js';
import { named, ofKind, theOnly, type IService, type K8sObject } from './manifests.js';

/** A label selector (the apimachinery type, reached through a kind that has one). */
type ILabelSelector = NonNullable<NonNullable<IPodDisruptionBudget['spec']>['selector']>;

export interface ExpectedCluster extends ExpectedDeployment {
  readonly namespace: string;
  readonly clusterDomain: string;
  readonly owners: number;
  readonly frontends: number;
  readonly clusterPort: number;
  /** The placement every node must be started with (cluster.partitions, cluster.replicationFactor). */
  readonly partitions: number;
  readonly replication: number;
}

/** One rendered pod of a role, as Kubernetes would run it. */
export interface RolePod {
  readonly identity: PodIdentity;
  readonly view: ContainerView;
  readonly cfg: WarrenConfig;
  readonly ports: readonly IContainerPort[];
}

export interface ClusterChecked {
  /** The owners, ordinal 0 first. */
  readonly owners: readonly RolePod[];
  readonly frontend: RolePod;
  /** The owners list every pod must have: ids 1..N at the owners' DNS names and cluster port. */
  readonly ownerAddresses: readonly OwnerAddress[];
}

/** matchLabels and matchExpressions, as the API server evaluates a label selector. */
export function selects(sel: ILabelSelector | undefined, labels: Record<string, string>): boolean {
  const eq = Object.entries(sel?.matchLabels ?? {});
  const exprs = sel?.matchExpressions ?? [];
  if (eq.length + exprs.length === 0) return false; // an empty selector here would be a chart bug
  return eq.every(([k, v]) => labels[k] === v) && exprs.every((e) => {
    const v = labels[e.key];
    switch (e.operator) {
      case 'In': return v !== undefined && (e.values ?? []).includes(v);
      case 'NotIn': return v === undefined || !(e.values ?? []).includes(v);
      case 'Exists': return v !== undefined;
      case 'DoesNotExist': return v === undefined;
      default: throw new Error(`selector operator ${e.operator}`);
    }
  });
}

function rolePod(template: IPodTemplateSpec, claims: readonly string[], identity: PodIdentity, objects: readonly K8sObject[]): RolePod {
  const pod = template.spec as IPodSpec;
  const view = containerView(pod, claims, objects, 'warren', identity);
  const cfg = startConfigOf(view, imageEntrypoint().entrypoint);
  const ports = pod.containers.find((c) => c.name === 'warren')?.ports ?? [];
  return { identity, view, cfg, ports };
}

function portsByName(ports: readonly IContainerPort[]): Record<string, number> {
  return Object.fromEntries(ports.map((p) => [p.name, p.containerPort]));
}

/** Probes, user and TLS files, the same for both roles. */
function checkCommon(template: IPodTemplateSpec, p: RolePod, objects: readonly K8sObject[], expected: ExpectedCluster, what: string): void {
  const c = template.spec?.containers.find((x) => x.name === 'warren');
  assert.ok(c, `${what}: a warren container`);
  checkProbe(c.readinessProbe, '/readyz', p.ports, p.cfg, `${what} readinessProbe`);
  checkProbe(c.livenessProbe, '/healthz', p.ports, p.cfg, `${what} livenessProbe`);
  if (c.startupProbe) checkProbe(c.startupProbe, '/healthz', p.ports, p.cfg, `${what} startupProbe`);
  assert.equal(p.cfg.httpPort, expected.httpPort, `${what} HTTP port`);
  assert.ok(['0.0.0.0', '::'].includes(p.cfg.bind[0] ?? ''), `${what} binds a wildcard address first, got ${p.cfg.bind.join(',')}`);
  checkDefaultUser(p.view, p.cfg, objects, expected);
}

/** A pod's anti-affinity (if any) spreads the pods of its own role and no others. */
function checkAntiAffinity(template: IPodTemplateSpec, own: Record<string, string>, other: Record<string, string>, what: string): void {
  const aa = template.spec?.affinity?.podAntiAffinity;
  const selectors = [
    ...(aa?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => t.labelSelector),
    ...(aa?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => t.podAffinityTerm.labelSelector),
  ];
  for (const sel of selectors) {
    assert.ok(selects(sel, own), `${what} anti-affinity spreads its own pods`);
    assert.ok(!selects(sel, other), `${what} anti-affinity ignores the other role's pods`);
  }
}

/** Checks the chart's cluster mode among `objects` against `expected`. */
export function checkWarrenCluster(objects: readonly K8sObject[], expected: ExpectedCluster): ClusterChecked {
  const sts = theOnly<IStatefulSet>(objects, 'StatefulSet');
  const dep = theOnly<IDeployment>(objects, 'Deployment');
  const ss = sts.spec;
  const ds = dep.spec;
  assert.ok(ss && ds, 'the owners StatefulSet and the frontends Deployment have specs');
  assert.ok(selects(ss.selector, ss.template.metadata?.labels ?? {}), 'the StatefulSet selects its pods');
  assert.ok(selects(ds.selector, ds.template.metadata?.labels ?? {}), 'the Deployment selects its pods');
  assert.ok(!selects(ss.selector, ds.template.metadata?.labels ?? {}) && !selects(ds.selector, ss.template.metadata?.labels ?? {}),
    'neither controller adopts the other\'s pods');

  // --- Owners: one pod per ordinal, as the StatefulSet controller creates them.
  const n = ss.replicas ?? 1;
  assert.equal(n, expected.owners, 'owner count');
  assert.equal(ss.podManagementPolicy, 'Parallel', 'owners start together (an owner\'s readiness may need its peers)');
  const headless = named<IService>(objects, 'Service', ss.serviceName ?? '');
  assert.equal(headless.spec?.clusterIP, 'None', 'serviceName is a headless Service (per-pod DNS names)');
  assert.equal(headless.spec?.publishNotReadyAddresses, true, 'owners resolve each other before they are ready');
  const ns = expected.namespace;
  // The DNS name Kubernetes gives StatefulSet pod i under its governing headless Service.
  const podName = (i: number): string => `${sts.metadata?.name ?? ''}-${i}`;
  const dnsName = (i: number): string => `${podName(i)}.${headless.metadata?.name ?? ''}.${ns}.svc.${expected.clusterDomain}`;
  const ownerTemplateLabels = ss.template.metadata?.labels ?? {};
  const ownerIdentity = (i: number): PodIdentity => ({
    name: podName(i), namespace: ns,
    labels: { ...ownerTemplateLabels, 'apps.kubernetes.io/pod-index': String(i), 'statefulset.kubernetes.io/pod-name': podName(i) },
  });
  const claims = (ss.volumeClaimTemplates ?? []).map((t) => t.metadata?.name ?? '');
  const owners = Array.from({ length: n }, (_, i) => rolePod(ss.template, claims, ownerIdentity(i), objects));
  const clusterPort = portsByName(owners[0]?.ports ?? [])['cluster'];
  assert.equal(clusterPort, expected.clusterPort, 'owners declare the cluster (gRPC) port');
  const ownerAddresses: OwnerAddress[] = Array.from({ length: n }, (_, i) => ({ id: i + 1, address: `${dnsName(i)}:${clusterPort}` }));
  for (const [i, p] of owners.entries()) {
    const what = `owner pod ${p.identity.name}`;
    assert.equal(p.cfg.role, 'owner', `${what} role`);
    assert.equal(p.cfg.nodeId, i + 1, `${what}: node id is ordinal + 1`);
    assert.deepEqual([...p.cfg.owners].sort((a, b) => a.id - b.id), ownerAddresses,
      `${what}: --owners is exactly ids 1..${n} at the StatefulSet's pod DNS names and cluster port`);
    assert.equal(p.cfg.owners.find((o) => o.id === p.cfg.nodeId)?.address, `${dnsName(i)}:${p.cfg.clusterPort}`,
      `${what} is listed under its own id at its own DNS name and the port it listens on`);
    assert.equal(p.cfg.clusterPort, expected.clusterPort, `${what} cluster port`);
    assert.deepEqual([p.cfg.partitions, p.cfg.replication], [expected.partitions, expected.replication], `${what} partitions and replication`);
    assert.deepEqual(portsByName(p.ports), { http: p.cfg.httpPort, cluster: p.cfg.clusterPort },
      `${what}: container ports are exactly its listeners (HTTP and gRPC; owners take no AMQP)`);
    assert.equal(p.cfg.tls, undefined, `${what}: no AMQPS listener`);
    checkCommon(ss.template, p, objects, expected, what);
    checkDataDir(p.view, p.cfg, ss.volumeClaimTemplates ?? [], expected.data);
    assert.ok(selects({ matchLabels: headless.spec?.selector ?? {} }, p.identity.labels), `the headless Service selects ${what}`);
  }
  assert.deepEqual(owners.map((p) => p.cfg.nodeId), ownerAddresses.map((o) => o.id), 'one owner pod per listed id');

  // --- Frontends: any pod of the Deployment (their names are random; nothing may depend on them).
  assert.equal(ds.replicas, expected.frontends, 'frontend replicas');
  const feLabels = { ...(ds.template.metadata?.labels ?? {}), 'pod-template-hash': '5c9d8b7f6' };
  const frontend = rolePod(ds.template, [], { name: `${dep.metadata?.name ?? ''}-5c9d8b7f6-x7k2q`, namespace: ns, labels: feLabels, ip: '10.1.2.3' }, objects);
  const fe = frontend.cfg;
  assert.equal(fe.role, 'frontend', 'frontend role');
  assert.deepEqual([...fe.owners].sort((a, b) => a.id - b.id), ownerAddresses, 'frontends get the same --owners as the owners');
  assert.deepEqual([fe.partitions, fe.replication], [expected.partitions, expected.replication], 'frontends get the owners\' partition count and replication');
  assert.ok(!ownerAddresses.some((o) => o.id === fe.nodeId), 'a frontend does not take an owner\'s id');
  assert.equal(fe.amqpPort, expected.amqpPort, 'frontend AMQP port');
  const feListeners: Record<string, number> = { amqp: fe.amqpPort, http: fe.httpPort };
  if (expected.tls) {
    assert.ok(fe.tls, 'frontend TLS configured');
    assert.equal(fe.amqpsPort, expected.tls.amqpsPort, 'frontend AMQPS port');
    feListeners['amqps'] = fe.amqpsPort;
  } else {
    assert.equal(fe.tls, undefined, 'no TLS: no AMQPS listener');
  }
  assert.deepEqual(portsByName(frontend.ports), feListeners, 'frontend container ports are exactly its listeners');
  // The other frontends reach its management API at its pod IP (a cluster-wide /api/connections).
  assert.equal(fe.advertiseHost, '10.1.2.3', 'frontend advertises its pod IP');
  checkCommon(ds.template, frontend, objects, expected, 'frontend');
  checkDataDir(frontend.view, fe, [], { claim: false });
  checkTlsFiles(frontend.view, fe, expected.tls);

  // --- Services: each selects one role, and every port targets a listener of the pods it selects.
  const roles = [
    { role: 'owner', labels: owners[0]?.identity.labels ?? {}, pod: owners[0] as RolePod, listeners: { http: owners[0]?.cfg.httpPort, cluster: owners[0]?.cfg.clusterPort } },
    { role: 'frontend', labels: feLabels, pod: frontend, listeners: feListeners },
  ];
  const exposed = new Map<string, Set<string>>(roles.map((r) => [r.role, new Set<string>()]));
  const services = ofKind<IService>(objects, 'Service');
  const selectedBy = new Map<string, string>();
  for (const svc of services) {
    const name = svc.metadata?.name ?? '';
    const selected = roles.filter((r) => selects({ matchLabels: svc.spec?.selector ?? {} }, r.labels));
    assert.equal(selected.length, 1, `Service ${name} selects the pods of one role, got ${selected.map((r) => r.role).join(', ') || 'none'}`);
    const r = selected[0] as (typeof roles)[number];
    selectedBy.set(name, r.role);
    for (const sp of svc.spec?.ports ?? []) {
      const target = resolvePort(r.pod.ports, sp.targetPort ?? sp.port, `Service ${name} port ${sp.name} on the ${r.role}s`);
      const listener = Object.entries(r.listeners).find(([, port]) => port === target);
      assert.ok(listener, `Service ${name} port ${sp.name} targets ${target} on the ${r.role}s, where nothing listens`);
      exposed.get(r.role)?.add(listener[0]);
    }
  }
  for (const r of roles) {
    for (const l of Object.keys(r.listeners)) assert.ok(exposed.get(r.role)?.has(l), `no Service exposes the ${r.role}s' ${l} port`);
  }
  assert.equal(selectedBy.get(headless.metadata?.name ?? ''), 'owner', 'the headless Service is the owners\'');
  // The client Service: the AMQP ports clients expect, on the frontends.
  const amqpServices = services.filter((s) => (s.spec?.ports ?? []).some((p) => p.name === 'amqp'));
  assert.equal(amqpServices.length, 1, 'one client Service');
  const client = amqpServices[0] as IService;
  assert.equal(selectedBy.get(client.metadata?.name ?? ''), 'frontend', 'the client Service selects the frontends');
  assert.deepEqual((client.spec?.ports ?? []).map((p) => [p.port, resolvePort(frontend.ports, p.targetPort ?? p.port, 'client')]),
    expected.tls ? [[5672, fe.amqpPort], [5671, fe.amqpsPort]] : [[5672, fe.amqpPort]], 'client ports: 5672 and, with TLS only, 5671');

  // --- PodDisruptionBudget: the owners, leaving a Raft majority.
  for (const pdb of ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget')) {
    assert.ok(selects(pdb.spec?.selector, roles[0]?.labels ?? {}), 'the PodDisruptionBudget selects the owners');
    assert.ok(!selects(pdb.spec?.selector, feLabels), 'the PodDisruptionBudget leaves the frontends out');
    const maxUnavailable = pdb.spec?.maxUnavailable;
    assert.equal(typeof maxUnavailable, 'number', 'maxUnavailable is a count');
    if (n >= 3) assert.ok(n - (maxUnavailable as number) >= Math.floor(n / 2) + 1, `evictions leave a majority of ${n} owners`);
  }

  checkAntiAffinity(ss.template, roles[0]?.labels ?? {}, feLabels, 'owner');
  checkAntiAffinity(ds.template, feLabels, roles[0]?.labels ?? {}, 'frontend');

  // --- Scraping: /metrics on the HTTP port of every owner and every frontend.
  for (const sm of ofKind<IServiceMonitor>(objects, 'ServiceMonitor')) {
    const scraped = new Set<string>();
    for (const svc of services.filter((s) => selects(sm.spec.selector as ILabelSelector, s.metadata?.labels ?? {}))) {
      const role = roles.find((r) => r.role === selectedBy.get(svc.metadata?.name ?? '')) as (typeof roles)[number];
      for (const ep of sm.spec.endpoints ?? []) {
        assert.equal(ep.path, '/metrics');
        const sp = svc.spec?.ports?.find((p) => p.name === ep.port);
        assert.ok(sp, `ServiceMonitor port ${ep.port} exists on Service ${svc.metadata?.name}`);
        assert.equal(resolvePort(role.pod.ports, sp.targetPort ?? sp.port, 'ServiceMonitor'), role.pod.cfg.httpPort, 'scrapes the HTTP port');
        scraped.add(role.role);
      }
    }
    assert.deepEqual([...scraped].sort(), ['frontend', 'owner'], 'the ServiceMonitor scrapes owners and frontends');
  }
  return { owners, frontend, ownerAddresses };
}
