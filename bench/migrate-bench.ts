// Issue 4: `orchestrator migrate --yes` on a synthetic legacy tree (a 1 GiB `.workflow_log.jsonl`,
// 10,000 `.workflow_checkpoints/cp_*.json`, the Python tool's `.workflow_state.json`), timed against
// `cp -a` of the same files, with the migration's peak memory.
//
//   node --import tsx bench/migrate-bench.ts [--json] [--log-mb N] [--checkpoints N] [--runs N]
//                                            [--checkpoint-kb K] [--bin PATH]
//   npm run bench -- --only migrate [same options]
//
// Not part of the default `npm run bench`: at full size it takes minutes (the tree alone takes
// 20-45 s to write, and each run copies over 1 GB twice), so it runs only when asked for with
// --only migrate.
//
// How it measures:
// - The legacy tree is written ONCE into a temporary directory (the "pristine" tree) and removed at
//   the end (BENCH_KEEP=1 keeps it). The log is made of the fixture log's lines (the Python tool's
//   line shape) replayed with fresh workflow ids and rising timestamps, written in 8 MB chunks.
//   Checkpoints are the fixture cp_*.json, varied per file (ids, timestamps, messages) and cut down
//   to about --checkpoint-kb KB (default 4: "a few KB"; the fixtures' own are 32 KB, --checkpoint-kb
//   40 keeps them whole).
// - Each migration needs a fresh legacy tree: a new git repository whose root gets hard links to
//   the pristine files (`cp -al`, untimed). The migration only reads the originals and renames them
//   into .orchestrator/backups/, so the pristine inodes are never changed and each run costs only
//   the disk of its own copy. After every run the journal's sha256 of each copy is checked against
//   a manifest made when the tree was written (so the copies, and the sources they were read from,
//   are byte for byte the pristine files), and the originals must be gone from the repo root.
// - Both sides read the same source inodes from a warm page cache.
// - No output is deleted until the bench ends (all of them together, untimed), so the tree needs
//   about (2 x runs + 1) times its size on disk; the bench checks for that first. Deleting an
//   output between steps made the next step pay for it: ext4 will not reuse an inode number for
//   60 s after its file was deleted, 360 s while the inode table block is still dirty in the
//   journal (recently_deleted() in its inode allocator), so each of the next 10,000 creates
//   scanned past the deleted ones (perf: 2-3.5 s of system time in find_get_block_common under
//   recently_deleted, even 65 s after the delete and a sync). The same holds for a mass deletion
//   on the same file system just before the bench: give it several minutes.
// - Before every timed step the bench runs `sync` (so that neither side pays for the other's dirty
//   pages), waits SETTLE_MS (5 s) for background writeback and journal work, reads the pristine
//   tree once and runs both programs once (`--version`), all untimed.
// - Baseline: `cp -a` of the three legacy entries into a fresh directory, then `sync`. The
//   migration syncs everything it writes (and reads each copy back to verify it) before it
//   reports success, so its data is on disk when it exits; `cp -a` alone returns while the data is
//   still in the page cache, and the kernel writes it back later. Comparing with `cp -a` alone
//   would charge the migration for durability the baseline simply does not provide, so the primary
//   ratio is against `cp -a` + `sync` (the cheapest way to get the same bytes durably on disk with
//   standard tools). The ratio against `cp -a` alone is printed as well, for reference.
// - The CLI runs as on a developer's machine (see migrateEnv): no CI or cloud-environment markers,
//   no NODE_OPTIONS, no NODE_EXTRA_CA_CERTS.
// - Rounds alternate which side runs first. Each figure is the median of --runs runs (default 3).
// - Peak memory is the maximum resident set size of the node process (GNU time's %M; when
//   that is missing, VmHWM from /proc/<pid>/status polled every 10 ms). MB = 1,000,000 bytes.
// - CPU time of `cp -a` and of the migration (user + sys of all their threads, GNU time's %U %S;
//   not measured without it), and CPU time over wall time ("cores"): where the time goes. `sync`'s
//   writeback runs in kernel threads and is counted for neither side.
// Exits 1 only when a measurement could not be taken; a missed target is printed as MISSED.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statfsSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, type as osType } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEnv, makeGitRepo } from './fixtures.ts';
import { MeasurementError, median, pairedRatio, round } from './measure.ts';
import { detectEnvironment } from '../src/env/detect.ts';
import { hashFile } from '../src/migrate/tree.ts';

const PROJECT_ROOT = resolve(import.meta.dirname, '..');
const FIXTURE = resolve(PROJECT_ROOT, '..', 'shared', 'fixtures', 'legacy-python', 'v2-root');
const DEFAULT_BIN = join(PROJECT_ROOT, 'dist', 'orchestrator.js');
const TIME_BIN = '/usr/bin/time';

export const MIGRATE_TARGETS = {
  /** median(migrate) / median(cp -a + sync): at or under is met. */
  ratio_vs_cp_sync: 1.5,
  /** Peak RSS of the migrating node process, MB (1e6 bytes): under is met. */
  peak_rss_mb: 150,
} as const;

/** Legacy entries the Python tool leaves in a repo root, as the migration finds them. */
const LEGACY = ['.workflow_state.json', '.workflow_log.jsonl', '.workflow_checkpoints'] as const;

// ---- options ------------------------------------------------------------------------------------

export interface MigrateOptions {
  json: boolean;
  /** Log size in MiB (1024 = 1 GiB). */
  logMb: number;
  checkpoints: number;
  /** Approximate size of one checkpoint, KB. */
  checkpointKb: number;
  runs: number;
  bin: string;
}

export const MIGRATE_USAGE =
  'usage: node --import tsx bench/migrate-bench.ts [--json] [--log-mb N] [--checkpoints N] [--runs N] [--checkpoint-kb K] [--bin PATH]\n' +
  '       npm run bench -- --only migrate [the same options]';

class UsageExit extends Error {}

export function parseMigrateOptions(argv: string[]): MigrateOptions {
  const o: MigrateOptions = { json: false, logMb: 1024, checkpoints: 10_000, checkpointKb: 4, runs: 3, bin: DEFAULT_BIN };
  const int = (flag: string, v: string | undefined, min: number): number => {
    const x = Number(v);
    if (v === undefined || !Number.isInteger(x) || x < min) throw new UsageExit(`${flag} needs an integer >= ${min}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = () => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    if (flag === '--json') o.json = true;
    else if (flag === '--log-mb') o.logMb = int(flag, value(), 1);
    else if (flag === '--checkpoints') o.checkpoints = int(flag, value(), 0);
    else if (flag === '--checkpoint-kb') o.checkpointKb = int(flag, value(), 1);
    else if (flag === '--runs') o.runs = int(flag, value(), 1);
    else if (flag === '--bin') {
      const v = value();
      if (!v) throw new UsageExit('--bin needs a path');
      o.bin = resolve(v);
    } else if (flag === '--help' || flag === '-h') throw new UsageExit('');
    else throw new UsageExit(`unknown argument ${JSON.stringify(a)}`);
  }
  return o;
}

// ---- results ------------------------------------------------------------------------------------

export interface MigrateResult {
  ok: boolean;
  /** Why there are no figures (the tree could not be made, a migration failed, ...). */
  error?: string;
  tree: { files: number; bytes: number; log_bytes: number; log_lines: number; checkpoints: number; checkpoint_bytes: number; seconds_to_make: number } | null;
  runs: number;
  cp_ms: number[];
  cp_sync_ms: number[];
  migrate_ms: number[];
  peak_rss_kb: number[];
  rss_source: string;
  /** CPU time (user + sys, all threads) of cp and of the migrating node process: GNU time only. */
  cp_cpu_ms: number[];
  migrate_cpu_ms: number[];
  median?: { cp_ms?: number; cp_sync_ms?: number; migrate_ms?: number; peak_rss_mb?: number; cp_cpu_ms?: number; migrate_cpu_ms?: number };
  ratio_vs_cp_sync?: number;
  /** Median of per-round ratios: a second view of the same runs, robust to drift. */
  paired_ratio_vs_cp_sync?: number;
  ratio_vs_cp?: number;
  targets: typeof MIGRATE_TARGETS;
  met?: { ratio: boolean; peak_rss: boolean };
  machine: { node: string; os: string; cpus: number; cpu_model: string; load_average_1min: { before: number; after: number } };
  settings: { log_mb: number; checkpoints: number; checkpoint_kb: number; runs: number; bin: string };
  seconds: number;
}

// ---- the synthetic legacy tree ------------------------------------------------------------------

/** Python's datetime.isoformat() + "Z" (microseconds). */
function pyTimestamp(ms: number, micro: number): string {
  return new Date(ms).toISOString().slice(0, 19) + '.' + String((ms % 1000) * 1000 + micro).padStart(6, '0') + 'Z';
}

function hex8(n: number): string {
  return ((Math.imul(n + 1, 2654435761) >>> 0).toString(16).padStart(8, '0'));
}

/**
 * The fixture log's lines as templates: the text after the timestamp, split around every
 * occurrence of the line's workflow id, so a replay swaps in a new id and a new timestamp.
 */
function logTemplates(): { wf: string; parts: string[] }[] {
  const lines = readFileSync(join(FIXTURE, '.workflow_log.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const prefix = '{"timestamp": "';
  return lines.map((line) => {
    const v = JSON.parse(line) as { timestamp: string; workflow_id: string };
    if (!line.startsWith(prefix + v.timestamp + '"')) throw new MeasurementError(`fixture log line does not start with its timestamp: ${line.slice(0, 80)}`);
    const rest = line.slice(prefix.length + v.timestamp.length + 1);
    return { wf: v.workflow_id ?? '', parts: v.workflow_id ? rest.split(v.workflow_id) : [rest] };
  });
}

/** Writes the log: the fixture's workflows replayed until `bytes` is reached, whole lines, 8 MB writes. */
function writeLog(path: string, bytes: number): { bytes: number; lines: number } {
  const templates = logTemplates();
  const fd = openSync(path, 'w', 0o644);
  let written = 0;
  let lines = 0;
  let t = Date.UTC(2024, 0, 8, 9, 0, 0);
  let replay = 0;
  try {
    let chunk: string[] = [];
    let chunkLen = 0;
    const flush = () => {
      const buf = Buffer.from(chunk.join(''), 'utf8');
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      chunk = [];
      chunkLen = 0;
    };
    outer: for (;;) {
      replay++;
      // Every replay is a new run of the fixture's workflows: fresh ids, later times.
      const ids = new Map<string, string>();
      for (const tpl of templates) {
        t += 200 + ((lines * 7919) % 45_000);
        let id = ids.get(tpl.wf);
        if (id === undefined) ids.set(tpl.wf, (id = `wf_${hex8(replay * 1009 + ids.size)}`));
        const line = '{"timestamp": "' + pyTimestamp(t, (lines * 337) % 1000) + '"' + tpl.parts.join(id) + '\n';
        // Lines are ASCII (ensure_ascii), so string length = bytes.
        if (written + line.length > bytes && written > 0) break outer;
        chunk.push(line);
        chunkLen += line.length;
        written += line.length;
        lines++;
        if (chunkLen >= 8 << 20) flush();
      }
    }
    if (chunkLen) flush();
  } finally {
    closeSync(fd);
  }
  return { bytes: written, lines };
}

type Json = Record<string, unknown>;

/**
 * Checkpoint templates: the fixture cp_*.json, cut down to about `kb` KB when they are bigger:
 * first the snapshot's workflow_definition goes (the oldest schema has none), then phase items
 * from the end, then whole phases.
 */
function checkpointTemplates(kb: number): Json[] {
  const dir = join(FIXTURE, '.workflow_checkpoints');
  const limit = kb * 1024;
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => {
      const cp = JSON.parse(readFileSync(join(dir, n), 'utf8')) as Json;
      const size = () => JSON.stringify(cp, null, 2).length;
      const snap = cp.workflow_state_snapshot as Json | undefined;
      if (snap && size() > limit) delete snap.workflow_definition;
      const phases = (snap?.phases ?? {}) as Record<string, { items?: Record<string, unknown> }>;
      for (const pid of Object.keys(phases).reverse()) {
        const items = phases[pid]!.items ?? {};
        for (const iid of Object.keys(items).reverse()) {
          if (size() <= limit) break;
          delete items[iid];
        }
        if (size() <= limit) break;
        if (Object.keys(items).length === 0 && Object.keys(phases).length > 1) delete phases[pid];
      }
      return cp;
    });
}

/** Writes `count` checkpoints, each a varied copy of a template; returns their total bytes. */
function writeCheckpoints(dir: string, count: number, kb: number): number {
  mkdirSync(dir, { recursive: true });
  const templates = checkpointTemplates(kb);
  let bytes = 0;
  let t = Date.UTC(2024, 0, 8, 9, 0, 0);
  for (let i = 0; i < count; i++) {
    const cp = structuredClone(templates[i % templates.length]!);
    t += 60_000 + ((i * 7919) % 600_000);
    const d = new Date(t).toISOString();
    const suffix = hex8(i).slice(0, 6);
    const id = `cp_${d.slice(0, 10).replace(/-/g, '')}_${d.slice(11, 19).replace(/:/g, '')}_${suffix}`;
    const wf = `wf_${hex8(Math.floor(i / 25))}`;
    cp.checkpoint_id = id;
    cp.workflow_id = wf;
    cp.timestamp = d.replace('Z', '') + String((i * 337) % 1000).padStart(3, '0') + '+00:00';
    cp.message = `Checkpoint ${i + 1}: ${String(cp.message ?? 'progress saved')}`;
    cp.context_summary = String(cp.context_summary ?? '').replace(/Progress: \d+\/(\d+)/, (_m, of: string) => `Progress: ${i % Number(of)}/${of}`);
    const snap = cp.workflow_state_snapshot as Json | undefined;
    if (snap) {
      snap.workflow_id = wf;
      snap.updated_at = pyTimestamp(t, (i * 31) % 1000);
    }
    const text = JSON.stringify(cp, null, 2);
    // ensure_ascii, as Python writes it
    const ascii = /[^\x00-\x7f]/.test(text) ? text.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) : text;
    writeFileSync(join(dir, `${id}.json`), ascii);
    bytes += ascii.length;
  }
  return bytes;
}

interface Tree {
  dir: string;
  files: number;
  bytes: number;
  logBytes: number;
  logLines: number;
  checkpointBytes: number;
  /** sha256 of every file by legacy path, to check the migration copied them byte for byte. */
  manifest: Map<string, string>;
}

/** Every regular file under `dir` (relative paths with '/'), sorted. */
function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

function makeTree(dir: string, o: MigrateOptions): Tree {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '.workflow_state.json'), readFileSync(join(FIXTURE, '.workflow_state.json')));
  const log = writeLog(join(dir, '.workflow_log.jsonl'), o.logMb * 1024 * 1024);
  const checkpointBytes = writeCheckpoints(join(dir, '.workflow_checkpoints'), o.checkpoints, o.checkpointKb);
  const manifest = new Map<string, string>();
  let bytes = 0;
  for (const rel of listFiles(dir)) {
    manifest.set(rel, hashFile(join(dir, rel)));
    bytes += statSync(join(dir, rel)).size;
  }
  return { dir, files: manifest.size, bytes, logBytes: log.bytes, logLines: log.lines, checkpointBytes, manifest };
}

// ---- timed steps --------------------------------------------------------------------------------

function run(what: string, cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): { ms: number; stdout: string; stderr: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20, timeout: opts.timeoutMs ?? 30 * 60_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
    const err = String(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ');
    throw new MeasurementError(`${what}: ${why}${err ? ` (stderr: ${err})` : ''}`);
  }
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

function syncAll(): number {
  return run('sync', 'sync', []).ms;
}

/** Quiet time before each timed step, after a sync. */
const SETTLE_MS = 5_000;

/** Before a timed step: sync, a pause, then the pristine tree read and both programs run once, sync. */
function settle(tree: Tree, bin: string): void {
  syncAll();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SETTLE_MS);
  run('cp --version', 'cp', ['--version']);
  run('orchestrator --version', process.execPath, [bin, '--version']);
  const buf = Buffer.allocUnsafe(8 << 20);
  for (const rel of tree.manifest.keys()) {
    const fd = openSync(join(tree.dir, rel), 'r');
    try {
      while (readSync(fd, buf, 0, buf.length, null) > 0);
    } finally {
      closeSync(fd);
    }
  }
  syncAll();
}

/** cp -a of the legacy entries into a fresh directory; then sync. cp's CPU time with GNU time. */
function baseline(tree: Tree, dest: string, bin: string): { cp: number; cpSync: number; cpuMs?: number } {
  mkdirSync(dest);
  settle(tree, bin);
  const cp = runTimed('cp -a', 'cp', ['-a', ...LEGACY.map((n) => join(tree.dir, n)), dest + '/'], dest);
  const s = syncAll();
  const copied = listFiles(dest).length;
  if (copied !== tree.files) throw new MeasurementError(`cp -a copied ${copied} files, expected ${tree.files}`);
  return { cp: cp.ms, cpSync: cp.ms + s, cpuMs: cp.cpuMs };
}

/** A fresh repository holding hard links to the pristine legacy files (untimed). */
function legacyRepo(tree: Tree, dir: string): string {
  makeGitRepo(dir);
  run('cp -al', 'cp', ['-al', ...LEGACY.map((n) => join(tree.dir, n)), dir + '/']);
  return dir;
}

/**
 * `run` under GNU time when it is installed: also the peak RSS (KB) and the CPU time (user + sys,
 * all threads; ms) of the process. Its output goes to a file next to `cwd`.
 */
function runTimed(what: string, cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): { ms: number; stdout: string; rssKb?: number; cpuMs?: number } {
  if (!existsSync(TIME_BIN)) return run(what, cmd, args, { cwd, env });
  const out = join(cwd, '..', `time-${process.pid}-${Date.now()}.txt`);
  const r = run(what, TIME_BIN, ['-f', '%M %U %S', '-o', out, cmd, ...args], { cwd, env });
  const [kb, user, sys] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  rmSync(out, { force: true });
  if (!Number.isFinite(kb) || kb! <= 0 || !Number.isFinite(user) || !Number.isFinite(sys)) throw new MeasurementError(`${TIME_BIN} gave no figures for ${what}`);
  return { ...r, rssKb: kb!, cpuMs: (user! + sys!) * 1000 };
}

/** Runs `node bin args`, returning wall time, peak RSS (KB) and, with GNU time, CPU time (ms). */
async function timedNode(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ ms: number; rssKb: number; cpuMs?: number; stdout: string }> {
  if (existsSync(TIME_BIN)) {
    const r = runTimed('orchestrator migrate --yes', process.execPath, [bin, ...args], cwd, env);
    return { ms: r.ms, rssKb: r.rssKb!, cpuMs: r.cpuMs, stdout: r.stdout };
  }
  // No GNU time: poll VmHWM (the kernel's own high-water mark) until the process exits.
  return await new Promise((resolveP, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [bin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let hwm = 0;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]));
      } catch {
        // exited between polls
      }
    }, 10);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new MeasurementError(`orchestrator migrate --yes: ${signal ? `killed by ${signal}` : `exit ${code}`} (stderr: ${stderr.trim().split('\n').slice(-3).join(' | ')})`));
      else resolveP({ ms, rssKb: hwm, stdout });
    });
  });
}

/**
 * benchEnv, as on a developer's machine: without CI or another ephemeral-environment marker, which
 * would make the CLI save the whole state to the state branch after the migration (auto-save,
 * src/statebranch/auto-save.ts). That save is another command's cost (over 30 s and 2 GB of RSS for
 * a 1 GiB log when measured); this bench times the migration itself. `--yes` and no TTY on stdin
 * keep it from ever prompting.
 */
function migrateEnv(home: string): NodeJS.ProcessEnv {
  const env = benchEnv(home);
  for (const k of ['CI', 'GITHUB_ACTIONS', 'CODESPACES', 'GITPOD_WORKSPACE_ID', 'CLAUDE_CODE_REMOTE', 'CLAUDE_CODE_WEB']) delete env[k];
  // Node 20 reads and parses the CA bundle this names as it starts, whether or not the process
  // ever opens a TLS connection (nodejs/node#40524), before any of the CLI's code runs: `node -e 0`
  // took 116 ms with this sandbox's bundle, 35 ms without. The migration makes no connection.
  delete env.NODE_EXTRA_CA_CERTS;
  const kind = detectEnvironment(env);
  if (kind !== 'local') throw new MeasurementError(`the migration would run as in a ${kind} environment (with an automatic state save); unset its variables`);
  return env;
}

/** One migration of a fresh copy; checks that every file arrived byte for byte. */
async function migrateOnce(tree: Tree, o: MigrateOptions, work: string, i: number): Promise<{ ms: number; rssKb: number; cpuMs?: number | undefined }> {
  const env = migrateEnv(join(work, 'home'));
  settle(tree, o.bin);
  const repo = legacyRepo(tree, join(work, `repo-${i}`));
  syncAll();
  const r = await timedNode(o.bin, ['migrate', '--yes', '--json'], repo, env);
  // The result, and the journal's sha256 of every copy, against the pristine manifest.
  const out = JSON.parse(r.stdout) as { ok?: boolean; files?: number; bytes?: number; session_id?: string };
  if (!out.ok || out.files !== tree.files || out.bytes !== tree.bytes) {
    throw new MeasurementError(`migrate reported ${out.files} files / ${out.bytes} bytes, the tree has ${tree.files} / ${tree.bytes}`);
  }
  const journal = JSON.parse(readFileSync(join(repo, '.orchestrator', 'migration.json'), 'utf8')) as {
    status: string;
    moves: { from: string; to: string | null; hashes: Record<string, string> }[];
  };
  if (journal.status !== 'done') throw new MeasurementError(`migration journal says ${journal.status}, not done`);
  let checked = 0;
  for (const m of journal.moves) {
    for (const [rel, hash] of Object.entries(m.hashes)) {
      const legacyRel = m.from + rel.slice(m.to!.length);
      if (tree.manifest.get(legacyRel) !== hash) throw new MeasurementError(`migrated ${rel} does not match the legacy ${legacyRel}`);
      checked++;
    }
  }
  if (checked !== tree.files) throw new MeasurementError(`the migration journal lists ${checked} copies, expected ${tree.files}`);
  for (const n of LEGACY) if (existsSync(join(repo, n))) throw new MeasurementError(`${n} is still in the repo root after the migration`);
  // The originals were hard links: the pristine files must be untouched.
  const log = statSync(join(tree.dir, '.workflow_log.jsonl'));
  if (log.size !== tree.logBytes) throw new MeasurementError('the pristine log changed during a migration');
  return { ms: r.ms, rssKb: r.rssKb, cpuMs: r.cpuMs };
}

// ---- the bench ----------------------------------------------------------------------------------

export async function runMigrateBench(o: MigrateOptions, progress: (line: string) => void): Promise<MigrateResult> {
  const started = process.hrtime.bigint();
  const loadBefore = loadavg()[0]!;
  const result: MigrateResult = {
    ok: false,
    tree: null,
    runs: o.runs,
    cp_ms: [],
    cp_sync_ms: [],
    migrate_ms: [],
    peak_rss_kb: [],
    cp_cpu_ms: [],
    migrate_cpu_ms: [],
    rss_source: existsSync(TIME_BIN) ? `${TIME_BIN} (%M)` : 'VmHWM polled from /proc/<pid>/status',
    targets: MIGRATE_TARGETS,
    machine: {
      node: process.version,
      os: `${osType()} ${release()}`,
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? 'unknown',
      load_average_1min: { before: round(loadBefore, 2), after: 0 },
    },
    settings: { log_mb: o.logMb, checkpoints: o.checkpoints, checkpoint_kb: o.checkpointKb, runs: o.runs, bin: o.bin },
    seconds: 0,
  };
  const work = mkdtempSync(join(tmpdir(), 'orch-migrate-bench-'));
  // The tree is over 1 GB: an interrupted bench must not leave it behind.
  const onSignal = (sig: NodeJS.Signals) => {
    if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    if (!existsSync(o.bin)) throw new MeasurementError(`${o.bin} does not exist; build it first (npm run build)`);
    progress(`migrate: making the legacy tree (${o.logMb} MiB log, ${o.checkpoints} checkpoints of ~${o.checkpointKb} KB) in ${work}`);
    const t0 = process.hrtime.bigint();
    const tree = makeTree(join(work, 'pristine'), o);
    const made = Number(process.hrtime.bigint() - t0) / 1e9;
    result.tree = {
      files: tree.files,
      bytes: tree.bytes,
      log_bytes: tree.logBytes,
      log_lines: tree.logLines,
      checkpoints: o.checkpoints,
      checkpoint_bytes: tree.checkpointBytes,
      seconds_to_make: round(made, 1),
    };
    progress(`  ${tree.files} files, ${tree.bytes} bytes, made in ${made.toFixed(1)} s`);
    // Every step's output stays until the end (see the top of this file).
    const need = tree.bytes * (2 * o.runs) * 1.05;
    const fs = statfsSync(work);
    if (fs.bavail * fs.bsize < need) throw new MeasurementError(`${work} has ${(fs.bavail * fs.bsize / 1e9).toFixed(1)} GB free; ${o.runs} runs need ${(need / 1e9).toFixed(1)} GB (fewer --runs, or a smaller --log-mb)`);
    mkdirSync(join(work, 'home'));
    for (let i = 0; i < o.runs; i++) {
      // Alternate which side goes first, so drift in machine load does not always favour one.
      const steps = [
        () => {
          const b = baseline(tree, join(work, `cp-${i}`), o.bin);
          result.cp_ms.push(round(b.cp, 1));
          result.cp_sync_ms.push(round(b.cpSync, 1));
          if (b.cpuMs !== undefined) result.cp_cpu_ms.push(round(b.cpuMs, 1));
          progress(`  run ${i + 1}/${o.runs}: cp -a ${(b.cp / 1000).toFixed(2)} s${cpuNote(b.cpuMs)}, cp -a + sync ${(b.cpSync / 1000).toFixed(2)} s`);
        },
        async () => {
          // A failed migration fails the same way every time: the remaining runs take the baseline only.
          if (result.error) return;
          try {
            const m = await migrateOnce(tree, o, work, i);
            result.migrate_ms.push(round(m.ms, 1));
            result.peak_rss_kb.push(m.rssKb);
            if (m.cpuMs !== undefined) result.migrate_cpu_ms.push(round(m.cpuMs, 1));
            progress(`  run ${i + 1}/${o.runs}: migrate ${(m.ms / 1000).toFixed(2)} s${cpuNote(m.cpuMs)}, peak RSS ${((m.rssKb * 1024) / 1e6).toFixed(1)} MB`);
          } catch (e) {
            if (!(e instanceof MeasurementError)) throw e;
            result.error = e.message;
            progress(`  run ${i + 1}/${o.runs}: migrate FAILED: ${e.message}`);
          }
        },
      ];
      if (i % 2) steps.reverse();
      for (const s of steps) {
        await s();
        // The steps block in spawnSync: give a pending SIGINT/SIGTERM its turn.
        await new Promise((r) => setImmediate(r));
      }
    }
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
    if (!(e instanceof MeasurementError) && e instanceof Error && process.env.BENCH_DEBUG) progress(e.stack ?? '');
    progress(`  migrate bench: FAILED: ${result.error}`);
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    if (process.env.BENCH_KEEP) progress(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  summarize(result);
  result.machine.load_average_1min.after = round(loadavg()[0]!, 2);
  result.seconds = round(Number(process.hrtime.bigint() - started) / 1e9, 1);
  return result;
}

/** Medians and verdicts of whatever was measured (a failed migration still leaves the baseline). */
function summarize(r: MigrateResult): void {
  const m = (xs: number[]) => (xs.length ? median(xs) : undefined);
  const cp = m(r.cp_ms);
  const cpSync = m(r.cp_sync_ms);
  const mig = m(r.migrate_ms);
  const rss = m(r.peak_rss_kb);
  const cpCpu = m(r.cp_cpu_ms);
  const migCpu = m(r.migrate_cpu_ms);
  r.median = {
    ...(cp !== undefined && { cp_ms: round(cp, 1) }),
    ...(cpCpu !== undefined && { cp_cpu_ms: round(cpCpu, 1) }),
    ...(migCpu !== undefined && { migrate_cpu_ms: round(migCpu, 1) }),
    ...(cpSync !== undefined && { cp_sync_ms: round(cpSync, 1) }),
    ...(mig !== undefined && { migrate_ms: round(mig, 1) }),
    ...(rss !== undefined && { peak_rss_mb: round((rss * 1024) / 1e6, 1) }),
  };
  if (mig !== undefined && cpSync !== undefined && cp !== undefined && rss !== undefined) {
    r.ratio_vs_cp_sync = round(mig / cpSync, 3);
    const n = Math.min(r.migrate_ms.length, r.cp_sync_ms.length);
    r.paired_ratio_vs_cp_sync = round(pairedRatio(r.migrate_ms.slice(0, n), r.cp_sync_ms.slice(0, n)), 3);
    r.ratio_vs_cp = round(mig / cp, 3);
    r.met = { ratio: r.ratio_vs_cp_sync <= MIGRATE_TARGETS.ratio_vs_cp_sync, peak_rss: r.median.peak_rss_mb! < MIGRATE_TARGETS.peak_rss_mb };
  }
  r.ok = r.error === undefined && r.met !== undefined;
}

// ---- output -------------------------------------------------------------------------------------

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const verdict = (met: boolean) => (met ? 'ok' : 'MISSED');
const runsOf = (xs: number[], f: (x: number) => string) => (xs.length > 1 ? xs.map(f).join(', ') : '');
const cpuNote = (ms: number | undefined) => (ms === undefined ? '' : ` (CPU ${sec(ms)})`);
/** CPU time over wall time: how many cores the process kept busy on average. */
const cpuRow = (label: string, cpuMs: number | undefined, wallMs: number | undefined, runs: number[]): string[] =>
  cpuMs === undefined ? [label, '-', '', 'needs GNU time'] : [label, `${sec(cpuMs)}${wallMs ? ` (${(cpuMs / wallMs).toFixed(2)} cores)` : ''}`, '', runsOf(runs, sec)];

export function formatMigrateTable(r: MigrateResult): string {
  const out: string[] = [
    `orchestrator migrate bench: node ${r.machine.node}, ${r.machine.os}, ${r.machine.cpus} x ${r.machine.cpu_model}`,
    `medians of ${r.runs} runs; wall time of whole processes; warm page cache, sync before every timed step; peak RSS from ${r.rss_source}`,
    `load average (1 min) ${r.machine.load_average_1min.before} before, ${r.machine.load_average_1min.after} after${
      Math.max(r.machine.load_average_1min.before, r.machine.load_average_1min.after) > r.machine.cpus ? ': the machine was busy, figures are inflated' : ''
    }`,
    '',
  ];
  const rows: string[][] = [['', 'median', 'target', 'runs']];
  if (r.tree) {
    rows.push(['legacy tree', `${r.tree.files} files, ${r.tree.bytes} bytes`, '', '']);
    rows.push(['  .workflow_log.jsonl', `${r.tree.log_bytes} bytes, ${r.tree.log_lines} lines`, '', '']);
    rows.push(['  .workflow_checkpoints/', `${r.tree.checkpoints} files, ${r.tree.checkpoint_bytes} bytes`, '', '']);
  }
  const med = r.median ?? {};
  if (med.cp_ms !== undefined) rows.push(['cp -a', sec(med.cp_ms), '', runsOf(r.cp_ms, sec)], cpuRow('  CPU, user + sys', med.cp_cpu_ms, med.cp_ms, r.cp_cpu_ms));
  if (med.cp_sync_ms !== undefined) rows.push(['cp -a + sync (baseline)', sec(med.cp_sync_ms), '', runsOf(r.cp_sync_ms, sec)]);
  if (med.migrate_ms !== undefined) rows.push(['migrate --yes', sec(med.migrate_ms), '', runsOf(r.migrate_ms, sec)], cpuRow('  CPU, user + sys', med.migrate_cpu_ms, med.migrate_ms, r.migrate_cpu_ms));
  else rows.push(['migrate --yes', 'FAILED', '', '']);
  if (r.met) {
    rows.push(['  migrate / (cp -a + sync)', `${r.ratio_vs_cp_sync!.toFixed(2)}x ${verdict(r.met.ratio)}`, `<= ${MIGRATE_TARGETS.ratio_vs_cp_sync.toFixed(2)}x`, '']);
    rows.push(['  (median of per-run ratios)', `${r.paired_ratio_vs_cp_sync!.toFixed(2)}x`, '', '']);
    rows.push(['  migrate / cp -a', `${r.ratio_vs_cp!.toFixed(2)}x`, '(reference)', '']);
  } else rows.push(['  migrate / (cp -a + sync)', '-', `<= ${MIGRATE_TARGETS.ratio_vs_cp_sync.toFixed(2)}x`, '']);
  if (med.peak_rss_mb !== undefined) {
    rows.push([
      'peak RSS, migrate',
      `${med.peak_rss_mb.toFixed(1)} MB ${verdict(med.peak_rss_mb < MIGRATE_TARGETS.peak_rss_mb)}`,
      `< ${MIGRATE_TARGETS.peak_rss_mb} MB`,
      runsOf(r.peak_rss_kb, (kb) => `${((kb * 1024) / 1e6).toFixed(1)}`),
    ]);
  } else rows.push(['peak RSS, migrate', '-', `< ${MIGRATE_TARGETS.peak_rss_mb} MB`, '']);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((x, c) => (c === 0 || c === 3 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ').trimEnd();
  out.push(line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line), '');
  if (r.error) out.push(`Measurement that failed to run:`, `  migrate: ${r.error}`, '');
  out.push(`migrate bench took ${r.seconds.toFixed(1)} s`);
  return out.join('\n') + '\n';
}

/** Entry point for both `node bench/migrate-bench.ts` and `bench.ts --only migrate`. */
export async function migrateMain(argv: string[]): Promise<number> {
  let o: MigrateOptions;
  try {
    o = parseMigrateOptions(argv);
  } catch (e) {
    if (!(e instanceof UsageExit)) throw e;
    if (!e.message) {
      process.stdout.write(`${MIGRATE_USAGE}\n`);
      return 0;
    }
    process.stderr.write(`bench: ${e.message}\n${MIGRATE_USAGE}\n`);
    return 2;
  }
  const r = await runMigrateBench(o, (line) => process.stderr.write(line + '\n'));
  process.stdout.write(o.json ? JSON.stringify(r, null, 2) + '\n' : formatMigrateTable(r));
  return r.ok ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  migrateMain(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
