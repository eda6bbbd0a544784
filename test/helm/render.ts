// Renders the chart and the plain manifests with the real tools (helm v4, kubectl's kustomize),
// each call one child process. Values go through a file, as `helm -f` takes them from users.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool, type ToolResult } from '../helpers/helm-bin.js';

export const CHART = 'helm/warren';
export const RELEASE = 'warren';
export const NAMESPACE = 'mq';

function withValues<T>(values: object, run: (args: string[]) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'warren-values-'));
  try {
    const file = join(dir, 'values.json'); // JSON is YAML
    writeFileSync(file, JSON.stringify(values));
    return run(['-f', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function helmLint(values: object = {}): ToolResult {
  return withValues(values, (f) => runTool('helm', ['lint', '--strict', CHART, '--namespace', NAMESPACE, ...f]));
}

/** `helm template`'s result; status is non-zero when the chart refuses the values. */
export function helmTemplateRaw(values: object = {}): ToolResult {
  return withValues(values, (f) => runTool('helm', ['template', RELEASE, CHART, '--namespace', NAMESPACE, ...f]));
}

export function helmTemplate(values: object = {}): string {
  const res = helmTemplateRaw(values);
  if (res.status !== 0) throw new Error(`helm template failed (${res.status}): ${res.stderr}`);
  return res.stdout;
}

export function kustomize(dir: string): string {
  const res = runTool('kubectl', ['kustomize', dir]);
  if (res.status !== 0) throw new Error(`kubectl kustomize ${dir} failed (${res.status}): ${res.stderr}`);
  return res.stdout;
}
