import { readFileSync } from 'node:fs';

/** Nearest-rank percentile (p in 0..100) of an unsorted sample; NaN for an empty one. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export interface LatencySummary {
  readonly count: number;
  readonly min: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export function summarize(values: readonly number[], digits = 1): LatencySummary {
  const mean = values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
  return {
    count: values.length,
    min: round(Math.min(...values), digits),
    p50: round(percentile(values, 50), digits),
    p95: round(percentile(values, 95), digits),
    p99: round(percentile(values, 99), digits),
    max: round(Math.max(...values), digits),
    mean: round(mean, digits),
  };
}

/** Human notes go to stderr; stdout carries only the final JSON object. */
export function note(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Jiffies from the first line of /proc/stat (all CPUs); undefined where /proc is missing. */
function readProcStat(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, v) => sum + v, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

export interface CpuMeter {
  /** This process's CPU time over wall time (100 = one core busy). */
  processPercent: number;
  /** The whole machine's busy share (100 = every core busy). */
  machinePercent: number | null;
}

/** Starts measuring; call the returned function to read this process's and the machine's CPU use. */
export function startCpuMeter(): () => CpuMeter {
  const wallStart = performance.now();
  const usageStart = process.cpuUsage();
  const statStart = readProcStat();
  return () => {
    const wall = performance.now() - wallStart;
    const usage = process.cpuUsage(usageStart);
    const statEnd = readProcStat();
    const machine =
      statStart && statEnd && statEnd.total > statStart.total
        ? ((statEnd.busy - statStart.busy) / (statEnd.total - statStart.total)) * 100
        : null;
    return {
      processPercent: round(((usage.user + usage.system) / 1000 / wall) * 100),
      machinePercent: machine === null ? null : round(machine),
    };
  };
}
