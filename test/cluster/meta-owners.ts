// Metadata owners for meta-*.test.ts, in the test's process: each its own LevelDB directory,
// RaftHost and gRPC server (Raft and Meta on the same port, 127.0.0.1, port 0), as an owner node
// composes them, and frontends (RemoteMetaBackend wrapped by createMeta into a MetaPort).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { placementFromConfig } from '../../src/cluster/layout.js';
import { openMetaReplica, type MetaReplica } from '../../src/cluster/meta-replica.js';
import { RemoteMetaBackend, type RemoteMetaOptions } from '../../src/cluster/meta-remote.js';
import { serveMeta, type MetaService } from '../../src/cluster/meta-service.js';
import type { WatchOptions } from '../../src/cluster/meta-watch.js';
import { DEFAULT_CONFIG, type OwnerAddress } from '../../src/config.js';
import { encodeMeta, decodeMeta } from '../../src/meta/codec.js';
import type { MetaMachine, MetaSnapshot } from '../../src/meta/machine.js';
import { createMeta, initialMeta, type LocalMeta } from '../../src/node/meta-port.js';
import { RaftHost } from '../../src/raft/node/host.js';
import { LevelRaftStorage } from '../../src/raft/storage/level.js';
import { RaftTransport } from '../../src/raft/transport/transport.js';
import { RpcServer } from '../../src/rpc/server.js';

const CONFIG = DEFAULT_CONFIG;

export interface Owner {
  readonly id: number;
  address: string;
  readonly replica: MetaReplica;
  readonly service: MetaService;
  readonly stopped: boolean;
  stop(): Promise<void>;
}

export interface Cluster {
  readonly owners: Owner[];
  readonly addresses: OwnerAddress[];
  /** The live owner leading group 0 once one does (and every live owner agrees). */
  leader(timeoutMs?: number): Promise<Owner>;
  frontend(opts?: Partial<RemoteMetaOptions>): Promise<Frontend>;
  close(): Promise<void>;
}

export interface Frontend {
  readonly backend: RemoteMetaBackend;
  readonly meta: LocalMeta;
}

/** `placement`: every owner, while it leads, bootstraps the placement of that many partitions (as an owner node does). */
export async function startOwners(count: number, watch: Partial<WatchOptions> = {}, placement?: { partitions: number; replication: number }): Promise<Cluster> {
  const root = mkdtempSync(join(tmpdir(), 'warren-meta-'));
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  const addresses = new Map<number, string>();
  const owners: Owner[] = [];
  const frontends: Frontend[] = [];
  const transports: RaftTransport[] = [];
  for (const id of ids) {
    const storage = await LevelRaftStorage.open(join(root, `owner-${id}`));
    let transport: RaftTransport | undefined;
    const host = new RaftHost({
      tickIntervalMs: 50, storage, proposalTimeoutMs: 5_000,
      sender: { send: (g, msgs) => transport?.send(g, msgs) },
    });
    const server = new RpcServer();
    transport = RaftTransport.on(server, { nodeId: id, host: '127.0.0.1', port: 0, onMessage: (g, m) => host.step(g, m) });
    transports.push(transport);
    const replica = await openMetaReplica(host, { self: id, voters: ids, initial: () => initialMeta(CONFIG) });
    const bootstrap = placement === undefined ? {} : {
      bootstrapPlacement: () => placementFromConfig(ids.map((i) => ({ id: i, address: addresses.get(i)! })), placement.partitions, placement.replication),
    };
    const service = serveMeta(server, { app: replica.app, group: replica.group, addresses, watch, ...bootstrap });
    const port = await server.listen('127.0.0.1', 0);
    addresses.set(id, `127.0.0.1:${port}`);
    let stopped = false;
    const t = transport;
    owners.push({
      id, address: addresses.get(id)!, replica, service,
      get stopped() { return stopped; },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        host.stop();
        service.close();
        await t.close();
        await server.close();
        await storage.close();
      },
    });
    host.start();
  }
  for (const t of transports) for (const [id, addr] of addresses) t.addPeer(id, addr);
  const ownerAddresses = ids.map((id) => ({ id, address: addresses.get(id)! }));

  const leader = async (timeoutMs = 10_000): Promise<Owner> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const live = owners.filter((o) => !o.stopped);
      const leaders = live.filter((o) => o.replica.group.isLeader());
      if (leaders.length === 1 && live.every((o) => o.replica.group.leader() === leaders[0]!.id)) return leaders[0]!;
      if (Date.now() > deadline) throw new Error('no metadata leader elected');
      await sleep(20);
    }
  };

  return {
    owners, addresses: ownerAddresses, leader,
    frontend: async (opts = {}) => {
      const backend = new RemoteMetaBackend({ owners: ownerAddresses, rpcTimeoutMs: 2_000, applyTimeoutMs: 15_000, ...opts });
      const f = { backend, meta: createMeta(backend, () => Uint8Array.of(1, 2, 3, 4)) };
      frontends.push(f);
      await withTimeout(backend.ready(), 10_000, 'frontend cache ready');
      return f;
    },
    close: async () => {
      for (const f of frontends) f.backend.close();
      for (const o of owners) await o.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A machine's whole state as plain data, for comparing replicas and caches. */
export function stateOf(m: MetaMachine): MetaSnapshot {
  return decodeMeta<MetaSnapshot>(encodeMeta(m.snapshot()));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function eventually(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    })]);
  } finally {
    clearTimeout(timer);
  }
}
