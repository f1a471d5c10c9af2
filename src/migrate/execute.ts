// Runs a migration plan, finishes or undoes an interrupted one, and rolls a finished one back.
// Order of a migration, each step journalled before the next:
//   staging     copy every legacy file into .orchestrator/staging-<id>/ (streamed, content-checked,
//               compared with its source, fsynced)
//   switching   rename the staged files into place inside .orchestrator/
//   backing_up  rename the originals into .orchestrator/backups/<timestamp>/
//   done
// A crash while staging is undone (the originals were never touched); from switching on, every
// copy is complete and verified, so it is finished. Each step is idempotent, so recovery can
// simply run the remaining steps again.
import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { detectEnvironment } from '../env/detect.ts';
import { ExitCode, WorkflowStateConflictError } from '../errors.ts';
import { fsyncDir, writeFileAtomic } from '../store/atomic-file.ts';
import { entriesOrNone } from '../store/file-reads.ts';
import type { RepoPaths } from '../store/paths.ts';
import { ensureContainer } from '../store/repo-meta.ts';
import { readCurrentSessionId, writeCurrentSessionId } from '../store/sessions.ts';
import { compareText } from '../text-order.ts';
import { faultPoint } from './fault.ts';
import { writeJournal, type Journal } from './journal.ts';
import { contentCheckFor } from './content-check.ts';
import { findLegacyEntries, type LegacyRule } from './legacy-layout.ts';
import type { MigrationPlan, PlanProblem } from './plan.ts';
import { chunkArea, ChunkWorker } from './chunk-worker.ts';
import { BIG_CHUNK, copyBuffers, copyFileVerified, COPY_BUFFERS, hashFile, startWriteback, syncTree, walkTree, type TreeFile, type TreeWalk } from './tree.ts';

export interface MigrationProgress {
  (done: { files: number; bytes: number }, total: { files: number; bytes: number }): void;
}

function stamp(now: string): string {
  return now.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** A file failed its content check while it was staged: nothing was migrated, nothing is left. */
export class StagingRefusedError extends Error {
  constructor(readonly problem: PlanProblem) {
    super(`${problem.path}: ${problem.message}`);
  }
}

/**
 * Migrates: stages a checked copy of every file, then switches (see the top of this file). A file
 * whose content fails its check stops the migration before anything outside the staging area
 * changed; the staging area, the journal and the container files this call created are removed,
 * and StagingRefusedError says why.
 */
export async function runMigration(
  paths: RepoPaths,
  plan: MigrationPlan,
  now: () => string,
  opts: {
    progress?: MigrationProgress | undefined;
    /** The trees the plan walked (planMigration's `walks`), under the same lock; walked again if missing. */
    walks?: Map<string, TreeWalk> | undefined;
    /** Started early by startStagingWorkers; made as needed if missing. Closed when staging ends. */
    workers?: StagingWorkers | undefined;
  } = {},
): Promise<Journal> {
  const started = now();
  const before = { meta: existsSync(paths.meta), gitignore: existsSync(paths.gitignore), journal: readBytes(paths.migrationJournal) };
  ensureContainer(paths, started);
  const id = stamp(started);
  let j: Journal = {
    version: 1,
    id,
    status: 'staging',
    started_at: started,
    updated_at: started,
    session_id: plan.sessionId,
    set_current: false,
    staging: `staging-${id}`,
    backup: `backups/${id}`,
    moves: plan.moves.map((m) => ({ from: m.from, to: m.to, kind: m.kind, type: m.type, files: m.files, bytes: m.bytes, hashes: {} })),
    displaced: plan.displaced,
    created_dirs: [],
  };
  j = writeJournal(paths, j, now());
  faultPoint('staging');

  const staging = join(paths.container, j.staging);
  try {
    await stageCopies(paths, j, staging, { files: plan.files, bytes: plan.bytes }, opts.workers ?? new StagingWorkers(), opts.progress, opts.walks);
  } catch (err) {
    if (!(err instanceof StagingRefusedError)) throw err;
    // Put back exactly what was there: a refused migration changes nothing.
    rmSync(staging, { recursive: true, force: true });
    if (before.journal) writeFileAtomic(paths.migrationJournal, before.journal);
    else rmSync(paths.migrationJournal, { force: true });
    if (!before.meta) rmSync(paths.meta, { force: true });
    if (!before.gitignore) rmSync(paths.gitignore, { force: true });
    throw err;
  }
  // Nothing may reach `switching` (after which recovery finishes the migration) before every
  // staged byte is on disk.
  if (existsSync(staging)) syncTree(staging);
  j.created_dirs = dirsToCreate(paths, j);
  j.status = 'switching';
  j = writeJournal(paths, j, now());
  faultPoint('switching');
  return finishMigration(paths, j, now);
}

function readBytes(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}

/**
 * Encrypted secrets end up private whatever the legacy file's mode was, as `secrets set` keeps
 * them (the original keeps its mode in the backup, and gets it back on rollback).
 */
const SECRET_FILE_MODE = 0o600;
const SECRET_DIR_MODE = 0o700;

/** Files from this size on are hashed, and JSON Lines checked, in worker threads (see chunk-worker.ts). */
const WORKER_FROM_BYTES = 16 << 20;

/** The big-file lane's chunk buffers, and the worker threads that hash and check the chunks in them. */
export class StagingWorkers {
  private readonly area = chunkArea(COPY_BUFFERS * BIG_CHUNK);
  readonly bufs = copyBuffers(BIG_CHUNK, this.area);
  private lines: ChunkWorker<'lines'> | undefined;
  private hashes: ChunkWorker<'sha256'> | undefined;

  linesWorker(): ChunkWorker<'lines'> {
    return (this.lines ??= new ChunkWorker(this.area, 'lines'));
  }

  hashWorker(): ChunkWorker<'sha256'> {
    return (this.hashes ??= new ChunkWorker(this.area, 'sha256'));
  }

  async close(): Promise<void> {
    const running = [this.lines?.close(), this.hashes?.close()];
    this.lines = this.hashes = undefined;
    await Promise.all(running);
  }
}

/**
 * Starts the workers for a big legacy file in the repo root, before the plan lists the legacy
 * tree: a worker takes ~45 ms to start, which then overlaps the listing instead of the copy.
 */
export function startStagingWorkers(paths: RepoPaths): StagingWorkers | undefined {
  const big = findLegacyEntries(paths).filter((e) => e.type === 'file' && e.bytes >= WORKER_FROM_BYTES);
  if (big.length === 0) return undefined;
  const workers = new StagingWorkers();
  workers.hashWorker();
  if (big.some((e) => e.kind === 'log' || e.kind === 'jsonl')) workers.linesWorker();
  return workers;
}

/** Files from this size on go in the big-file lane (copyFileVerified in 4 MiB chunks, through the libuv pool). */
const BIG_FROM_BYTES = 1 << 20;
/** The small-file lane hands the main thread back to the big-file lane this often (ms). */
const SLICE_MS = 2;

interface StageFile {
  move: number;
  /** Repo-relative source, container-relative copy. */
  from: string;
  rel: string;
  kind: LegacyRule['kind'];
  /** Path inside the move's entry ('' when the entry is the file). */
  inner: string;
  /** As the listing saw it. */
  listed: TreeFile;
  /** Position in move and walk order: a refusal names the first bad file in this order. */
  order: number;
}

/**
 * Copies every move into the staging directory, checking each file's content on the way. Big files
 * and small ones go in two lanes at once: while the libuv pool reads and writes a big log's chunks
 * and the workers hash and check them, the main thread copies checkpoints in between.
 * When a file is refused, files after it (in move and walk order) stop, files before it still
 * finish, so the refusal is the one a copy in order would give.
 */
async function stageCopies(
  paths: RepoPaths,
  j: Journal,
  staging: string,
  total: { files: number; bytes: number },
  workers: StagingWorkers,
  progress?: MigrationProgress,
  walks?: Map<string, TreeWalk>,
): Promise<void> {
  const files: StageFile[] = [];
  const left = j.moves.map(() => 0);
  for (const [i, m] of j.moves.entries()) {
    if (!m.to) continue;
    const walk = walks?.get(m.from) ?? walkTree(join(paths.root, m.from));
    mkdirSync(dirname(join(staging, m.to)), { recursive: true, mode: m.kind === 'secrets' ? SECRET_DIR_MODE : 0o777 });
    for (const d of walk.dirs) mkdirSync(join(staging, m.to, d), { recursive: true });
    for (const f of walk.files) {
      const rel = f.rel ? `${m.to}/${f.rel}` : m.to;
      const from = f.rel ? `${m.from}/${f.rel}` : m.from;
      files.push({ move: i, from, rel, kind: m.kind as LegacyRule['kind'], inner: f.rel, listed: f, order: files.length });
      left[i]!++;
    }
  }
  for (const [i, n] of left.entries()) if (n === 0) faultPoint(`stage:${i}`);

  const done = { files: 0, bytes: 0 };
  let failed: { order: number; err: unknown } | null = null;
  const copyOne = async (f: StageFile, bufs: Buffer[]) => {
    const big = f.listed.bytes >= WORKER_FROM_BYTES;
    const check = contentCheckFor(f.kind, f.inner, big && (f.kind === 'log' || f.kind === 'jsonl') ? workers.linesWorker() : undefined);
    const sink = (chunk: Buffer, whole: boolean) => {
      done.bytes += chunk.length;
      if (progress && chunk.length >= 1 << 20) progress(done, total);
      return check?.sink(chunk, whole);
    };
    try {
      const mode = f.kind === 'secrets' ? SECRET_FILE_MODE : undefined;
      const hash = big ? () => workers.hashWorker().stream() : undefined;
      // Both paths are normalized already: concatenation, not join, for 10,000 checkpoints.
      j.moves[f.move]!.hashes[f.rel] = await copyFileVerified(`${paths.root}/${f.from}`, `${staging}/${f.rel}`, { sink, bufs, mode, hash, listed: f.listed });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM') throw err;
      throw new StagingRefusedError({ path: f.from, message: `cannot be read (${code}); fix its permissions (chmod u+r) and retry`, exitCode: ExitCode.environment });
    }
    const problem = await check?.result();
    if (problem) throw new StagingRefusedError({ path: f.from + problem.at, message: problem.message, exitCode: problem.exitCode });
    done.files++;
    progress?.(done, total);
    if (--left[f.move]! === 0) faultPoint(`stage:${f.move}`);
  };
  const lane = async (list: StageFile[], bufs: Buffer[], slice: boolean) => {
    let since = performance.now();
    for (const f of list) {
      if (failed && failed.order < f.order) return;
      try {
        await copyOne(f, bufs);
      } catch (err) {
        if (!failed || f.order < failed.order) failed = { order: f.order, err };
        return;
      }
      if (slice && performance.now() - since >= SLICE_MS) {
        // Let the big lane see its finished copies and checks, so the workers never wait on this lane.
        await new Promise((resolve) => setImmediate(resolve));
        since = performance.now();
      }
    }
  };
  let bigDone = false;
  try {
    await Promise.all([
      // The chunk area: the workers read the big lane's chunks in place.
      lane(files.filter((f) => f.listed.bytes >= BIG_FROM_BYTES), workers.bufs, false).then(() => (bigDone = true)),
      lane(files.filter((f) => f.listed.bytes < BIG_FROM_BYTES), copyBuffers(BIG_FROM_BYTES), true).then(async () => {
        // The small files are done while the big lane still copies: write them back meanwhile, so
        // the sync after staging waits half as long (40 ms against 80-100 ms here).
        if (!bigDone && !failed) await startWriteback(staging);
      }),
    ]);
  } finally {
    await workers.close();
  }
  if (failed) throw (failed as { err: unknown }).err;
}

/** Parent directories of the targets that do not exist yet, shallowest first. */
function dirsToCreate(paths: RepoPaths, j: Journal): string[] {
  const out = new Set<string>();
  const add = (rel: string) => {
    for (let d = dirname(rel); d !== '.' && d !== ''; d = dirname(d)) if (!existsSync(join(paths.container, d))) out.add(d);
  };
  for (const m of j.moves) if (m.to) add(m.to);
  add(`${j.backup}/x`);
  for (const m of j.moves) add(`${j.backup}/${m.from}`);
  for (const d of j.displaced) add(`${j.backup}/.orchestrator/${d}`);
  return [...out].sort((a, b) => a.split('/').length - b.split('/').length || compareText(a, b));
}

function renameInto(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  renameSync(from, to);
  fsyncDir(dirname(to));
  fsyncDir(dirname(from));
}

/** Runs the remaining steps from `switching` or `backing_up`; each one is idempotent. */
export function finishMigration(paths: RepoPaths, j0: Journal, now: () => string): Journal {
  let j = j0;
  const staging = join(paths.container, j.staging);
  const backup = join(paths.container, j.backup);
  if (j.status === 'switching') {
    for (const [i, d] of j.displaced.entries()) {
      const live = join(paths.container, d);
      const kept = join(backup, '.orchestrator', d);
      if (existsSync(live) && !existsSync(kept) && existsSync(join(staging, d))) renameInto(live, kept);
      faultPoint(`displace:${i}`);
    }
    for (const [i, m] of j.moves.entries()) {
      if (m.to && existsSync(join(staging, m.to))) {
        if (existsSync(join(paths.container, m.to))) rmSync(join(paths.container, m.to), { recursive: true, force: true });
        if (m.kind === 'secrets') mkdirSync(dirname(join(paths.container, m.to)), { recursive: true, mode: SECRET_DIR_MODE });
        renameInto(join(staging, m.to), join(paths.container, m.to));
      }
      faultPoint(`switch:${i}`);
    }
    if (j.session_id) {
      const s = paths.session(j.session_id);
      if (!existsSync(s.meta)) {
        writeFileAtomic(
          s.meta,
          JSON.stringify({ session_id: j.session_id, created_at: j.started_at, repo_root: '.', environment: detectEnvironment(process.env), migrated_from: 'legacy' }, null, 2) + '\n',
        );
      }
      if (!readCurrentSessionId(paths)) {
        j.set_current = true;
        writeCurrentSessionId(paths, j.session_id);
      }
    }
    j.status = 'backing_up';
    j = writeJournal(paths, j, now());
    faultPoint('backing_up');
  }
  if (j.status === 'backing_up') {
    for (const [i, m] of j.moves.entries()) {
      const original = join(paths.root, m.from);
      const kept = join(backup, m.from);
      if (existsSync(original) && !existsSync(kept)) renameInto(original, kept);
      faultPoint(`backup:${i}`);
    }
    rmSync(staging, { recursive: true, force: true });
    j.status = 'done';
    j = writeJournal(paths, j, now());
    faultPoint('done');
  }
  return j;
}

/** A crash while staging: the originals were never touched, so drop the partial copy. */
export function abandonStaging(paths: RepoPaths, j0: Journal, now: () => string): Journal {
  rmSync(join(paths.container, j0.staging), { recursive: true, force: true });
  removeCreatedDirs(paths, j0);
  return writeJournal(paths, { ...j0, status: 'rolled_back' }, now());
}

function removeCreatedDirs(paths: RepoPaths, j: Journal): void {
  for (const d of [...j.created_dirs].reverse()) {
    try {
      rmdirSync(join(paths.container, d));
    } catch {
      // not empty (it holds something else) or already gone
    }
  }
}

/** Name of writeFileAtomic's temp file (store/atomic-file.ts). */
const ATOMIC_TEMP = /^\..+\.tmp-\d+-[0-9a-f]+$/;

/** Files of a finished migration that changed since, with what would be lost by undoing it. */
export function changesSince(paths: RepoPaths, j: Journal): string[] {
  const changed: string[] = [];
  for (const m of j.moves) {
    if (!m.to) continue;
    const target = join(paths.container, m.to);
    if (!existsSync(target)) {
      changed.push(`${m.to} (removed)`);
      continue;
    }
    const now = walkTree(target);
    const seen = new Set<string>();
    for (const f of now.files) {
      const rel = f.rel ? `${m.to}/${f.rel}` : m.to;
      seen.add(rel);
      const want = m.hashes[rel];
      if (want === undefined) changed.push(`${rel} (new since the migration)`);
      else if (hashFile(join(paths.container, rel)) !== want) changed.push(`${rel} (changed since the migration)`);
    }
    for (const rel of Object.keys(m.hashes)) if (!seen.has(rel)) changed.push(`${rel} (removed)`);
  }
  if (j.session_id) {
    const known = new Set(['meta.json', ...j.moves.filter((m) => m.to?.startsWith(`sessions/${j.session_id}/`)).map((m) => m.to!.split('/')[2]!)]);
    for (const name of entriesOrNone(paths.session(j.session_id).dir)) {
      // The temp file of a write killed before its rename (meta.json's, if the migration itself was
      // killed while switching) holds no work: rollback deletes it with the session.
      if (!known.has(name) && !ATOMIC_TEMP.test(name)) changed.push(`sessions/${j.session_id}/${name} (new since the migration)`);
    }
  }
  return changed;
}

/** Puts every legacy file back and removes what the migration created. Refuses if that would lose work. */
export function rollbackMigration(paths: RepoPaths, j0: Journal, now: () => string, force = false): Journal {
  if (j0.status === 'done' && !force) {
    const changed = changesSince(paths, j0);
    if (changed.length > 0) {
      throw new WorkflowStateConflictError(
        `cannot roll back: the contained state changed since the migration, and undoing it would lose ${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ` and ${changed.length - 3} more` : ''}; copy what you need elsewhere first`,
        { changed },
      );
    }
  }
  let j = writeJournal(paths, { ...j0, status: 'rolling_back' }, now());
  const backup = join(paths.container, j.backup);
  for (const m of j.moves) {
    const kept = join(backup, m.from);
    const original = join(paths.root, m.from);
    if (existsSync(kept) && !existsSync(original)) renameInto(kept, original);
  }
  for (const m of j.moves) if (m.to) rmSync(join(paths.container, m.to), { recursive: true, force: true });
  for (const d of j.displaced) {
    const kept = join(backup, '.orchestrator', d);
    if (existsSync(kept)) renameInto(kept, join(paths.container, d));
  }
  if (j.session_id) {
    rmSync(paths.session(j.session_id).dir, { recursive: true, force: true });
    if (j.set_current && readCurrentSessionId(paths) === j.session_id) rmSync(paths.current, { force: true });
  }
  rmSync(join(paths.container, j.staging), { recursive: true, force: true });
  removeCreatedDirs(paths, j);
  j = writeJournal(paths, { ...j, status: 'rolled_back' }, now());
  return j;
}
