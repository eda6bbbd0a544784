// The contract between a rendered single-node deployment (the Helm chart or deploy/k8s) and
// `warren start`: the process the pod runs must listen exactly where the Services, probes and
// scrape config point, keep its data on the volume meant for it, and create the default user the
// Secret documents. Checked from the WarrenConfig that Warren's own loadConfig builds.
import assert from 'node:assert/strict';
import type { IContainerPort, IPodSpec, IProbe } from 'kubernetes-models/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import type { WarrenConfig } from '../../src/config.js';
import { NODE_FLAGS } from '../../src/launcher/node-flags.js';
import { containerView, fileAt, imageEntrypoint, mountOf, startConfigOf, type ContainerView } from './container-view.js';
import { dataOf, named, ofKind, theOnly, type ISecret, type IService, type IStatefulSet, type K8sObject } from './manifests.js';

export interface ExpectedDeployment {
  readonly amqpPort: number;
  readonly httpPort: number;
  /** Set when TLS is on: the AMQPS port, and the PEM texts the mounted files must hold. */
  readonly tls?: { readonly amqpsPort: number; readonly cert: string; readonly key: string; readonly ca?: string };
  readonly user: string;
  /** Undefined when the chart generates the password. */
  readonly pass?: string;
  readonly data: { readonly claim: true; readonly size: string; readonly storageClass?: string } | { readonly claim: false };
}

export interface Checked {
  readonly cfg: WarrenConfig;
  readonly view: ContainerView;
  readonly pod: IPodSpec;
}

type IntOrString = number | string;

export function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  const sel = Object.entries(selector ?? {});
  return sel.length > 0 && sel.every(([k, v]) => labels?.[k] === v);
}

/** The container port number a Service targetPort or probe port names. */
export function resolvePort(ports: readonly IContainerPort[], p: IntOrString, what: string): number {
  if (typeof p === 'number') return p;
  const found = ports.find((x) => x.name === p);
  assert.ok(found, `${what}: no container port named ${p}`);
  return found.containerPort;
}

export function checkProbe(probe: IProbe | undefined, path: string, ports: readonly IContainerPort[], cfg: WarrenConfig, what: string): void {
  assert.ok(probe?.httpGet, `${what}: an httpGet probe`);
  const get = probe.httpGet;
  assert.equal(get.path, path, `${what} path`);
  assert.equal(get.scheme ?? 'HTTP', 'HTTP', `${what}: Warren's admin server speaks plain HTTP`);
  assert.equal(get.host, undefined, `${what}: probes the pod IP`);
  assert.equal(resolvePort(ports, get.port, what), cfg.httpPort, `${what} targets the HTTP admin port`);
}

/** Checks the one Warren StatefulSet among `objects` against `expected`; returns what it checked. */
export function checkWarrenDeployment(objects: readonly K8sObject[], expected: ExpectedDeployment): Checked {
  const sts = theOnly<IStatefulSet>(objects, 'StatefulSet');
  const spec = sts.spec;
  assert.ok(spec, 'StatefulSet has a spec');
  assert.equal(spec.replicas, 1, 'single node until clustering: one replica');
  const pod = spec.template.spec;
  assert.ok(pod, 'pod template has a spec');
  const podLabels = spec.template.metadata?.labels;
  assert.ok(labelsMatch(spec.selector.matchLabels, podLabels), 'StatefulSet selector matches its pods');

  // argv: the image's program running `start` (containerView applies Kubernetes' command/args rules).
  const program = imageEntrypoint().entrypoint;
  assert.deepEqual(program, ['node', ...NODE_FLAGS, '/app/bin/warren.js'], 'the image runs the warren CLI');
  const claims = (spec.volumeClaimTemplates ?? []).map((t) => t.metadata?.name ?? '');
  const view = containerView(pod, claims, objects);
  const cfg = startConfigOf(view, program);
  const container = pod.containers.find((c) => c.name === 'warren');
  assert.ok(container);
  const ports = container.ports ?? [];

  // Ports: values → config, and the container declares exactly the listeners Warren opens.
  assert.equal(cfg.amqpPort, expected.amqpPort, 'AMQP port');
  assert.equal(cfg.httpPort, expected.httpPort, 'HTTP port');
  const listening: Record<string, number> = { amqp: cfg.amqpPort, http: cfg.httpPort };
  if (expected.tls) {
    assert.ok(cfg.tls, 'TLS configured');
    assert.equal(cfg.amqpsPort, expected.tls.amqpsPort, 'AMQPS port');
    listening['amqps'] = cfg.amqpsPort;
  } else {
    assert.equal(cfg.tls, undefined, 'no TLS: no AMQPS listener');
  }
  assert.deepEqual(Object.fromEntries(ports.map((p) => [p.name, p.containerPort])), listening,
    'container ports are exactly the listeners of `warren start`');
  // HTTP listens on the first bind address only; both must be reachable at the pod IP.
  assert.ok(cfg.bind.length > 0 && ['0.0.0.0', '::'].includes(cfg.bind[0] as string), `binds a wildcard address first, got ${cfg.bind.join(',')}`);

  // Services select these pods and target only ports Warren listens on; every listener is exposed.
  const services = ofKind<IService>(objects, 'Service');
  const exposed = new Set<number>();
  for (const svc of services) {
    const name = svc.metadata?.name ?? '';
    assert.ok(labelsMatch(svc.spec?.selector, podLabels), `Service ${name} selects the Warren pods`);
    for (const p of svc.spec?.ports ?? []) {
      const target = resolvePort(ports, p.targetPort ?? p.port, `Service ${name} port ${p.name}`);
      assert.ok(Object.values(listening).includes(target), `Service ${name} port ${p.name} targets ${target}, where nothing listens`);
      exposed.add(target);
    }
  }
  for (const [name, port] of Object.entries(listening)) assert.ok(exposed.has(port), `no Service exposes ${name} (${port})`);
  const headless = named<IService>(objects, 'Service', spec.serviceName ?? '');
  assert.equal(headless.spec?.clusterIP, 'None', 'serviceName is a headless Service (stable pod DNS, later the owners\' peer addresses)');

  // Probes: readiness on /readyz, liveness (and startup) on /healthz, all on the HTTP port.
  checkProbe(container.readinessProbe, '/readyz', ports, cfg, 'readinessProbe');
  checkProbe(container.livenessProbe, '/healthz', ports, cfg, 'livenessProbe');
  if (container.startupProbe) checkProbe(container.startupProbe, '/healthz', ports, cfg, 'startupProbe');

  // Scraping: annotations and ServiceMonitors point at /metrics on the HTTP port.
  const ann = spec.template.metadata?.annotations ?? {};
  if (ann['prometheus.io/port'] !== undefined) assert.equal(Number(ann['prometheus.io/port']), cfg.httpPort, 'prometheus.io/port');
  for (const sm of ofKind<IServiceMonitor>(objects, 'ServiceMonitor')) {
    const targets = services.filter((s) => labelsMatch(sm.spec.selector.matchLabels, s.metadata?.labels));
    assert.equal(targets.length, 1, 'the ServiceMonitor selects one Service (the admin one)');
    for (const ep of sm.spec.endpoints ?? []) {
      assert.equal(ep.path, '/metrics');
      const sp = targets[0]?.spec?.ports?.find((p) => p.name === ep.port);
      assert.ok(sp, `ServiceMonitor port ${ep.port} exists on the Service`);
      assert.equal(resolvePort(ports, sp.targetPort ?? sp.port, 'ServiceMonitor'), cfg.httpPort);
    }
  }
  for (const pdb of ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget')) {
    assert.ok(labelsMatch(pdb.spec?.selector?.matchLabels, podLabels), 'PodDisruptionBudget selects the Warren pods');
  }

  checkDataDir(view, cfg, spec.volumeClaimTemplates ?? [], expected.data);
  checkDefaultUser(view, cfg, objects, expected);
  checkTlsFiles(view, cfg, expected.tls);
  return { cfg, view, pod };
}

/** The data dir is the writable volume meant for it (the root filesystem may be read-only). */
export function checkDataDir(view: ContainerView, cfg: WarrenConfig, claimTemplates: NonNullable<NonNullable<IStatefulSet['spec']>['volumeClaimTemplates']>,
  expected: ExpectedDeployment['data']): void {
  const dataMount = mountOf(view, cfg.dataDir);
  assert.ok(dataMount, `data dir ${cfg.dataDir} is on a mounted volume`);
  assert.equal(dataMount.mountPath, cfg.dataDir, 'the data dir is the volume\'s root');
  assert.equal(dataMount.readOnly, false, 'the data volume is writable');
  if (expected.claim) {
    assert.ok('claimTemplate' in dataMount.volume, 'data on the per-pod PVC');
    const tpl = claimTemplates.find((t) => t.metadata?.name === dataMount.volume.name);
    assert.equal(tpl?.spec?.resources?.requests?.['storage'], expected.size, 'PVC size');
    assert.equal(tpl?.spec?.storageClassName, expected.storageClass, 'PVC storage class');
  } else {
    assert.ok(!('claimTemplate' in dataMount.volume) && dataMount.volume.emptyDir, 'data on an emptyDir');
  }
}

/** What Warren creates is what the Secret tells people; never guest (loopback-only). */
export function checkDefaultUser(view: ContainerView, cfg: WarrenConfig, objects: readonly K8sObject[],
  expected: Pick<ExpectedDeployment, 'user' | 'pass'>): void {
  assert.equal(cfg.defaultUser, expected.user, 'default user');
  assert.notEqual(cfg.defaultUser, 'guest', 'guest may only connect from loopback');
  if (expected.pass !== undefined) assert.equal(cfg.defaultPass, expected.pass, 'default password');
  assert.ok(cfg.defaultPass.length >= 8 && cfg.defaultPass !== 'guest', 'a real default password');
  const configPath = view.env['WARREN_CONFIG'];
  const configMount = configPath === undefined ? undefined : mountOf(view, configPath);
  const secretName = configMount && !('claimTemplate' in configMount.volume) ? configMount.volume.secret?.secretName : undefined;
  if (secretName !== undefined) {
    const data = dataOf(named<ISecret>(objects, 'Secret', secretName));
    if (data['username'] !== undefined) assert.equal(data['username'], cfg.defaultUser, 'Secret username is the created user');
    if (data['password'] !== undefined) assert.equal(data['password'], cfg.defaultPass, 'Secret password is the created user\'s');
  }
}

/** The files the TLS config names are mounted and hold the configured PEMs. */
export function checkTlsFiles(view: ContainerView, cfg: WarrenConfig, expected: ExpectedDeployment['tls']): void {
  if (expected && cfg.tls) {
    assert.equal(fileAt(view, cfg.tls.certFile), expected.cert, 'certificate file');
    assert.equal(fileAt(view, cfg.tls.keyFile), expected.key, 'key file');
    assert.equal(cfg.tls.caFile === undefined ? undefined : fileAt(view, cfg.tls.caFile), expected.ca, 'CA file');
  }
}
