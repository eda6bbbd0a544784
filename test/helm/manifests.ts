// Rendered Kubernetes manifests as tests see them: multi-document YAML parsed strictly, every
// object checked against the Kubernetes OpenAPI schema that kubernetes-models compiles (the same
// types and constraints the API server applies: required fields, integer ports, enums, ...).
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as coreV1 from 'kubernetes-models/v1';
import type { IConfigMap, ISecret, IService } from 'kubernetes-models/v1';
import type { IStatefulSet } from 'kubernetes-models/apps/v1';
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

/** Every document of a rendered stream; throws on a YAML error or a document that is not an object. */
export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text, { uniqueKeys: true, strict: true })) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    if (doc.warnings.length > 0) throw new Error(`YAML warnings: ${doc.warnings.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue; // an empty document (a template rendered to nothing)
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`a document is not an object: ${JSON.stringify(value)}`);
    const o = value as Partial<K8sObject>;
    if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string' || typeof o.metadata?.name !== 'string') {
      throw new Error(`a document lacks apiVersion, kind or metadata.name: ${JSON.stringify(value).slice(0, 200)}`);
    }
    out.push(o as K8sObject);
  }
  return out;
}

interface ModelClass { readonly apiVersion: string; readonly kind: string; new (data: object): { validate(): void } }

// The API groups the chart and deploy/k8s use. A kind from another group fails validation until
// its models are added here, so nothing renders unchecked.
const MODEL_CLASSES: readonly ModelClass[] = [coreV1, appsV1, policyV1, monitoringV1]
  .flatMap((mod) => Object.values(mod) as unknown[])
  .filter((v): v is ModelClass => typeof v === 'function' && typeof (v as Partial<ModelClass>).kind === 'string'
    && typeof (v as Partial<ModelClass>).apiVersion === 'string');

/** Throws a message naming the object if it does not match its kind's schema. */
export function validateObject(o: K8sObject): void {
  const Model = MODEL_CLASSES.find((m) => m.apiVersion === o.apiVersion && m.kind === o.kind);
  if (Model === undefined) throw new Error(`${o.apiVersion} ${o.kind} ${o.metadata.name}: no schema model registered`);
  try {
    new Model(o).validate();
  } catch (err) {
    throw new Error(`${o.kind} ${o.metadata.name}: ${(err as Error).message}`);
  }
}

export function ofKind<T>(objects: readonly K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as unknown as T[];
}

export function named<T>(objects: readonly K8sObject[], kind: string, name: string): T {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`no ${kind} named ${name} in: ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o as unknown as T;
}

export function theOnly<T>(objects: readonly K8sObject[], kind: string): T {
  const all = ofKind<T>(objects, kind);
  if (all.length !== 1) throw new Error(`expected one ${kind}, found ${all.length}`);
  return all[0] as T;
}

/** Data of a ConfigMap or Secret as text (Secret `data` is base64; `stringData` as written). */
export function dataOf(o: IConfigMap | ISecret): Record<string, string> {
  if (o.kind === 'ConfigMap') return { ...o.data };
  const decoded = Object.fromEntries(Object.entries(o.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  return { ...decoded, ...o.stringData };
}

export type { IConfigMap, ISecret, IService, IStatefulSet };
