// The two bundlers the design card names, as the bench compares them: how each one is built, where
// its bundle lands by default, and a timed build of it (the wall time of the whole build process).
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { interleaved, MeasurementError, median, round, type Cmd } from './measure.ts';

const PROJECT_ROOT = resolve(import.meta.dirname, '..');

export interface Bundler {
  /** Column heading, and the name a --bin LABEL=PATH must carry to get build figures. */
  label: string;
  /** The build script, relative to the project. */
  script: string;
  /** Environment variable that sends the script's output elsewhere. */
  outEnv: string;
  /** Where `npm run build` / `npm run build:ncc` write the bundle. */
  bin: string;
  /** A scratch bundle (not committed) that the bench may rebuild when it is missing or stale. */
  scratch: boolean;
}

export const BUNDLERS: readonly Bundler[] = [
  { label: 'esbuild', script: 'build/build.mjs', outEnv: 'ORCHESTRATOR_OUTFILE', bin: join(PROJECT_ROOT, 'dist', 'orchestrator.js'), scratch: false },
  { label: 'ncc', script: 'build/build-ncc.mjs', outEnv: 'ORCHESTRATOR_NCC_OUTFILE', bin: join(PROJECT_ROOT, '.tmp', 'ncc', 'orchestrator.js'), scratch: true },
];

export function bundlerFor(label: string): Bundler | undefined {
  return BUNDLERS.find((b) => b.label === label);
}

/** Environment for a build: nothing of ours leaks in, the output goes to `outfile`. */
function buildEnv(b: Bundler, outfile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('ORCHESTRATOR_')) delete env[k];
  delete env.NODE_OPTIONS;
  env[b.outEnv] = outfile;
  return env;
}

function buildCmd(b: Bundler, outfile: string): Cmd {
  return { what: `${b.label}: node ${b.script}`, args: [b.script], cwd: PROJECT_ROOT, env: buildEnv(b, outfile) };
}

/** Builds a scratch bundle that does not exist yet (the ncc one, when `npm run build:ncc` has not run). */
export function ensureBuilt(b: Bundler, progress: (line: string) => void): void {
  if (!b.scratch || existsSync(b.bin)) return;
  progress(`${b.label}: ${b.bin} is missing; building it (node ${b.script})`);
  mkdirSync(dirname(b.bin), { recursive: true });
  interleaved([() => buildCmd(b, b.bin)], 1, 0);
}

export interface BuildTimes {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  runs: number;
  /** The fresh build has the bytes of the bundle being measured (false: that bundle is stale). */
  same_as_bundle: boolean;
  /** A stale scratch bundle was replaced by the fresh build before anything else was measured. */
  refreshed: boolean;
}

/**
 * Times `n` builds of every bundler (after `warmup` untimed ones), in rounds that rotate the order,
 * each to its own file under `work`. Compares the last fresh build with the bundle that is then
 * measured; a stale scratch bundle is replaced by it, a stale committed one only reported.
 */
export function timeBuilds(
  subjects: { bundler: Bundler; bin: string }[],
  n: number,
  warmup: number,
  work: string,
): Map<string, BuildTimes> {
  mkdirSync(work, { recursive: true });
  const outs = subjects.map((s) => join(work, `${s.bundler.label}.js`));
  const series = interleaved(
    subjects.map((s, i) => () => buildCmd(s.bundler, outs[i]!)),
    n,
    warmup,
  );
  const results = new Map<string, BuildTimes>();
  subjects.forEach((s, i) => {
    const times = series[i]!;
    if (!existsSync(outs[i]!)) throw new MeasurementError(`${s.bundler.label}: the build wrote no ${outs[i]}`);
    const fresh = readFileSync(outs[i]!);
    let same = existsSync(s.bin) && fresh.equals(readFileSync(s.bin));
    let refreshed = false;
    if (!same && s.bundler.scratch && resolve(s.bin) === s.bundler.bin) {
      mkdirSync(dirname(s.bin), { recursive: true });
      copyFileSync(outs[i]!, s.bin);
      same = true;
      refreshed = true;
    }
    results.set(s.bundler.label, {
      median_ms: round(median(times), 0),
      min_ms: round(Math.min(...times), 0),
      max_ms: round(Math.max(...times), 0),
      runs: times.length,
      same_as_bundle: same,
      refreshed,
    });
  });
  return results;
}
