// What the chart and deploy/k8s render is exactly what `warren start` needs: their container's
// argv and environment, run through Warren's own config loading, give a broker that listens where
// the Services and probes point, stores data on the PVC and creates the user the Secret names.
// Cluster mode (owners StatefulSet + frontends Deployment) is checked per pod: each owner's node
// id and owners list, resolved for its own ordinal, against the owners the chart creates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { checkWarrenCluster } from './cluster-contract.js';
import { containerView, imageEntrypoint, startConfigOf } from './container-view.js';
import { checkWarrenDeployment } from './contract.js';
import { dataOf, named, parseManifests, theOnly, validateObject, type IConfigMap, type ISecret, type IService, type IStatefulSet, type K8sObject } from './manifests.js';
import { helmTemplate, kustomize, NAMESPACE } from './render.js';
import { CLUSTER_VALUE_SETS, VALUE_SETS } from './value-sets.js';

for (const set of VALUE_SETS) {
  test(`chart → warren start contract: ${set.name}`, () => {
    const objects = [...parseManifests(helmTemplate(set.values)), ...((set.external ?? []) as K8sObject[])];
    const { cfg } = checkWarrenDeployment(objects, set.expected);
    assert.equal(cfg.dataDir, '/data');
    assert.equal(cfg.logLevel, set.name.includes('extra env') ? 'debug' : 'info', 'extraEnv overrides the ConfigMap');
  });
}

test('chart: a generated password is the one Warren creates and the Secret hands out', () => {
  const objects = parseManifests(helmTemplate({ defaultUser: { username: 'admin', password: '' } }));
  const { cfg } = checkWarrenDeployment(objects, { amqpPort: 5672, httpPort: 15672, user: 'admin', data: { claim: true, size: '10Gi' } });
  assert.equal(cfg.defaultPass.length, 24);
  assert.equal(dataOf(named<ISecret>(objects, 'Secret', 'warren-default-user'))['password'], cfg.defaultPass);
});

test('deploy/k8s (kubectl kustomize) → warren start contract', () => {
  const objects = parseManifests(kustomize('deploy/k8s'));
  for (const o of objects) validateObject(o);
  const { cfg } = checkWarrenDeployment(objects, {
    amqpPort: 5672, httpPort: 15672, user: 'admin', pass: 'change-me', data: { claim: true, size: '10Gi' },
  });
  assert.equal(cfg.dataDir, '/data');
});

test('the contract check fails when the chart and the CLI disagree', () => {
  const base = () => parseManifests(helmTemplate());
  const expected = { amqpPort: 5672, httpPort: 15672, user: 'admin', data: { claim: true, size: '10Gi' } } as const;
  const edit = (objects: K8sObject[], from: string, to: string): K8sObject[] => objects.map((o) => JSON.parse(JSON.stringify(o).replace(from, to)) as K8sObject);
  // A probe on a path Warren does not serve as readiness.
  assert.throws(() => checkWarrenDeployment(edit(base(), '"/readyz"', '"/healthz"'), expected), /readinessProbe path/);
  // The ConfigMap moves AMQP, the container port does not follow.
  assert.throws(() => checkWarrenDeployment(edit(base(), '"WARREN_AMQP_PORT":"5672"', '"WARREN_AMQP_PORT":"5673"'), expected), /AMQP port/);
  // Data outside the PVC (on the read-only root filesystem).
  assert.throws(() => checkWarrenDeployment(edit(base(), '"WARREN_DATA_DIR":"/data"', '"WARREN_DATA_DIR":"/var/lib/warren"'), expected), /is on a mounted volume/);
  // A flag `warren start` does not have (checked against the real CLI's --help).
  assert.throws(() => checkWarrenDeployment(edit(base(), '"args":["start"]', '"args":["start","--no-such-flag","x"]'), expected), /no option --no-such-flag/);
  // A flag it has reaches loadConfig and wins over the environment, as in `warren start`.
  assert.throws(() => checkWarrenDeployment(edit(base(), '"args":["start"]', '"args":["start","--http-port=15999"]'), expected), /HTTP port/);
});

for (const set of CLUSTER_VALUE_SETS) {
  test(`chart (cluster mode) → warren start contract: ${set.name}`, () => {
    const objects = [...parseManifests(helmTemplate(set.values)), ...((set.external ?? []) as K8sObject[])];
    const { owners, frontend, ownerAddresses } = checkWarrenCluster(objects, set.expected);
    assert.equal(owners.length, set.expected.owners);
    // The naming scheme spelt out once, so that a wrong derivation shared by chart and check shows.
    assert.equal(ownerAddresses.at(-1)?.address,
      `warren-owner-${set.expected.owners - 1}.warren-owners.${NAMESPACE}.svc.${set.expected.clusterDomain}:${set.expected.clusterPort}`);
    for (const p of [...owners, frontend]) assert.equal(p.cfg.dataDir, '/data');
  });
}

test('cluster mode: without the pod-index label (Kubernetes < 1.28) an owner refuses to start instead of guessing an id', () => {
  const objects = parseManifests(helmTemplate({ cluster: { enabled: true } }));
  const sts = theOnly<IStatefulSet>(objects, 'StatefulSet');
  const template = sts.spec?.template;
  assert.ok(template?.spec);
  const view = containerView(template.spec, ['data'], objects, 'warren', { name: 'warren-owner-0', namespace: NAMESPACE, labels: { ...template.metadata?.labels } });
  assert.equal(view.env['WARREN_NODE_ID_FROM_ORDINAL'], '', 'the downward API gives a missing label as ""');
  assert.throws(() => startConfigOf(view, imageEntrypoint().entrypoint), /invalid WARREN_NODE_ID_FROM_ORDINAL: ''/);
});

// A rendered object edited in a test: deep paths the schema types would make optional at every step.
type Json = any;

test('the cluster contract check fails when the chart and the CLI disagree', () => {
  const [set, withMonitor] = CLUSTER_VALUE_SETS;
  assert.ok(set && withMonitor);
  const render = (values: object): K8sObject[] => parseManifests(helmTemplate(values));
  const base = render(set.values);
  /** A deep copy of `objects` with `fn` applied to the objects of `kind` (and `name`), edited as plain JSON. */
  const change = (objects: readonly K8sObject[], kind: string, name: string | undefined, fn: (o: Json) => void): K8sObject[] =>
    objects.map((o) => {
      const copy = JSON.parse(JSON.stringify(o)) as K8sObject;
      if (o.kind === kind && (name === undefined || o.metadata.name === name)) fn(copy);
      return copy;
    });
  const check = (objects: readonly K8sObject[], expected = set.expected) => checkWarrenCluster(objects, expected);
  const ownerEnv = (o: Json): Json => o.spec.template.spec.containers[0].env;
  const setOwners = (objects: readonly K8sObject[], value: (now: string) => string) => change(objects, 'ConfigMap', undefined, (cm: IConfigMap) => {
    (cm.data as Record<string, string>)['WARREN_OWNERS'] = value(cm.data?.['WARREN_OWNERS'] ?? '');
  });
  check(base); // the unchanged render passes

  // Every owner the same id instead of one from its ordinal.
  assert.throws(() => check(change(base, 'StatefulSet', undefined, (o) => { ownerEnv(o)[0] = { name: 'WARREN_NODE_ID', value: '1' }; })),
    /warren-owner-1: node id is ordinal \+ 1/);
  // The ordinal itself as the id: pod 0 would be node 0, which Warren refuses.
  assert.throws(() => check(change(base, 'StatefulSet', undefined, (o) => { ownerEnv(o)[0].name = 'WARREN_NODE_ID'; })), /invalid --node-id: 0/);
  // Owner addresses under a Service that is not the StatefulSet's governing one (no such DNS names).
  assert.throws(() => check(setOwners(base, (v) => v.replaceAll('.warren-owners.', '.warren-headless.'))), /--owners is exactly ids 1\.\.3/);
  // Ids shifted to 2..4: pod 0 (node 1) is not among them, and loadConfig says so.
  assert.throws(() => check(setOwners(base, (v) => v.replace(/(\d)=/g, (_, d: string) => `${Number(d) + 1}=`))), /--node-id 1 is not one of --owners/);
  // A fourth owner pod that the owners list does not name.
  assert.throws(() => check(change(base, 'StatefulSet', undefined, (o) => { o.spec.replicas = 4; }), { ...set.expected, owners: 4 }),
    /--node-id 4 is not one of --owners/);
  // The gRPC port moved in the ConfigMap only: owners would listen where no peer dials.
  assert.throws(() => check(change(base, 'ConfigMap', undefined, (cm) => { cm.data.WARREN_CLUSTER_PORT = '25673'; })),
    /listed under its own id at its own DNS name and the port it listens on/);
  // A frontend with an owners list of its own.
  assert.throws(() => check(change(base, 'Deployment', undefined, (d: IDeployment) => {
    d.spec?.template.spec?.containers[0]?.args?.push('--owners', '1=warren-owner-0.warren-owners.mq.svc.cluster.local:25672');
  })), /frontends get the same --owners/);
  // An owner that declares an AMQP port (owners take no AMQP).
  assert.throws(() => check(change(base, 'StatefulSet', undefined, (o) => { o.spec.template.spec.containers[0].ports.push({ name: 'amqp', containerPort: 5672 }); })),
    /container ports are exactly its listeners/);
  // The client Service on the owners instead of the frontends.
  assert.throws(() => check(change(base, 'Service', 'warren', (svc: IService) => {
    (svc.spec?.selector as Record<string, string>)['app.kubernetes.io/component'] = 'owner';
  })), /no container port named amqp/);
  // The headless Service hides owners that are not ready yet (peers could not find each other).
  assert.throws(() => check(change(base, 'Service', 'warren-owners', (svc) => { svc.spec.publishNotReadyAddresses = false; })), /resolve each other/);
  // The PDB on the frontends, or one that lets a majority of the owners go.
  assert.throws(() => check(change(base, 'PodDisruptionBudget', undefined, (pdb: IPodDisruptionBudget) => {
    (pdb.spec?.selector?.matchLabels as Record<string, string>)['app.kubernetes.io/component'] = 'frontend';
  })), /PodDisruptionBudget selects the owners/);
  assert.throws(() => check(change(base, 'PodDisruptionBudget', undefined, (pdb) => { pdb.spec.maxUnavailable = 2; })), /majority of 3 owners/);
  // Owners' readiness on a path that is not /readyz; anti-affinity that spreads the wrong pods.
  assert.throws(() => check(change(base, 'StatefulSet', undefined, (o) => { o.spec.template.spec.containers[0].readinessProbe.httpGet.path = '/healthz'; })),
    /owner pod warren-owner-0 readinessProbe path/);
  assert.throws(() => check(change(base, 'StatefulSet', undefined, (o) => {
    o.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchLabels['app.kubernetes.io/component'] = 'frontend';
  })), /owner anti-affinity spreads its own pods/);
  // A ServiceMonitor that scrapes the frontends only.
  const monitored = render(withMonitor.values);
  checkWarrenCluster(monitored, withMonitor.expected);
  assert.throws(() => checkWarrenCluster(change(monitored, 'ServiceMonitor', undefined, (sm) => {
    sm.spec.selector.matchExpressions[0].values = ['admin'];
  }), withMonitor.expected), /scrapes owners and frontends/);
});

test('cluster mode: the chart creates the Secret the pods read the default user from', () => {
  const objects = parseManifests(helmTemplate({ cluster: { enabled: true } }));
  const { owners, frontend } = checkWarrenCluster(objects, CLUSTER_VALUE_SETS[0]?.expected ?? assert.fail());
  const secret = dataOf(named<ISecret>(objects, 'Secret', 'warren-default-user'));
  for (const p of [...owners, frontend]) assert.equal(p.cfg.defaultPass, secret['password'], 'one generated password for every pod');
  assert.equal(secret['password']?.length, 24);
});
