// Two throwaway network namespaces joined by a veth pair: a "server" host and a "client" host.
// Lets a test reach a broker from a non-loopback address while sending traffic only to addresses
// of namespaces it created itself. Addresses from TEST-NET-1: server 192.0.2.1, client 192.0.2.2.
// Needs root and iproute2; `createHostPair` returns undefined (reason in `skipReason`) where it cannot.
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface HostPair {
  readonly serverAddr: string;
  readonly clientAddr: string;
  /** Starts a long-running command in the server namespace. */
  spawnServer(cmd: string, args: readonly string[], opts?: SpawnOptions): ChildProcess;
  /** Runs a command in the client namespace; returns its stdout (throws on non-zero exit). */
  runClient(cmd: string, args: readonly string[], timeoutMs?: number): string;
  destroy(): void;
}

export let skipReason = '';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

export function createHostPair(): HostPair | undefined {
  const tag = String(process.pid % 100000);
  const [srv, cli] = [`wsrv${tag}`, `wcli${tag}`];
  const [srvIf, cliIf] = [`ws${tag}`, `wc${tag}`];
  const [serverAddr, clientAddr] = ['192.0.2.1', '192.0.2.2'];
  const destroy = (): void => {
    spawnSync('ip', ['netns', 'del', srv]);
    spawnSync('ip', ['netns', 'del', cli]);
  };
  try {
    ip('netns', 'add', srv);
    ip('netns', 'add', cli);
    ip('link', 'add', srvIf, 'type', 'veth', 'peer', 'name', cliIf);
    ip('link', 'set', srvIf, 'netns', srv);
    ip('link', 'set', cliIf, 'netns', cli);
    for (const [ns, dev, addr] of [[srv, srvIf, serverAddr], [cli, cliIf, clientAddr]] as const) {
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${addr}/30`, 'dev', dev);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', dev, 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    }
  } catch (err) {
    destroy();
    skipReason = `cannot create network namespaces: ${(err as Error).message.split('\n')[0]}`;
    return undefined;
  }
  return {
    serverAddr, clientAddr, destroy,
    spawnServer: (cmd, args, opts = {}) => spawn('ip', ['netns', 'exec', srv, cmd, ...args], opts),
    runClient: (cmd, args, timeoutMs = 20_000) =>
      execFileSync('ip', ['netns', 'exec', cli, cmd, ...args], { encoding: 'utf8', timeout: timeoutMs }),
  };
}
