// Values the chart tests render with, each paired with what `warren start` must end up with.
import type { ExpectedCluster } from './cluster-contract.js';
import type { ExpectedDeployment } from './contract.js';
import { NAMESPACE } from './render.js';

const pem = (label: string): string => `-----BEGIN ${label}-----\nTUlJQ0lqQU5CZ2txaGtpRzl3MEJBUUVGQUFPQ0FnOEFNSUlDQ2dLQ0FnRUE=\n-----END ${label}-----\n`;
export const CERT = pem('CERTIFICATE');
export const KEY = pem('PRIVATE KEY');
export const CA = pem('CERTIFICATE');

export interface ValueSet {
  readonly name: string;
  readonly values: object;
  readonly expected: ExpectedDeployment;
  /** Secrets the values name as existing (created by the operator, not the chart). */
  readonly external?: readonly object[];
}

export const VALUE_SETS: readonly ValueSet[] = [
  {
    name: 'defaults',
    values: {},
    expected: { amqpPort: 5672, httpPort: 15672, user: 'admin', data: { claim: true, size: '10Gi' } },
  },
  {
    name: 'TLS from inline PEMs, custom ports, user, resources, persistence, extra env, ServiceMonitor',
    values: {
      broker: { amqpPort: 5682, amqpsPort: 5681, httpPort: 15682, extraEnv: [{ name: 'WARREN_LOG_LEVEL', value: 'debug' }] },
      defaultUser: { username: 'app', password: 'correct-horse-battery' },
      tls: { enabled: true, cert: CERT, key: KEY, ca: CA },
      resources: { requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '4', memory: '8Gi' } },
      persistence: { size: '250Gi', storageClass: 'fast-ssd' },
      serviceMonitor: { enabled: true, labels: { release: 'prom' } },
      podAntiAffinity: 'hard',
      service: { type: 'ClusterIP' },
    },
    expected: {
      amqpPort: 5682, httpPort: 15682, user: 'app', pass: 'correct-horse-battery',
      tls: { amqpsPort: 5681, cert: CERT, key: KEY, ca: CA },
      data: { claim: true, size: '250Gi', storageClass: 'fast-ssd' },
    },
  },
  {
    name: 'existing TLS and user Secrets, no persistence',
    values: {
      tls: { enabled: true, existingSecret: 'corp-tls', existingSecretHasCa: true },
      defaultUser: { existingSecret: 'corp-user' },
      persistence: { enabled: false },
      podDisruptionBudget: { enabled: false },
      podAntiAffinity: 'none',
    },
    external: [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'corp-tls' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': CERT, 'tls.key': KEY, 'ca.crt': CA } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'corp-user' }, stringData: { 'warren.json': JSON.stringify({ defaultUser: 'ops', defaultPass: 'from-the-vault' }) } },
    ],
    expected: {
      amqpPort: 5672, httpPort: 15672, user: 'ops', pass: 'from-the-vault',
      tls: { amqpsPort: 5671, cert: CERT, key: KEY, ca: CA },
      data: { claim: false },
    },
  },
];

export interface ClusterValueSet {
  readonly name: string;
  readonly values: object;
  readonly expected: ExpectedCluster;
  readonly external?: readonly object[];
}

// Cluster mode (cluster.enabled): owners StatefulSet + frontends Deployment. The namespace is the
// one render.ts installs into.
export const CLUSTER_VALUE_SETS: readonly ClusterValueSet[] = [
  {
    name: 'cluster defaults',
    values: { cluster: { enabled: true } },
    expected: {
      namespace: NAMESPACE, clusterDomain: 'cluster.local', owners: 3, frontends: 2, clusterPort: 25672, partitions: 16, replication: 3,
      amqpPort: 5672, httpPort: 15672, user: 'admin', data: { claim: true, size: '10Gi' },
    },
  },
  {
    name: 'cluster: 5 owners, 3 frontends, gRPC port, domain, TLS, ports, resources, storage, PDB, ServiceMonitor',
    values: {
      cluster: {
        enabled: true, owners: 5, frontends: 3, port: 26000, clusterDomain: 'k8s.example', partitions: 64, replicationFactor: 5,
        ownerResources: { requests: { cpu: '4', memory: '16Gi' }, limits: { memory: '16Gi' } },
        frontendResources: { requests: { cpu: '1', memory: '1Gi' } },
      },
      broker: { amqpPort: 5682, amqpsPort: 5681, httpPort: 15682 },
      defaultUser: { username: 'app', password: 'correct-horse-battery' },
      tls: { enabled: true, cert: CERT, key: KEY, ca: CA },
      persistence: { size: '250Gi', storageClass: 'fast-ssd' },
      podDisruptionBudget: { maxUnavailable: 2 },
      serviceMonitor: { enabled: true, labels: { release: 'prom' } },
      podAntiAffinity: 'hard',
    },
    expected: {
      namespace: NAMESPACE, clusterDomain: 'k8s.example', owners: 5, frontends: 3, clusterPort: 26000, partitions: 64, replication: 5,
      amqpPort: 5682, httpPort: 15682, user: 'app', pass: 'correct-horse-battery',
      tls: { amqpsPort: 5681, cert: CERT, key: KEY, ca: CA },
      data: { claim: true, size: '250Gi', storageClass: 'fast-ssd' },
    },
  },
  {
    name: 'cluster: one owner, existing TLS and user Secrets, no persistence',
    values: {
      cluster: { enabled: true, owners: 1, frontends: 1 },
      tls: { enabled: true, existingSecret: 'corp-tls', existingSecretHasCa: false },
      defaultUser: { existingSecret: 'corp-user' },
      persistence: { enabled: false },
      podAntiAffinity: 'none',
    },
    external: [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'corp-tls' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': CERT, 'tls.key': KEY } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'corp-user' }, stringData: { 'warren.json': JSON.stringify({ defaultUser: 'ops', defaultPass: 'from-the-vault' }) } },
    ],
    expected: {
      namespace: NAMESPACE, clusterDomain: 'cluster.local', owners: 1, frontends: 1, clusterPort: 25672, partitions: 16, replication: 3,
      amqpPort: 5672, httpPort: 15672, user: 'ops', pass: 'from-the-vault',
      tls: { amqpsPort: 5671, cert: CERT, key: KEY },
      data: { claim: false },
    },
  },
];
