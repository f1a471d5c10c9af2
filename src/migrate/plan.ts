// The migration plan: every move old path -> new path with file counts and sizes, and every
// problem the preflight finds. Reads only; `migrate --dry-run` prints exactly this.
import { accessSync, closeSync, constants, existsSync, openSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ExitCode, type ExitCodeValue } from '../errors.ts';
import type { RepoPaths } from '../store/paths.ts';
import { newSessionId } from '../store/sessions.ts';
import { detectLayout, type LegacyEntry } from './legacy-layout.ts';
import { checkFile, contentCheckFor } from './content-check.ts';
import { hashFile, walkStillValid, walkTree, type TreeWalk } from './tree.ts';

export type Prefer = 'old' | 'new';

export interface PlannedMove {
  /** Repo-relative legacy path. */
  from: string;
  /** Container-relative target, or null when only a backup is kept (the other side won). */
  to: string | null;
  kind: LegacyEntry['kind'];
  type: 'file' | 'dir';
  files: number;
  bytes: number;
  /** Why a move keeps no copy, or replaces something. */
  note?: string;
}

export interface PlanProblem {
  path: string;
  message: string;
  exitCode: ExitCodeValue;
  /** A legacy file vanished while it was checked: a concurrent migration, not a fault of the file. */
  raced?: true;
}

export interface MigrationPlan {
  /** The new session for a migrated workflow, or null when no state moves. */
  sessionId: string | null;
  moves: PlannedMove[];
  /** Container-relative targets that already exist and will be moved to the backup (prefer old). */
  displaced: string[];
  files: number;
  bytes: number;
  problems: PlanProblem[];
}

/**
 * `content: false` skips reading the files: a structural plan (moves, sizes, links, permissions,
 * conflicts, space). The migration checks contents (and that each file can be read) as it copies
 * them. `walks`, when given, gets the tree listed for each legacy path, and a listing already in it
 * is used again while walkStillValid says it holds: the plan under the lock and the copy need not
 * list 10,000 checkpoints again after the plan made before the lock.
 */
export function planMigration(paths: RepoPaths, opts: { prefer?: Prefer | undefined; content?: boolean } = {}, walks?: Map<string, TreeWalk>): MigrationPlan {
  const info = detectLayout(paths);
  const problems: PlanProblem[] = [];
  const moves: PlannedMove[] = [];
  const displaced: string[] = [];
  const sessionId = info.legacyState ? freshSessionId(paths) : null;
  const taken = new Set<string>();
  for (const entry of info.legacy) {
    const abs = join(paths.root, entry.from);
    if (entry.type === 'symlink' || entry.type === 'other') {
      problems.push({
        path: entry.from,
        message: `is a ${entry.type === 'symlink' ? 'symbolic link' : 'special file'}; migration copies only regular files and never follows links: replace it with the real file, or move it out of the repo`,
        exitCode: ExitCode.badInput,
      });
      continue;
    }
    try {
      const known = walks?.get(entry.from);
      const walk = known && walkStillValid(abs, known) ? known : walkTree(abs);
      walks?.set(entry.from, walk);
      for (const odd of walk.odd) {
        problems.push({
          path: `${entry.from}/${odd.rel}`,
          message: `is a ${odd.type}; migration copies only regular files and never follows links: replace it with the real file, or move it out of the repo`,
          exitCode: ExitCode.badInput,
        });
      }
      if (opts.content !== false) problems.push(...checkFiles(entry, abs, walk.files.map((f) => f.rel)));
      const to = entry.to.replace('<session>', sessionId ?? 'none');
      const move: PlannedMove = {
        from: entry.from,
        to,
        kind: entry.kind,
        type: entry.type,
        files: walk.files.length,
        bytes: walk.files.reduce((n, f) => n + f.bytes, 0),
      };
      if (taken.has(to)) {
        move.to = null;
        move.note = `${to} comes from an earlier legacy file; this one is only kept in the backup`;
      } else if (existsSync(join(paths.container, to))) {
        const same = entry.type === 'file' && hashFile(abs) === hashFile(join(paths.container, to));
        if (same || opts.prefer === 'new') {
          move.to = null;
          move.note = same ? `identical to the existing ${to}; only kept in the backup` : `--prefer new keeps the existing ${to}; this one is only kept in the backup`;
        } else if (opts.prefer === 'old') {
          displaced.push(to);
          move.note = `--prefer old: replaces the existing ${to}, which moves to the backup`;
        } else {
          problems.push({
            path: entry.from,
            message: `differs from the existing .orchestrator/${to}: both layouts hold it; choose with orchestrator migrate --prefer old (the legacy file wins) or --prefer new (the contained one wins)`,
            exitCode: ExitCode.conflict,
          });
        }
      }
      if (move.to) taken.add(move.to);
      moves.push(move);
    } catch (err) {
      // Another process moved it between the listing and the check: only a migration running
      // right now does that, and the plan made under the repo lock (nothing moves then) decides.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      problems.push({
        path: entry.from,
        message: 'moved away while it was being checked (is another orchestrator migrate running?); run the command again',
        exitCode: ExitCode.conflict,
        raced: true,
      });
    }
  }
  const files = moves.reduce((n, m) => n + m.files, 0);
  const bytes = moves.reduce((n, m) => n + m.bytes, 0);
  problems.push(...checkWritable(paths, info.legacy), ...checkSpace(paths, bytes));
  return { sessionId: moves.some((m) => m.to?.startsWith('sessions/')) ? sessionId : null, moves, displaced, files, bytes, problems };
}

function freshSessionId(paths: RepoPaths): string {
  let id = newSessionId();
  while (existsSync(paths.session(id).dir)) id = newSessionId();
  return id;
}

/** Every file can be read, every JSON and JSONL file parses and a checksummed state verifies. */
function checkFiles(entry: LegacyEntry, abs: string, rels: string[]): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const buf = Buffer.allocUnsafe(1 << 20);
  for (const rel of rels) {
    const at = rel ? `${entry.from}/${rel}` : entry.from;
    const file = rel ? join(abs, rel) : abs;
    try {
      const check = contentCheckFor(entry.kind, rel);
      // A file whose content is not interpreted is only opened, to see that it can be read.
      if (!check) closeSync(openSync(file, 'r'));
      const problem = check && checkFile(file, check, buf);
      if (problem) problems.push({ path: at + problem.at, message: problem.message, exitCode: problem.exitCode });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') throw err; // moved away meanwhile: see planMigration
      problems.push({ path: at, message: `cannot be read (${e.code ?? e.message}); fix its permissions (chmod u+r) and retry`, exitCode: ExitCode.environment });
    }
  }
  return problems;
}

/**
 * The originals move out of their directories and the copies go into .orchestrator/: all must be
 * writable. A legacy directory must be writable itself too: renaming a directory into another
 * parent rewrites its `..` entry, so a read-only one would fail half way through the backup step.
 */
function checkWritable(paths: RepoPaths, legacy: LegacyEntry[]): PlanProblem[] {
  const out: PlanProblem[] = [];
  const dirs = new Set([paths.root, paths.container]);
  for (const e of legacy) {
    dirs.add(dirname(join(paths.root, e.from)));
    if (e.type === 'dir') dirs.add(join(paths.root, e.from));
  }
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    try {
      accessSync(dir, constants.W_OK);
    } catch (err) {
      // Gone since existsSync: a concurrent migration moved it (see planMigration).
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      out.push({ path: paths.rel(dir), message: 'is not writable; fix its permissions (chmod u+w) and retry', exitCode: ExitCode.environment });
    }
  }
  return out;
}

function checkSpace(paths: RepoPaths, bytes: number): PlanProblem[] {
  try {
    const fs = statfsSync(paths.root);
    const free = Number(fs.bavail) * Number(fs.bsize);
    // The copy needs the bytes once more, plus room for metadata.
    if (free < bytes * 1.05 + 1024 * 1024) {
      return [
        {
          path: paths.root,
          message: `has ${free} bytes free, but the migration copies ${bytes} bytes before it removes anything; free some space and retry`,
          exitCode: ExitCode.environment,
        },
      ];
    }
  } catch {
    // statfs unsupported: the copy itself reports ENOSPC
  }
  return [];
}
