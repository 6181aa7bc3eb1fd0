/**
 * Runs a benchmark server in a child process, so load generator and server do not share an
 * event loop. The child prints one JSON line with its ports on stdout when it is ready.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { StageSummary } from './stages.js';

type Counts = { tails: number; records: number; firstOffset: number };
interface Report {
  readonly counts: Counts;
  readonly stages?: StageSummary;
}

export interface ServerPorts {
  readonly restPort: number;
  readonly wsPort?: number;
}

export interface RunningServer extends ServerPorts {
  stop(): Promise<void>;
  /** The bridge's backend read counters (bench/servers/bridge.ts answers SIGUSR1). */
  counts(): Promise<Counts>;
  /** Stage timings of queue writes since the last report (bridge with BENCH_STAGES=1; clears them). */
  stages(): Promise<StageSummary | undefined>;
  /** Resident memory of the child in bytes (from /proc), or NaN. */
  rss(): Promise<number>;
  readonly child: ChildProcess;
}

/** utime + stime of a process, seconds (from /proc; clock ticks of 10 ms). */
export async function cpuSeconds(pid: number | undefined): Promise<number> {
  const stat = await readFile(`/proc/${pid ?? 0}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export async function startServer(script: string, env: Record<string, string> = {}): Promise<RunningServer> {
  const extra = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, ['--expose-gc', ...extra, script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = createInterface({ input: child.stdout! });
  const reportWaiters: ((r: Report) => void)[] = [];
  rl.on('line', (line) => {
    if (line.startsWith('{"counts"')) reportWaiters.shift()?.(JSON.parse(line) as Report);
  });
  const report = (): Promise<Report> =>
    new Promise((resolve) => {
      reportWaiters.push(resolve);
      child.kill('SIGUSR1');
    });
  const ports = await new Promise<ServerPorts>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), 30_000);
    rl.on('line', (line) => {
      if (!line.startsWith('{"ready"')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as ServerPorts);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return {
    ...ports,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
    async counts() {
      return (await report()).counts;
    },
    async stages() {
      return (await report()).stages;
    },
    async rss() {
      try {
        const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
        const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
        return kb === undefined ? Number.NaN : Number(kb) * 1024;
      } catch {
        return Number.NaN;
      }
    },
  };
}

/** Tells the child to run a full GC (it listens for 'gc' on stdin-less IPC via SIGUSR2). */
export function requestGc(server: RunningServer): void {
  server.child.kill('SIGUSR2');
}
