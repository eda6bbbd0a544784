// What the chart and deploy/k8s render is exactly what `warren start` needs: their container's
// argv and environment, run through Warren's own config loading, give a broker that listens where
// the Services and probes point, stores data on the PVC and creates the user the Secret names.
// Cluster mode (owners StatefulSet + frontends Deployment, --role/--node-id/--owners) is checked
// here once issue #8's roles exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWarrenDeployment } from './contract.js';
import { dataOf, named, parseManifests, validateObject, type ISecret, type K8sObject } from './manifests.js';
import { helmTemplate, kustomize } from './render.js';
import { VALUE_SETS } from './value-sets.js';

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
