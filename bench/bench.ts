// `npm run bench`: start-up and round-trip cost of the built CLI on this machine, from one run.
//
//   node --import tsx bench/bench.ts [--json] [--bin [LABEL=]PATH]... [--only LIST] [--n N]
//                                    [--warmup W] [--log-events N] [--builds B]
//
// Every figure is a median over N rounds after W warm-ups, timed as the wall time of a whole child
// process (spawnSync of process.execPath, hrtime). In a round each command runs once, in an order
// that rotates from round to round: `status` and `node -e 0` are paired runs, and with several
// --bin bundles all of them run in the same rounds, so a second bundle (another bundler) is
// measured under exactly the same conditions and shows up as a second column.
// Without --bin both bundlers are compared: esbuild (dist/orchestrator.js, `npm run build`) and
// @vercel/ncc (.tmp/ncc/orchestrator.js, `npm run build:ncc`; built here when missing). A bundle
// labelled esbuild or ncc also gets its build timed: B builds of each after one warm-up, in
// rotating rounds, each a whole `node build/...` process writing to a temporary file; the last
// fresh build is compared with the measured bundle (a stale .tmp/ncc bundle is replaced by it
// first, a stale dist/ only reported). With two or more bundles a last column names the winner
// of each row (lower is better; timings within 2% are a tie).
// --only status,version,big-log,complete,build picks measurements. BENCH_KEEP=1 keeps the
// temporary repositories.
// Exits 1 only when a measurement could not be taken; a missed target is printed as MISSED.
// `--only migrate` runs bench/migrate-bench.ts instead (issue 4: migrating a 1 GiB legacy tree vs
// cp -a); it takes minutes, so the default run skips it: npm run bench -- --only migrate.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, type as osType } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { BUNDLERS, bundlerFor, ensureBuilt, timeBuilds, type Bundler, type BuildTimes } from './bundlers.ts';
import { benchEnv, cli, growLog, manyItemsRepo, sessionDir, startedPythonWorkflowRepo } from './fixtures.ts';
import { interleaved, MeasurementError, median, pairedRatio, round, type Cmd } from './measure.ts';
import { migrateMain } from './migrate-bench.ts';
import { stateMain } from './state-bench.ts';

const PROJECT_ROOT = resolve(import.meta.dirname, '..');
const PYTHON_WORKFLOW = resolve(PROJECT_ROOT, '..', 'shared', 'fixtures', 'legacy-python', 'workflows', 'default_workflow.yaml');

/** Targets: a ratio at or under the target is met; over it is printed as MISSED. */
const TARGETS = {
  status_vs_node: 1.3,
  big_log_vs_small: 1.1,
} as const;

// ---- options ------------------------------------------------------------------------------------

const MEASURES = ['status', 'version', 'big-log', 'complete', 'build'] as const;
type Measure = (typeof MEASURES)[number];

interface Options {
  json: boolean;
  bins: { label: string; path: string }[];
  only: Measure[];
  n: number;
  warmup: number;
  logEvents: number;
  builds: number;
}

const USAGE =
  'usage: node --import tsx bench/bench.ts [--json] [--bin [LABEL=]PATH]... [--only status,version,big-log,complete,build] [--n N] [--warmup W] [--log-events N] [--builds B]';

function usage(msg: string): never {
  process.stderr.write(`bench: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

/** A short column heading for a bundle path. */
function labelOf(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : `${basename(dirname(path))}/${basename(path)}`;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { json: false, bins: [], only: [...MEASURES], n: 30, warmup: 3, logEvents: 100_000, builds: 5 };
  const int = (flag: string, v: string | undefined, min: number): number => {
    const x = Number(v);
    if (v === undefined || !Number.isInteger(x) || x < min) usage(`${flag} needs an integer >= ${min}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = () => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    if (flag === '--json') o.json = true;
    else if (flag === '--bin') {
      const v = value();
      if (!v) usage('--bin needs a path');
      const m = /^([A-Za-z][\w.-]*)=(.+)$/.exec(v);
      const path = resolve(m ? m[2]! : v);
      o.bins.push({ label: m ? m[1]! : labelOf(path), path });
    } else if (flag === '--only') {
      const list = (value() ?? '').split(',').filter(Boolean);
      const bad = list.filter((x) => !(MEASURES as readonly string[]).includes(x));
      if (list.length === 0 || bad.length) usage(`--only takes a comma-separated list of ${MEASURES.join(', ')}`);
      o.only = list as Measure[];
    } else if (flag === '--n') o.n = int('--n', value(), 1);
    else if (flag === '--warmup') o.warmup = int('--warmup', value(), 0);
    else if (flag === '--log-events') o.logEvents = int('--log-events', value(), 1);
    else if (flag === '--builds') o.builds = int('--builds', value(), 1);
    else if (flag === '--help' || flag === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else usage(`unknown argument ${JSON.stringify(a)}`);
  }
  if (o.bins.length === 0) o.bins.push(...BUNDLERS.map((b) => ({ label: b.label, path: b.bin })));
  const labels = o.bins.map((b) => b.label);
  if (new Set(labels).size !== labels.length) usage('two bundles have the same label; name them with --bin LABEL=PATH');
  return o;
}

// ---- results ------------------------------------------------------------------------------------

/** A figure, or why there is none (`skipped`: not selected with --only, which is no failure). */
type Outcome<T> = ({ ok: true } & T) | { ok: false; error: string; skipped?: true };

interface VsBaseline {
  median_ms: number;
  /** node -e 0, run in the same rounds. */
  baseline_median_ms: number;
  /** median(command) / median(node -e 0). */
  ratio: number;
  /** median over rounds of command / node -e 0. */
  paired_ratio: number;
  runs: number;
}

interface BigLog {
  median_ms: number;
  small_log_median_ms: number;
  /** median(big-log status) / median(small-log status). */
  ratio: number;
  paired_ratio: number;
  target: number;
  met: boolean;
  log_events: number;
  log_bytes: number;
  log_mb: number;
  runs: number;
}

interface BundleResult {
  label: string;
  bin: string;
  bundle_bytes: Outcome<{ value: number }>;
  status: Outcome<VsBaseline & { target: number; met: boolean }>;
  version: Outcome<VsBaseline>;
  status_big_log: Outcome<BigLog>;
  complete: Outcome<VsBaseline>;
  /** Wall time of the bundler's build script (bundles labelled esbuild or ncc only). */
  build: Outcome<BuildTimes>;
}

type MeasureKey = 'status' | 'version' | 'status_big_log' | 'complete';

/** Progress goes to stderr, so with --json stdout holds the JSON document only. */
function progress(line: string): void {
  process.stderr.write(line + '\n');
}

function errorText(e: unknown): string {
  if (!(e instanceof MeasurementError) && e instanceof Error && process.env.BENCH_DEBUG) progress(e.stack ?? '');
  return e instanceof Error ? e.message : String(e);
}

function vsBaseline(series: number[], baseline: number[]): VsBaseline {
  const m = median(series);
  const base = median(baseline);
  return {
    median_ms: round(m, 1),
    baseline_median_ms: round(base, 1),
    ratio: round(m / base, 3),
    paired_ratio: round(pairedRatio(series, baseline), 3),
    runs: series.length,
  };
}

// ---- subjects: one bundle each, with its own repositories ----------------------------------------

class Subject {
  readonly env: NodeJS.ProcessEnv;
  readonly result: BundleResult;
  private smallRepo: string | null = null;

  constructor(
    readonly label: string,
    readonly bin: string,
    readonly work: string,
  ) {
    mkdirSync(join(work, 'home'), { recursive: true });
    this.env = benchEnv(join(work, 'home'));
    const notRun = { ok: false as const, error: 'not selected (--only)', skipped: true as const };
    this.result = { label, bin, bundle_bytes: notRun, status: notRun, version: notRun, status_big_log: notRun, complete: notRun, build: notRun };
    try {
      if (!existsSync(bin)) throw new MeasurementError(`${bin} does not exist; build it first (npm run build, npm run build:ncc)`);
      this.result.bundle_bytes = { ok: true, value: statSync(bin).size };
    } catch (e) {
      this.result.bundle_bytes = { ok: false, error: errorText(e) };
    }
  }

  get usable(): boolean {
    return this.result.bundle_bytes.ok;
  }

  orch(cwd: string, args: string[], what = `${this.label}: orchestrator ${args.join(' ')}`): Cmd {
    return { what, args: [this.bin, ...args], cwd, env: this.env };
  }

  /** The Python tool's 6-phase workflow, started, a few items done; made on first use. */
  small(): string {
    this.smallRepo ??= startedPythonWorkflowRepo(join(this.work, 'small'), this.bin, this.env, PYTHON_WORKFLOW);
    return this.smallRepo;
  }

  fail(key: MeasureKey, e: unknown): void {
    const error = errorText(e);
    progress(`  ${this.label}: ${key}: FAILED: ${error}`);
    this.result[key] = { ok: false, error };
  }
}

/**
 * Runs one measurement for every subject in the same rounds. `prepare` builds each subject's
 * commands (a failing subject is reported and left out); `finish` turns its series into a result.
 */
function measure<P>(
  subjects: Subject[],
  key: MeasureKey,
  o: Options,
  title: string,
  prepare: (s: Subject) => P & { cmds: ((i: number) => Cmd)[] },
  finish: (s: Subject, prepared: P, series: number[][], baseline: number[]) => BundleResult[MeasureKey],
  baselineCwd: string,
): void {
  const ready: { s: Subject; p: P & { cmds: ((i: number) => Cmd)[] } }[] = [];
  for (const s of subjects) {
    if (!s.usable) {
      s.result[key] = { ok: false, error: 'not run: the bundle is missing' };
      continue;
    }
    try {
      ready.push({ s, p: prepare(s) });
    } catch (e) {
      s.fail(key, e);
    }
  }
  if (ready.length === 0) return;
  progress(`  ${title}: ${o.n} rounds after ${o.warmup} warm-ups`);
  const env = ready[0]!.s.env;
  const baseline: (i: number) => Cmd = () => ({ what: 'node -e 0', args: ['-e', '0'], cwd: baselineCwd, env });
  const cmds = [baseline, ...ready.flatMap((r) => r.p.cmds)];
  let series: number[][];
  try {
    series = interleaved(cmds, o.n, o.warmup);
  } catch (e) {
    for (const r of ready) r.s.fail(key, e);
    return;
  }
  let at = 1;
  for (const r of ready) {
    const own = series.slice(at, at + r.p.cmds.length);
    at += r.p.cmds.length;
    try {
      r.s.result[key] = finish(r.s, r.p, own, series[0]!) as never;
    } catch (e) {
      r.s.fail(key, e);
    }
  }
}

function runAll(subjects: Subject[], o: Options, work: string): void {
  const wanted = (m: Measure) => o.only.includes(m);

  if (wanted('status')) {
    progress('status in a started 6-phase workflow, vs node -e 0');
    measure(
      subjects,
      'status',
      o,
      'status',
      (s) => {
        const dir = s.small();
        return { cmds: [() => s.orch(dir, ['status'])] };
      },
      (_s, _p, [status], base) => {
        const r = vsBaseline(status!, base);
        return { ok: true, ...r, target: TARGETS.status_vs_node, met: r.ratio <= TARGETS.status_vs_node };
      },
      work,
    );
  }

  if (wanted('version')) {
    progress('--version, vs node -e 0');
    measure(
      subjects,
      'version',
      o,
      '--version',
      (s) => ({ cmds: [() => s.orch(work, ['--version'])] }),
      (_s, _p, [version], base) => ({ ok: true, ...vsBaseline(version!, base) }),
      work,
    );
  }

  if (wanted('big-log')) {
    progress(`status with a session log of ${o.logEvents} events, vs status with a small log`);
    measure(
      subjects,
      'status_big_log',
      o,
      'big-log status and small-log status',
      (s) => {
        const small = s.small();
        const big = startedPythonWorkflowRepo(join(s.work, 'big'), s.bin, s.env, PYTHON_WORKFLOW);
        const log = growLog(sessionDir(big), o.logEvents);
        if (log.lines !== o.logEvents) throw new MeasurementError(`log has ${log.lines} lines, wanted ${o.logEvents}`);
        return {
          log,
          cmds: [() => s.orch(big, ['status'], `${s.label}: orchestrator status (big log)`), () => s.orch(small, ['status'])],
        };
      },
      (_s, p, [big, small]) => {
        const ratio = round(median(big!) / median(small!), 3);
        return {
          ok: true,
          median_ms: round(median(big!), 1),
          small_log_median_ms: round(median(small!), 1),
          ratio,
          paired_ratio: round(pairedRatio(big!, small!), 3),
          target: TARGETS.big_log_vs_small,
          met: ratio <= TARGETS.big_log_vs_small,
          log_events: p.log.lines,
          log_bytes: p.log.bytes,
          log_mb: round(p.log.bytes / 1e6, 1),
          runs: big!.length,
        };
      },
      work,
    );
  }

  if (wanted('complete')) {
    progress('complete of a fresh item (no verification), vs node -e 0');
    const count = o.n + o.warmup;
    measure(
      subjects,
      'complete',
      o,
      'complete',
      (s) => {
        const { dir, itemIds } = manyItemsRepo(join(s.work, 'complete'), s.bin, s.env, count);
        return { dir, cmds: [(i: number) => s.orch(dir, ['complete', itemIds[i]!, '--notes', `bench run ${i}`])] };
      },
      (s, p, [complete], base) => {
        // Every run must have landed: the whole phase is now done.
        const after = JSON.parse(cli(s.bin, p.dir, s.env, ['status', '--json'])) as { progress?: { phase_done?: number } };
        if (after.progress?.phase_done !== undefined && after.progress.phase_done !== count) {
          throw new MeasurementError(`after ${count} completes, status shows ${after.progress.phase_done} done`);
        }
        return { ok: true, ...vsBaseline(complete!, base) };
      },
      work,
    );
  }
}

// ---- output -------------------------------------------------------------------------------------

const ms = (x: number) => `${x.toFixed(1)} ms`;
const times = (x: number) => `${x.toFixed(2)}x`;
const verdict = (met: boolean) => (met ? 'ok' : 'MISSED');

function cell<T>(o: Outcome<T>, show: (v: T) => string): string {
  if (o.ok) return show(o);
  return o.skipped ? '-' : 'FAILED';
}

interface Row {
  label: string;
  target?: string;
  cell: (r: BundleResult) => string;
  /** The figure that decides the winner of the row, lower is better; none: the row has no winner. */
  value?: (r: BundleResult) => number | undefined;
  /** A timing: differences under 2% are called a tie. */
  noisy?: boolean;
}

const num = <T,>(o: Outcome<T>, pick: (v: T) => number): number | undefined => (o.ok ? pick(o) : undefined);

/** One row per figure; each bundle is a column, so another --bin just adds a column. */
const ROWS: Row[] = [
  { label: 'node -e 0 (same rounds as status)', cell: (r) => cell(r.status, (v) => ms(v.baseline_median_ms)) },
  { label: 'status, 6-phase workflow', cell: (r) => cell(r.status, (v) => ms(v.median_ms)), value: (r) => num(r.status, (v) => v.median_ms), noisy: true },
  {
    label: '  status / node -e 0',
    target: `<= ${TARGETS.status_vs_node.toFixed(2)}x`,
    cell: (r) => cell(r.status, (v) => `${times(v.ratio)} ${verdict(v.met)}`),
    value: (r) => num(r.status, (v) => v.ratio),
    noisy: true,
  },
  {
    label: '  (median of per-round ratios)',
    cell: (r) => cell(r.status, (v) => times(v.paired_ratio)),
    value: (r) => num(r.status, (v) => v.paired_ratio),
    noisy: true,
  },
  { label: '--version', cell: (r) => cell(r.version, (v) => ms(v.median_ms)), value: (r) => num(r.version, (v) => v.median_ms), noisy: true },
  { label: '  --version / node -e 0', cell: (r) => cell(r.version, (v) => times(v.ratio)), value: (r) => num(r.version, (v) => v.ratio), noisy: true },
  {
    label: 'status, big session log',
    cell: (r) => cell(r.status_big_log, (v) => ms(v.median_ms)),
    value: (r) => num(r.status_big_log, (v) => v.median_ms),
    noisy: true,
  },
  { label: '  log events, size', cell: (r) => cell(r.status_big_log, (v) => `${v.log_events}, ${v.log_mb.toFixed(1)} MB`) },
  {
    label: '  big-log / small-log status',
    target: `<= ${TARGETS.big_log_vs_small.toFixed(2)}x (~1.0)`,
    cell: (r) => cell(r.status_big_log, (v) => `${times(v.ratio)} ${verdict(v.met)}`),
    value: (r) => num(r.status_big_log, (v) => v.ratio),
    noisy: true,
  },
  { label: 'complete, round trip', cell: (r) => cell(r.complete, (v) => ms(v.median_ms)), value: (r) => num(r.complete, (v) => v.median_ms), noisy: true },
  { label: '  complete / node -e 0', cell: (r) => cell(r.complete, (v) => times(v.ratio)), value: (r) => num(r.complete, (v) => v.ratio), noisy: true },
  { label: 'bundle size', cell: (r) => cell(r.bundle_bytes, (v) => `${v.value} bytes`), value: (r) => num(r.bundle_bytes, (v) => v.value) },
  {
    label: 'build time (median)',
    cell: (r) => cell(r.build, (v) => `${(v.median_ms / 1000).toFixed(2)} s`),
    value: (r) => num(r.build, (v) => v.median_ms),
    noisy: true,
  },
  { label: '  builds, fastest-slowest', cell: (r) => cell(r.build, (v) => `${v.runs}, ${(v.min_ms / 1000).toFixed(2)}-${(v.max_ms / 1000).toFixed(2)} s`) },
  {
    label: '  fresh build = this bundle',
    target: 'same bytes',
    cell: (r) => cell(r.build, (v) => (v.refreshed ? 'yes (refreshed)' : v.same_as_bundle ? 'yes' : 'NO: stale')),
  },
];

/** The winner of a row: the lowest figure, and by how much the next best is behind it. */
function winnerOf(row: Row, results: BundleResult[]): { label: string; by: number; tie: boolean } | null {
  if (!row.value || results.length < 2) return null;
  const scored = results
    .map((r) => ({ label: r.label, v: row.value!(r) }))
    .filter((x): x is { label: string; v: number } => x.v !== undefined && Number.isFinite(x.v))
    .sort((a, b) => a.v - b.v);
  if (scored.length < 2) return null;
  const by = scored[1]!.v / scored[0]!.v;
  return { label: scored[0]!.label, by: round(by, 3), tie: row.noisy === true ? by < 1.02 : by === 1 };
}

function winnerCell(w: ReturnType<typeof winnerOf>): string {
  if (!w) return '';
  const by = `${w.by.toFixed(w.by < 1.1 ? 3 : 2)}x`;
  return w.tie ? `tie (${by})` : `${w.label} by ${by}`;
}

function table(results: BundleResult[]): string {
  const compare = results.length >= 2;
  const header = ['', ...results.map((r) => r.label), 'target', ...(compare ? ['winner'] : [])];
  const body = ROWS.filter((row) => results.some((r) => row.cell(r) !== '-')).map((row) => [
    row.label,
    ...results.map(row.cell),
    row.target ?? '',
    ...(compare ? [winnerCell(winnerOf(row, results))] : []),
  ]);
  const all = [header, ...body];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r.map((x, c) => (c === 0 || (compare && c === r.length - 1) ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function failures(r: BundleResult): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(r)) {
    if (v && typeof v === 'object' && v.ok === false && !v.skipped) out.push(`${r.label}: ${k}: ${v.error}`);
  }
  return out;
}

/** One line per bundle: the rows it wins; then the ties. */
function winnersSummary(results: BundleResult[]): string[] {
  const won = new Map<string, string[]>(results.map((r) => [r.label, []]));
  const ties: string[] = [];
  for (const row of ROWS) {
    const w = winnerOf(row, results);
    if (!w) continue;
    if (w.tie) ties.push(row.label.trim());
    else won.get(w.label)!.push(row.label.trim());
  }
  const decided = [...won.values()].reduce((n, rows) => n + rows.length, 0);
  const lines = [...won].map(([label, rows]) => `  ${label} wins ${rows.length} of ${decided + ties.length} rows${rows.length ? `: ${rows.join('; ')}` : ''}`);
  if (ties.length) lines.push(`  ties (timings within 2%): ${ties.join('; ')}`);
  return lines;
}

// ---- builds -------------------------------------------------------------------------------------

/**
 * Builds a missing scratch bundle (ncc), then times the builds of every bundle that has a known
 * bundler. Runs before the bundles are opened, so a refreshed one is what gets measured.
 */
function runBuilds(o: Options, work: string): Map<string, BundleResult['build']> {
  const out = new Map<string, BundleResult['build']>();
  const built = o.bins.flatMap((b) => {
    const bundler = bundlerFor(b.label);
    return bundler ? [{ bundler, bin: b.path }] : [];
  }) as { bundler: Bundler; bin: string }[];
  for (const s of built) {
    if (resolve(s.bin) !== s.bundler.bin) continue;
    try {
      ensureBuilt(s.bundler, progress);
    } catch (e) {
      progress(`  ${s.bundler.label}: build FAILED: ${errorText(e)}`);
    }
  }
  if (!o.only.includes('build') || built.length === 0) return out;
  progress(`build time: ${o.builds} builds of each of ${built.map((s) => s.bundler.label).join(', ')} after 1 warm-up`);
  try {
    for (const [label, times] of timeBuilds(built, o.builds, 1, join(work, 'builds'))) {
      out.set(label, { ok: true, ...times });
      if (times.refreshed) progress(`  ${label}: the bundle was stale; replaced it with the fresh build`);
      else if (!times.same_as_bundle) progress(`  ${label}: STALE: a fresh build differs from the bundle measured`);
    }
  } catch (e) {
    const error = errorText(e);
    progress(`  build: FAILED: ${error}`);
    for (const s of built) out.set(s.bundler.label, { ok: false, error });
  }
  return out;
}

// ---- main ---------------------------------------------------------------------------------------

function main(): number {
  const o = parseOptions(process.argv.slice(2));
  const started = process.hrtime.bigint();
  const loadBefore = loadavg()[0]!;
  const work = mkdtempSync(join(tmpdir(), 'orch-bench-'));
  let subjects: Subject[] = [];
  try {
    const builds = runBuilds(o, work);
    subjects = o.bins.map((b, i) => new Subject(b.label, b.path, join(work, `bundle-${i + 1}`)));
    for (const s of subjects) {
      const build = builds.get(s.label);
      if (build) s.result.build = build;
      else if (o.only.includes('build')) s.result.build = { ok: false, error: 'no known bundler for this label', skipped: true };
    }
    for (const s of subjects) if (!s.usable) progress(`${s.label}: FAILED: ${(s.result.bundle_bytes as { error: string }).error}`);
    runAll(subjects, o, work);
  } finally {
    if (process.env.BENCH_KEEP) progress(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  const results = subjects.map((s) => s.result);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const machine = {
    node: process.version,
    os: `${osType()} ${release()}`,
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    // Other work on the machine inflates every figure; ratios suffer less than absolute times.
    load_average_1min: { before: round(loadBefore, 2), after: round(loadavg()[0]!, 2) },
  };
  const failed = results.flatMap(failures);
  if (o.json) {
    const doc = {
      machine,
      settings: {
        measurements: o.only,
        rounds: o.n,
        warmup: o.warmup,
        log_events: o.logEvents,
        builds: o.builds,
        workflow: relative(PROJECT_ROOT, PYTHON_WORKFLOW),
      },
      targets: TARGETS,
      bundles: results,
      winners: ROWS.flatMap((row) => {
        const w = winnerOf(row, results);
        return w ? [{ row: row.label.trim(), winner: w.tie ? null : w.label, by: w.by, tie: w.tie }] : [];
      }),
      seconds: round(seconds, 1),
      ok: failed.length === 0,
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  } else {
    const out = [
      `orchestrator bench: node ${machine.node}, ${machine.os}, ${machine.cpus} x ${machine.cpu_model}`,
      `medians of ${o.n} rounds after ${o.warmup} warm-ups; wall time of a whole process; node -e 0 runs in the same rounds`,
      `load average (1 min) ${machine.load_average_1min.before} before, ${machine.load_average_1min.after} after${
        Math.max(machine.load_average_1min.before, machine.load_average_1min.after) > machine.cpus ? ': the machine was busy, figures are inflated' : ''
      }`,
      '',
      table(results),
      '',
    ];
    if (results.length >= 2) out.push('Winners (lower is better):', ...winnersSummary(results), '');
    if (failed.length) out.push('Measurements that failed to run:', ...failed.map((f) => `  ${f}`), '');
    out.push(`bench took ${seconds.toFixed(1)} s`);
    process.stdout.write(out.join('\n') + '\n');
  }
  return failed.length ? 1 : 0;
}

// ---- migrate (issue 4): its own bench, bench/migrate-bench.ts ---------------------------------------
// `--only migrate` hands the run to it, with its own options (--json --log-mb --checkpoints --runs
// --checkpoint-kb --bin). At full size it takes minutes, so the default run skips it and says so.
const migrateArgs = (argv: string[]): string[] | null => {
  const at = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  const list = at < 0 ? '' : argv[at]!.startsWith('--only=') ? argv[at]!.slice(7) : (argv[at + 1] ?? '');
  if (!list.split(',').includes('migrate')) return null;
  if (list !== 'migrate') usage('--only migrate runs on its own: npm run bench -- --only migrate');
  return argv.filter((_, i) => i !== at && !(i === at + 1 && !argv[at]!.includes('=')));
};
const onlyMigrate = migrateArgs(process.argv.slice(2));
// `--only state` (issue 5: state save vs git's plumbing, bytes pushed) runs bench/state-bench.ts.
const stateAt = process.argv.indexOf('--only');
const onlyState = stateAt >= 0 && process.argv[stateAt + 1] === 'state';
if (onlyMigrate) {
  void migrateMain(onlyMigrate).then((code) => (process.exitCode = code));
} else if (onlyState) {
  void stateMain(process.argv.slice(2).filter((_, i) => i !== stateAt - 2 && i !== stateAt - 1)).then((code) => (process.exitCode = code));
} else {
  process.exitCode = main();
  if (!process.argv.slice(2).some((a) => a === '--only' || a.startsWith('--only=') || a === '--help' || a === '-h')) {
    const note = 'migrate (1 GiB legacy tree vs cp -a) and state (state save vs git plumbing, bytes pushed): skipped in the default run; run: npm run bench -- --only migrate, npm run bench -- --only state\n';
    (process.argv.includes('--json') ? process.stderr : process.stdout).write(note);
  }
}
