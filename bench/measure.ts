// Timing primitives for the bench: one child process per run, wall time from hrtime, runs of two
// commands interleaved (paired) so that drift in machine load hits both sides equally.
import { spawnSync } from 'node:child_process';

export interface Cmd {
  /** Shown in error messages. */
  what: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Exit code the run must give; anything else means the measurement failed. */
  expectCode?: number;
}

/** A measurement could not be taken (a command crashed or gave an unexpected exit code). */
export class MeasurementError extends Error {}

/** Runs `node ARGS` once and returns its wall time in milliseconds. */
export function timeOnce(cmd: Cmd): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, cmd.args, {
    cwd: cmd.cwd,
    env: cmd.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const want = cmd.expectCode ?? 0;
  if (r.error || r.status !== want) {
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}, expected ${want}`;
    const err = String(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ');
    throw new MeasurementError(`${cmd.what}: ${why}${err ? ` (stderr: ${err})` : ''}`);
  }
  return ms;
}

/**
 * Interleaved runs of several commands: `warmup` runs of each, then `n` rounds that run every
 * command once. The order rotates from round to round (AB, BA, ... for two; ABC, BCA, CAB, ...),
 * so no command always runs first or right after another, and a change in machine load during
 * the bench hits all of them alike. For two commands these are the classic paired runs.
 * Each command gets its own run index, so it can change per run (a fresh item to `complete`).
 * Returns one series of wall times (ms) per command, in round order.
 */
export function interleaved(cmds: readonly ((i: number) => Cmd)[], n: number, warmup: number): number[][] {
  const m = cmds.length;
  const next = cmds.map(() => 0);
  const run = (c: number) => timeOnce(cmds[c]!(next[c]!++));
  for (let w = 0; w < warmup; w++) for (let c = 0; c < m; c++) run(c);
  const out: number[][] = cmds.map(() => []);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < m; j++) {
      const c = (k + j) % m;
      out[c]!.push(run(c));
    }
  }
  return out;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median of the per-round ratios a[i]/b[i]: a second view of the same runs, robust to drift. */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
