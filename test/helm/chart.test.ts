// The Helm chart passes `helm lint --strict`, renders with each value set into valid YAML whose
// every object matches its kind's Kubernetes schema, and refuses values it cannot honour.
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import { goldenPath, pinnedSingleValues } from './golden.js';
import { parseManifests, theOnly, validateObject } from './manifests.js';
import { helmLint, helmTemplate, helmTemplateRaw } from './render.js';
import { CLUSTER_VALUE_SETS, VALUE_SETS } from './value-sets.js';

for (const set of [...VALUE_SETS, ...CLUSTER_VALUE_SETS]) {
  test(`helm lint --strict: ${set.name}`, () => {
    const res = helmLint(set.values);
    assert.equal(res.status, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test(`helm template renders schema-valid objects: ${set.name}`, () => {
    const objects = parseManifests(helmTemplate(set.values));
    assert.ok(objects.length >= 5, `rendered ${objects.length} objects`);
    for (const o of objects) validateObject(o);
  });
}

test('value overrides reach the rendered objects (resources, PVC size, ServiceMonitor)', () => {
  const set = VALUE_SETS[1];
  assert.ok(set);
  const objects = parseManifests(helmTemplate(set.values));
  const sts = theOnly<IStatefulSet>(objects, 'StatefulSet');
  const c = sts.spec?.template.spec?.containers[0];
  assert.deepEqual(c?.resources, { requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '4', memory: '8Gi' } });
  assert.equal(sts.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.['storage'], '250Gi');
  assert.deepEqual(objects.filter((o) => o.kind === 'ServiceMonitor').map((o) => o.metadata.labels?.['release']), ['prom']);
});

test('schema validation catches a malformed object (the check can fail)', () => {
  const [sts] = parseManifests(helmTemplate()).filter((o) => o.kind === 'StatefulSet');
  assert.ok(sts);
  const broken = JSON.parse(JSON.stringify(sts).replace('"containerPort":5672', '"containerPort":"5672"')) as typeof sts;
  assert.throws(() => validateObject(broken), /containerPort must be integer/);
  assert.throws(() => parseManifests('a: [1\n'), /invalid YAML/);
});

test('the chart refuses values it cannot honour', () => {
  const cases: Array<[object, RegExp]> = [
    [{ replicaCount: 3 }, /replicaCount must be 1/],
    [{ cluster: { enabled: true, owners: 0 } }, /cluster.owners must be at least 1/],
    [{ cluster: { enabled: true, frontends: 0 } }, /cluster.frontends must be at least 1/],
    [{ cluster: { enabled: true, port: 15672 } }, /cluster.port must be a port .* other than broker.httpPort/],
    [{ cluster: { enabled: true, port: 70000 } }, /cluster.port must be a port/],
    [{ cluster: { enabled: true }, podDisruptionBudget: { maxUnavailable: 2 } }, /maxUnavailable=2 would let evictions take 2 owners of 3 below a majority/],
    [{ cluster: { enabled: true }, podDisruptionBudget: { maxUnavailable: '50%' } }, /maxUnavailable must be a count of owners/],
    [{ cluster: { enabled: true, owners: 5, frontends: 1 }, tls: { enabled: true } }, /tls.enabled needs/],
    [{ tls: { enabled: true } }, /tls.enabled needs tls.existingSecret, or both tls.cert and tls.key/],
  ];
  for (const [values, message] of cases) {
    const res = helmTemplateRaw(values);
    assert.notEqual(res.status, 0, `rendered ${JSON.stringify(values)}`);
    assert.match(res.stderr, message);
  }
});

test('cluster values reach the rendered objects (replicas, per-role resources, PVC size and class)', () => {
  const set = CLUSTER_VALUE_SETS[1];
  assert.ok(set);
  const objects = parseManifests(helmTemplate(set.values));
  const sts = theOnly<IStatefulSet>(objects, 'StatefulSet');
  const dep = theOnly<IDeployment>(objects, 'Deployment');
  assert.equal(sts.spec?.replicas, 5);
  assert.equal(dep.spec?.replicas, 3);
  assert.deepEqual(sts.spec?.template.spec?.containers[0]?.resources, { requests: { cpu: '4', memory: '16Gi' }, limits: { memory: '16Gi' } });
  assert.deepEqual(dep.spec?.template.spec?.containers[0]?.resources, { requests: { cpu: '1', memory: '1Gi' } });
  const claim = sts.spec?.volumeClaimTemplates?.[0]?.spec;
  assert.equal(claim?.resources?.requests?.['storage'], '250Gi');
  assert.equal(claim?.storageClassName, 'fast-ssd');
  // Without per-role resources both roles take `resources` (which helm merges over the defaults).
  const defaults = parseManifests(helmTemplate({ cluster: { enabled: true }, resources: { requests: { cpu: '3' } } }));
  for (const kind of ['StatefulSet', 'Deployment']) {
    assert.deepEqual(theOnly<IStatefulSet>(defaults, kind).spec?.template.spec?.containers[0]?.resources,
      { requests: { cpu: '3', memory: '512Mi' }, limits: { memory: '1Gi' } }, kind);
  }
});

test('cluster.enabled=false: the single node renders byte-for-byte as before cluster mode, whatever the other cluster.* values', () => {
  // The cluster.* values that cluster mode reads, all changed; with enabled=false none may matter.
  const inert = { enabled: false, owners: 7, frontends: 4, port: 26001, clusterDomain: 'other.example', ownerResources: { requests: { cpu: '9' } }, frontendResources: { requests: { cpu: '8' } } };
  for (const set of VALUE_SETS) {
    const pinned = pinnedSingleValues(set.values);
    const rendered = helmTemplate(pinned);
    const file = goldenPath(set.name);
    if (process.env['WARREN_UPDATE_GOLDEN'] === '1') writeFileSync(file, rendered);
    assert.equal(rendered, readFileSync(file, 'utf8'), `${set.name}: differs from ${file}`);
    assert.equal(helmTemplate({ ...pinned, cluster: { enabled: false } }), rendered, `${set.name}: cluster.enabled=false`);
    assert.equal(helmTemplate({ ...pinned, cluster: inert }), rendered, `${set.name}: other cluster.* values`);
    assert.doesNotMatch(rendered, /--role|WARREN_OWNERS|WARREN_NODE_ID|kind: Deployment/, `${set.name}: no cluster objects or settings`);
  }
});
