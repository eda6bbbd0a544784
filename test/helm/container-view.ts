// What the Warren process in a rendered pod sees, and the WarrenConfig it builds from that.
//
// Kubernetes, not Warren, decides the container's argv (the pod's command/args over the image's
// ENTRYPOINT/CMD), its environment (envFrom first, then env, which wins) and its files (Secret and
// ConfigMap volumes at their mount paths). This module plays that part for the rendered objects,
// then hands argv and env to Warren's own loadConfig (the code path of `warren start`), so the
// contract tests check the chart against the real CLI instead of a copy of its rules.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { IContainer, IPodSpec, IVolume } from 'kubernetes-models/v1';
import { loadConfig, type StartFlags } from '../../src/cli/config-load.js';
import type { WarrenConfig } from '../../src/config.js';
import { REPO_ROOT } from '../helpers/helm-bin.js';
import { dataOf, named, type IConfigMap, type ISecret, type K8sObject } from './manifests.js';

/** How a mount path is backed: its volume and, for Secret and ConfigMap volumes, the files it shows. */
export interface Mount {
  readonly mountPath: string;
  readonly readOnly: boolean;
  readonly volume: IVolume | { readonly name: string; readonly claimTemplate: true };
  readonly files?: Record<string, string>;
}

/**
 * What the downward API shows a container of one pod: the name and labels the controller gives it
 * (a StatefulSet's pods get `<name>-<ordinal>` and, from Kubernetes 1.28, the
 * apps.kubernetes.io/pod-index label), which a pod template alone does not say.
 */
export interface PodIdentity {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** status.podIP, once the pod is scheduled. */
  readonly ip?: string;
}

export interface ContainerView {
  readonly argv: readonly string[];
  readonly env: Record<string, string>;
  readonly mounts: readonly Mount[];
}

/** The image's ENTRYPOINT and CMD (exec form) from deploy/Dockerfile, the image the chart runs. */
export function imageEntrypoint(): { entrypoint: string[]; cmd: string[] } {
  const text = readFileSync(join(REPO_ROOT, 'deploy/Dockerfile'), 'utf8');
  // The last stage's instruction wins; exec form only (shell form would add `/bin/sh -c`).
  const last = (word: string): string[] => {
    const all = [...text.matchAll(new RegExp(`^${word}\\s+(\\[.*\\])\\s*$`, 'gm'))];
    const m = all.at(-1);
    if (m === undefined) throw new Error(`deploy/Dockerfile has no exec-form ${word}`);
    return JSON.parse(m[1] as string) as string[];
  };
  return { entrypoint: last('ENTRYPOINT'), cmd: last('CMD') };
}

function lookupData(objects: readonly K8sObject[], kind: 'ConfigMap' | 'Secret', name: string): Record<string, string> {
  return dataOf(named<IConfigMap | ISecret>(objects, kind, name));
}

/** A fieldRef as the kubelet resolves it; a missing label or annotation is the empty string. */
function fieldValue(fieldPath: string, pod: PodIdentity | undefined): string {
  if (pod === undefined) throw new Error(`fieldRef ${fieldPath}: no pod identity given (each pod of the controller resolves it differently)`);
  if (fieldPath === 'metadata.name') return pod.name;
  if (fieldPath === 'metadata.namespace') return pod.namespace;
  if (fieldPath === 'status.podIP' && pod.ip !== undefined) return pod.ip;
  const m = /^metadata\.labels\['([^']+)'\]$/.exec(fieldPath);
  if (m !== null) return pod.labels[m[1] as string] ?? '';
  throw new Error(`fieldRef ${fieldPath}: not modelled here`);
}

function resolveEnv(c: IContainer, objects: readonly K8sObject[], pod: PodIdentity | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const src of c.envFrom ?? []) {
    const data = src.configMapRef ? lookupData(objects, 'ConfigMap', src.configMapRef.name ?? '')
      : src.secretRef ? lookupData(objects, 'Secret', src.secretRef.name ?? '') : {};
    for (const [k, v] of Object.entries(data)) env[`${src.prefix ?? ''}${k}`] = v;
  }
  for (const e of c.env ?? []) {
    const cm = e.valueFrom?.configMapKeyRef;
    const sec = e.valueFrom?.secretKeyRef;
    const field = e.valueFrom?.fieldRef;
    const v = e.value ?? (cm ? lookupData(objects, 'ConfigMap', cm.name ?? '')[cm.key]
      : sec ? lookupData(objects, 'Secret', sec.name ?? '')[sec.key]
        : field ? fieldValue(field.fieldPath, pod) : undefined);
    if (v === undefined) throw new Error(`env ${e.name}: no value (a missing key keeps the pod from starting)`);
    env[e.name] = v;
  }
  return env;
}

function volumeFiles(v: IVolume, objects: readonly K8sObject[]): Record<string, string> | undefined {
  const src = v.secret ? { data: lookupData(objects, 'Secret', v.secret.secretName ?? ''), items: v.secret.items }
    : v.configMap ? { data: lookupData(objects, 'ConfigMap', v.configMap.name ?? ''), items: v.configMap.items } : undefined;
  if (src === undefined) return undefined;
  if (src.items === undefined) return src.data;
  const files: Record<string, string> = {};
  for (const it of src.items) {
    const value = src.data[it.key];
    if (value === undefined) throw new Error(`volume ${v.name}: key ${it.key} missing`);
    files[it.path] = value;
  }
  return files;
}

/**
 * The container's argv, environment and mounts as the kubelet would set them up; `identity` is
 * the pod's, for environment from the downward API.
 */
export function containerView(pod: IPodSpec, claimTemplates: readonly string[], objects: readonly K8sObject[],
  containerName = 'warren', identity?: PodIdentity): ContainerView {
  const c = pod.containers.find((x) => x.name === containerName);
  if (c === undefined) throw new Error(`no container ${containerName}`);
  const image = imageEntrypoint();
  const argv = [...(c.command ?? image.entrypoint), ...(c.command !== undefined ? c.args ?? [] : c.args ?? image.cmd)];
  const mounts = (c.volumeMounts ?? []).map((m): Mount => {
    const volume = pod.volumes?.find((v) => v.name === m.name)
      ?? (claimTemplates.includes(m.name) ? { name: m.name, claimTemplate: true as const } : undefined);
    if (volume === undefined) throw new Error(`volumeMount ${m.name}: no such volume or claim template`);
    const files = 'claimTemplate' in volume ? undefined : volumeFiles(volume, objects);
    return { mountPath: m.mountPath, readOnly: m.readOnly ?? false, volume, ...(files ? { files } : {}) };
  });
  return { argv, env: resolveEnv(c, objects, identity), mounts };
}

/** The mount a container path lies on, deepest first. */
export function mountOf(view: ContainerView, path: string): Mount | undefined {
  return [...view.mounts].sort((a, b) => b.mountPath.length - a.mountPath.length)
    .find((m) => path === m.mountPath || path.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
}

/** The file a container path names, if a Secret or ConfigMap volume provides it. */
export function fileAt(view: ContainerView, path: string): string | undefined {
  const m = mountOf(view, path);
  return m?.files?.[path.slice(m.mountPath.replace(/\/$/, '').length + 1)];
}

let startOptions: Set<string> | undefined;

/** The long options `warren start` accepts, from the real CLI's help (one child process per test file). */
export function warrenStartOptions(): Set<string> {
  if (startOptions !== undefined) return startOptions;
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`warren start --help failed: ${res.stderr}`);
  startOptions = new Set([...res.stdout.matchAll(/^\s+(?:-\w, )?--([a-z][a-z0-9-]*)/gm)].map((m) => m[1] as string));
  if (!startOptions.has('data-dir')) throw new Error(`unexpected help output:\n${res.stdout}`);
  return startOptions;
}

/** `--flag value` / `--flag=value` after `start` → StartFlags, as commander names them (kebab → camel). */
export function startFlags(args: readonly string[]): StartFlags {
  const known = warrenStartOptions();
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(args[i] as string);
    if (m === null) throw new Error(`unexpected argument ${args[i]}`);
    const name = m[1] as string;
    if (name === 'help' || !known.has(name)) throw new Error(`warren start has no option --${name}`);
    const value = m[2] ?? args[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    flags[name.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase())] = value;
  }
  return flags as StartFlags;
}

/**
 * Runs Warren's config loading on what the container sees. argv must be the warren program's
 * `start`. Files from Secret/ConfigMap volumes are written under a scratch root and paths into
 * them rewritten there for the call, then mapped back, so the config reads in container paths.
 */
export function startConfigOf(view: ContainerView, warrenProgram: readonly string[]): WarrenConfig {
  const program = view.argv.slice(0, warrenProgram.length);
  if (JSON.stringify(program) !== JSON.stringify(warrenProgram) || view.argv[warrenProgram.length] !== 'start') {
    throw new Error(`container does not run \`warren start\`: ${JSON.stringify(view.argv)}`);
  }
  const parsed = startFlags(view.argv.slice(warrenProgram.length + 1));
  const root = mkdtempSync(join(tmpdir(), 'warren-pod-'));
  let cfg: WarrenConfig;
  try {
    for (const m of view.mounts) {
      for (const [rel, content] of Object.entries(m.files ?? {})) {
        const p = join(root, m.mountPath, rel);
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, content);
      }
    }
    const toHost = (v: string): string => (mountOf(view, v)?.files !== undefined ? join(root, v) : v);
    const flags = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, toHost(v as string)]));
    const env = Object.fromEntries(Object.entries(view.env).map(([k, v]) => [k, toHost(v)]));
    cfg = loadConfig(flags as StartFlags, env);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const toPod = (v: string): string => (v.startsWith(`${root}/`) ? v.slice(root.length) : v);
  return {
    ...cfg,
    dataDir: toPod(cfg.dataDir),
    ...(cfg.tls ? { tls: { certFile: toPod(cfg.tls.certFile), keyFile: toPod(cfg.tls.keyFile), ...(cfg.tls.caFile ? { caFile: toPod(cfg.tls.caFile) } : {}) } } : {}),
  };
}
