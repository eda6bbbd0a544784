// The two programs the launcher runs: `warren start` for each node and Debian's haproxy.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NODE_FLAGS } from './node-flags.js';

/** Hidden override of the node command, for tests that run a fake node: a JSON array, e.g. ["node","fake.js"]. */
export const NODE_COMMAND_ENV = 'WARREN_CLUSTER_NODE_COMMAND';

/** A node started with this set to 1 stops when its stdin ends: the launcher that started it is gone. */
export const STOP_WITH_LAUNCHER_ENV = 'WARREN_STOP_WITH_LAUNCHER';

/** This package's built CLI; `npm run cluster` builds it first. (src/launcher and dist/launcher are both two levels down.) */
export const BUILT_CLI = resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

export function parseNodeCommand(json: string): [string, ...string[]] {
  let v: unknown;
  try { v = JSON.parse(json); } catch { v = undefined; }
  if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string' && s !== '')) {
    throw new Error(`invalid node command ${JSON.stringify(json)}: expected a JSON array of strings, e.g. ["node","main.js","start"]`);
  }
  return v as [string, ...string[]];
}

/** The argv prefix of a node: the override, else `node <NODE_FLAGS> dist/cli/main.js start` (which must have been built). */
export function nodeCommand(override: readonly string[] | undefined): [string, ...string[]] {
  if (override !== undefined && override.length > 0) return [...override] as [string, ...string[]];
  if (!existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} is missing: run \`npm run build\` (npm run cluster does it)`);
  return [process.execPath, ...NODE_FLAGS, BUILT_CLI, 'start'];
}

const INSTALL_HINT = 'install it with `bash scripts/install-test-deps.sh` (as root: apt-get install haproxy)';

/** A program's path: on PATH, or in one of `dirs` (Debian's sbin dirs are often not on a user's PATH). */
function findProgram(name: string, dirs: readonly string[]): string | undefined {
  try {
    const found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (found !== '') return found;
  } catch { /* not on PATH */ }
  return dirs.map((d) => join(d, name)).find((p) => existsSync(p));
}

/** haproxy's path: on PATH, or in /usr/sbin where Debian puts it. */
export function findHaproxy(): string {
  const found = findProgram('haproxy', ['/usr/sbin', '/usr/local/sbin']);
  if (found === undefined) throw new Error(`haproxy not found: the local cluster runs it as its load balancer; ${INSTALL_HINT}`);
  return found;
}

/** `haproxy -c`: refuse to start with a config haproxy would reject, and say why. */
export function checkHaproxyConfig(bin: string, configFile: string): void {
  try {
    execFileSync(bin, ['-c', '-q', '-f', configFile], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`haproxy rejects ${configFile}:\n${(e.stderr ?? '') + (e.stdout ?? '') || e.message}`);
  }
}

/**
 * Foreground (-db), so the launcher supervises it like any node; SIGTERM stops it at once. Run
 * through util-linux's `setpriv --pdeathsig TERM` where there is one (Debian always has it): the
 * kernel then stops haproxy when the launcher dies, kill -9 included, instead of leaving it on the
 * balancer's ports (the nodes notice through their stdin; haproxy reads none). setpriv execs
 * haproxy, so the pid is haproxy's.
 */
export function haproxyArgv(bin: string, configFile: string, setpriv = findProgram('setpriv', ['/usr/bin', '/bin'])): [string, ...string[]] {
  const argv: [string, ...string[]] = [bin, '-db', '-f', configFile];
  return setpriv === undefined ? argv : [setpriv, '--pdeathsig', 'TERM', ...argv];
}
