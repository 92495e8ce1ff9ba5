// What a turn costs the servers: CPU time of every process of the deployment, read from /proc/<pid>/stat
// (user + system time, all threads) before and after a run of turns, with the processes' idle CPU over the
// same wall time subtracted; and the size of each turn's workflow history, from Temporal itself.
// Processes are found from the API's pid (GET /v1/admin/runtime): `npm start` and everything it started;
// in a split deployment (separate processes), by their command lines. The machine's Postgres and Redis are
// counted when the deployment uses them (every process of theirs, so nothing else may use them meanwhile).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The roles a process can play; the offline model's is the stand-in for a provider, shown apart and excluded. */
export const ROLES = ['API + worker', 'API', 'worker', 'Temporal', 'app store (PGlite)', 'Postgres', 'Redis', 'offline model'] as const;
export type Role = (typeof ROLES)[number];
export const EXCLUDED_ROLES: readonly Role[] = ['offline model'];

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  cpuTicks: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: the fields after it start at the last ')'.
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const f = text.slice(close + 2).split(' ');
    // After comm: state(0) ppid(1) … utime(11) stime(12).
    return { pid, ppid: Number(f[1]), comm, cpuTicks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** The role of a process by its command line, or null for one that is not the deployment's. */
function roleOf(stat: ProcStat, cmd: string): Role | null {
  if (/workers\/dev\.ts/.test(cmd)) return 'API + worker';
  if (/api\/main\.ts/.test(cmd)) return 'API';
  if (/workers\/worker\.ts/.test(cmd)) return 'worker';
  if (/offline-model\.ts/.test(cmd)) return 'offline model';
  if (/pglite-server\.ts/.test(cmd)) return 'app store (PGlite)';
  if (/\btemporal\b.*\bserver start-dev\b/.test(cmd)) return 'Temporal';
  if (stat.comm === 'postgres') return 'Postgres';
  if (stat.comm === 'redis-server') return 'Redis';
  return null;
}

/** A process of the deployment. */
export interface DeploymentProcess {
  pid: number;
  role: Role;
}

/**
 * The deployment's processes: the API's own and its descendants (`npm start`), or, for a split deployment,
 * every process whose command line is one of the product's entry points; plus the machine's Postgres and
 * Redis when `services` names them.
 */
export function deploymentProcesses(apiPid: number, services: { postgres: boolean; redis: boolean }): DeploymentProcess[] {
  const stats = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readStat(Number(d)))
    .filter((s): s is ProcStat => s !== null);
  const children = new Map<number, number[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  const tree = new Set<number>();
  const walk = (pid: number) => {
    tree.add(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(apiPid);
  const single = roleOf(readStat(apiPid) ?? { pid: apiPid, ppid: 0, comm: '', cpuTicks: 0 }, cmdline(apiPid)) === 'API + worker';
  const out: DeploymentProcess[] = [];
  for (const s of stats) {
    const role = roleOf(s, cmdline(s.pid));
    if (!role) continue;
    if (role === 'Postgres' && !services.postgres) continue;
    if (role === 'Redis' && !services.redis) continue;
    // `npm start`: only what this deployment started (a test run's processes on the machine are not its).
    if (single && role !== 'Postgres' && role !== 'Redis' && !tree.has(s.pid)) continue;
    out.push({ pid: s.pid, role });
  }
  return out;
}

/** CPU ms by role since some start, all processes of a role summed (a process gone since counts as 0). */
export function cpuByRole(procs: DeploymentProcess[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of procs) out[p.role] = (out[p.role] ?? 0) + ((readStat(p.pid)?.cpuTicks ?? 0) * 1000) / CLK_TCK;
  return out;
}

/** `after - before`, by role. */
export function cpuDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((r) => [r, Math.max(0, after[r]! - (before[r] ?? 0))]));
}

/**
 * The processes' CPU per second while nothing is asked of them (timers, pollers, the Temporal server's own
 * loops): the least of one-second samples, so that work still finishing from before (a previous phase's
 * bookkeeping) is not taken for idling and subtracted from the turns.
 */
export async function idleCpuPerSecond(procs: DeploymentProcess[], seconds: number): Promise<Record<string, number>> {
  const least: Record<string, number> = {};
  for (let i = 0; i < seconds; i++) {
    const before = cpuByRole(procs);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 1000));
    const s = (performance.now() - t0) / 1000;
    for (const [role, ms] of Object.entries(cpuDelta(before, cpuByRole(procs)))) least[role] = Math.min(least[role] ?? Infinity, ms / s);
  }
  return least;
}

/** A turn's workflow history: events, bytes, and the events that cost the server most. */
export interface HistoryFigures {
  events: number;
  bytes: number;
  workflowTasks: number;
  activities: number;
  markers: number;
  searchAttributeUpserts: number;
}

/**
 * Reads turns' histories from the Temporal frontend (the benchmark only: operators use the Web UI). With the
 * deployment's codec: a turn's memo (an Idempotency-Key turn's body hash) is encrypted, and describe decodes it.
 */
export async function historyReader(address: string, namespace: string, codec?: PayloadCodec): Promise<{ read(workflowId: string): Promise<HistoryFigures | null>; close(): Promise<void> }> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace, ...(codec ? { dataConverter: { payloadCodecs: [codec] } } : {}) });
  return {
    async read(workflowId) {
      try {
        const handle = client.workflow.getHandle(workflowId);
        const [desc, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
        const types = (history.events ?? []).map((e) => Number(e.eventType ?? 0));
        // temporal.api.enums.v1.EventType: 7 workflow task completed, 10 activity scheduled, 25 marker, 40 upsert.
        const count = (code: number) => types.filter((t) => t === code).length;
        return {
          events: desc.historyLength,
          bytes: desc.historySize ?? 0,
          workflowTasks: count(7),
          activities: count(10),
          markers: count(25),
          searchAttributeUpserts: count(40),
        };
      } catch {
        return null;
      }
    },
    close: () => connection.close(),
  };
}
