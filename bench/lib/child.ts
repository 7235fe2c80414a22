import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { request } from './http.js';

/** A free TCP port on 127.0.0.1 (bound and released; the child binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process in bytes (Linux /proc), or 0 when it cannot be read. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface Started {
  child: ChildProcess;
  url: string;
  /** From spawn until GET /healthz first answered 200, in ms. */
  readyMs: number;
  /** What the child wrote to stderr (kept for error reports). */
  stderr(): string;
}

/** Spawns `node <args>` with `env` and waits for /healthz (up to timeoutMs). */
export async function startChild(args: string[], env: Record<string, string>, port: number, timeoutMs = 30_000): Promise<Started> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stdout!.resume();
  child.stderr!.on('data', (c: Buffer) => { err = (err + c.toString('utf8')).slice(-20_000); });
  let exited: number | null | undefined;
  child.once('exit', (code) => { exited = code; });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (exited !== undefined) throw new Error(`${args.join(' ')} exited with ${exited} before it was ready:\n${err}`);
    if (performance.now() - t0 > timeoutMs) {
      await stopChild(child);
      throw new Error(`${args.join(' ')} was not ready after ${timeoutMs} ms:\n${err}`);
    }
    try {
      const res = await request(`${url}/healthz`, { method: 'GET', timeoutMs: 1000 });
      if (res.status === 200) return { child, url, readyMs: performance.now() - t0, stderr: () => err };
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** SIGTERM, then SIGKILL after graceMs; resolves when the child has exited. */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Samples the RSS of `pid` every intervalMs until stopped; reports the maximum. */
export function sampleRss(pid: number, intervalMs = 50): { stop(): number } {
  let max = rssBytes(pid);
  const timer = setInterval(() => { max = Math.max(max, rssBytes(pid)); }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, rssBytes(pid));
    },
  };
}

/** CPU time (user + system, all threads) a process has used so far, in ms (Linux /proc; 0 if unreadable). */
export function cpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/stat`);
}

/**
 * CPU time the process's main thread (its event loop; the thread id is the process id) has used so
 * far, in ms (Linux /proc; 0 if unreadable).
 */
export function mainThreadCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

function statCpuMs(file: string): number {
  try {
    const stat = readFileSync(file, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks * 10; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** Busy and total CPU time of the whole machine so far, in ms (Linux /proc/stat; zeros if unreadable). */
export function machineCpuMs(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
    const busy = user! + nice! + system! + irq! + softirq! + steal!;
    return { busy: busy * 10, total: (busy + idle! + iowait!) * 10 };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/**
 * Waits (at most maxMs) until the machine is quiet: two consecutive 500 ms windows in which
 * processes other than this one used under `threshold` of the CPU. Resolves with the ms waited
 * and whether it got quiet.
 */
export async function waitQuiet(maxMs: number, threshold = 0.15): Promise<{ waitedMs: number; quiet: boolean }> {
  const t0 = performance.now();
  let calm = 0;
  while (performance.now() - t0 < maxMs) {
    const m0 = machineCpuMs();
    const s0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 500));
    const m1 = machineCpuMs();
    const s = process.cpuUsage(s0);
    const total = Math.max(1, m1.total - m0.total);
    const others = (m1.busy - m0.busy - (s.user + s.system) / 1000) / total;
    calm = others < threshold ? calm + 1 : 0;
    if (calm >= 2) return { waitedMs: Math.round(performance.now() - t0), quiet: true };
  }
  return { waitedMs: Math.round(performance.now() - t0), quiet: false };
}
