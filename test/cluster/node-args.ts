// The command line of a test cluster node process (raft-node.ts, partition-node.ts):
//   <id> <dataDir> <port> <peers: id=host:port,...>
export interface NodeArgs {
  readonly id: number;
  readonly dir: string;
  readonly port: number;
  /** Every voter of the group (this node included) -> its transport address. */
  readonly peers: ReadonlyMap<number, string>;
}

export function nodeArgs(argv: readonly string[]): NodeArgs {
  const [idArg, dir, portArg, peersArg] = argv;
  const peers = new Map<number, string>();
  for (const p of (peersArg ?? '').split(',')) {
    const [pid, addr] = p.split('=');
    if (pid && addr) peers.set(Number(pid), addr);
  }
  if (dir === undefined) throw new Error('usage: <id> <dataDir> <port> <peers: id=host:port,...>');
  return { id: Number(idArg), dir, port: Number(portArg), peers };
}
