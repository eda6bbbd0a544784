// The Helm chart passes `helm lint --strict`, renders with each value set into valid YAML whose
// every object matches its kind's Kubernetes schema, and refuses values it cannot honour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IStatefulSet } from 'kubernetes-models/apps/v1';
import { parseManifests, theOnly, validateObject } from './manifests.js';
import { helmLint, helmTemplate, helmTemplateRaw } from './render.js';
import { VALUE_SETS } from './value-sets.js';

for (const set of VALUE_SETS) {
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

test('the chart refuses values it cannot honour yet', () => {
  const cases: Array<[object, RegExp]> = [
    [{ cluster: { enabled: true } }, /clustering .* is not available yet/],
    [{ replicaCount: 3 }, /replicaCount must be 1/],
    [{ tls: { enabled: true } }, /tls.enabled needs tls.existingSecret, or both tls.cert and tls.key/],
  ];
  for (const [values, message] of cases) {
    const res = helmTemplateRaw(values);
    assert.notEqual(res.status, 0, `rendered ${JSON.stringify(values)}`);
    assert.match(res.stderr, message);
  }
});
