// `warren ctl`: the operator CLI (issue 8: its first verb, `status`). It reads the cluster from the
// owners' HTTP management APIs — each owner's GET /api/partitions lists the partitions it
// replicates with the leader it knows, term, commit and applied indexes and the frontend sessions
// each partition holds, GET /api/placement the placement its metadata replica has (with its
// epoch), and GET /api/metadata its replica of the metadata group and the frontends' open session
// leases — so it needs the owners' management addresses and an administrator login.
//
// Where the owners are: `--owners <id>=<host>:<http port>,...` (the owners' management ports, not
// their gRPC ports), or `--state FILE`, the state file `warren cluster --state` writes.
// Exit status: 0 healthy, 2 degraded (an owner did not answer, the metadata group or a partition
// has no leader), 1 for bad options or when no owner answered.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { ClusterState } from '../launcher/state.js';
import {
  buildStatus, formatStatus, parseOwnerUrls, type OwnerReport, type ReportedMetadata, type ReportedPartition, type ReportedPlacement,
} from './ctl-status.js';

interface StatusFlags {
  owners?: string;
  state?: string;
  user: string;
  password: string;
  timeoutMs: string;
  json?: boolean;
}

/** The owners to ask: from --owners, or the owner nodes of a `warren cluster` state file. */
function ownersFrom(f: StatusFlags): Array<{ id: number; url: string }> {
  if (f.owners !== undefined) return parseOwnerUrls(f.owners);
  if (f.state !== undefined) {
    const s = JSON.parse(readFileSync(f.state, 'utf8')) as ClusterState;
    const owners = s.nodes.filter((n) => n.role === 'owner').map((n) => ({ id: n.id, url: n.http }));
    if (owners.length === 0) throw new Error(`${f.state} lists no owner`);
    return owners;
  }
  throw new Error('give --owners <id>=<host>:<http port>,... or --state <file>');
}

async function ask(o: { id: number; url: string }, auth: string, timeoutMs: number): Promise<OwnerReport> {
  const [partitions, placement, metadata] = await Promise.all([
    getJson<ReportedPartition[]>(`${o.url}/api/partitions`, auth, timeoutMs),
    // 404: this owner's replica has no placement yet (a new cluster before its bootstrap).
    getJson<ReportedPlacement>(`${o.url}/api/placement`, auth, timeoutMs),
    getJson<ReportedMetadata>(`${o.url}/api/metadata`, auth, timeoutMs),
  ]);
  return {
    ...o,
    ...('value' in partitions ? { partitions: partitions.value } : { error: partitions.error }),
    ...('value' in placement ? { placement: placement.value } : {}),
    ...('value' in metadata ? { metadata: metadata.value } : { metadataError: metadata.error }),
  };
}

async function getJson<T>(url: string, auth: string, timeoutMs: number): Promise<{ value: T } | { error: string }> {
  try {
    const res = await fetch(url, { headers: { authorization: auth }, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { error: `HTTP ${res.status}` };
    return { value: (await res.json()) as T };
  } catch (err) {
    // fetch says only "fetch failed"; the cause says why (ECONNREFUSED, a timeout, …).
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { error: e.cause?.code ?? (e.cause?.message || e.message) };
  }
}

export function ctlCommand(): Command {
  const ctl = new Command('ctl').description('operate a running cluster');
  ctl.command('status')
    .description('members and their roles, the metadata group, partitions with replicas, leader, commit and applied indexes and lag, frontend sessions')
    .option('--owners <list>', "the owners' management APIs: <id>=<host>:<http port>,... (or <id>=http://host:port)")
    .option('--state <file>', 'or: the state file of `warren cluster --state` (its owner nodes)')
    .option('--user <name>', 'management API user, an administrator (env WARREN_CTL_USER)', process.env['WARREN_CTL_USER'] ?? 'guest')
    .option('--password <password>', 'its password (env WARREN_CTL_PASSWORD)', process.env['WARREN_CTL_PASSWORD'] ?? 'guest')
    .option('--timeout-ms <n>', 'how long each owner is waited for', '3000')
    .option('--json', 'machine-readable output')
    .action(async (f: StatusFlags) => {
      let owners: Array<{ id: number; url: string }>;
      try {
        owners = ownersFrom(f);
      } catch (err) {
        process.stderr.write(`warren ctl status: ${(err as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      const auth = `Basic ${Buffer.from(`${f.user}:${f.password}`).toString('base64')}`;
      const reports = await Promise.all(owners.map((o) => ask(o, auth, Number(f.timeoutMs) || 3000)));
      const status = buildStatus(reports);
      process.stdout.write(f.json === true ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
      process.exitCode = reports.every((r) => r.partitions === undefined) ? 1 : status.healthy ? 0 : 2;
    });
  return ctl;
}
