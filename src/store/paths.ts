// Resolves where things live. Resolution only: nothing here creates, moves or migrates a file.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';

export const CONTAINER_DIR = '.orchestrator';
export const WORKFLOW_FILE = 'workflow.yaml';

export interface RootOptions {
  /** `--root DIR` from the command line; wins over everything. */
  rootFlag?: string | undefined;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/**
 * The repo root: `--root`, else `ORCHESTRATOR_ROOT`, else the first directory walking up from the
 * working directory that holds `.git` (dir or file, for worktrees) or `workflow.yaml`.
 * Outside any repo the working directory itself is the root, so `init` can make one.
 */
export function resolveRepoRoot(opts: RootOptions): string {
  const explicit = opts.rootFlag ?? opts.env.ORCHESTRATOR_ROOT;
  if (explicit) {
    const dir = resolve(opts.cwd, explicit);
    if (!isDirectory(dir)) {
      const origin = opts.rootFlag ? '--root' : 'ORCHESTRATOR_ROOT';
      throw new UsageError(`${dir}: not a directory (from ${origin}); point ${origin} at your repository`);
    }
    return dir;
  }
  let dir = resolve(opts.cwd);
  for (;;) {
    if (existsSync(join(dir, '.git')) || existsSync(join(dir, WORKFLOW_FILE))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(opts.cwd);
    dir = parent;
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Every path the tool uses inside one repo, derived from the root. */
export class RepoPaths {
  readonly root: string;
  readonly container: string;
  constructor(root: string) {
    this.root = root;
    this.container = join(root, CONTAINER_DIR);
  }
  get workflowFile(): string {
    return join(this.root, WORKFLOW_FILE);
  }
  get meta(): string {
    return join(this.container, 'meta.json');
  }
  get gitignore(): string {
    return join(this.container, '.gitignore');
  }
  get current(): string {
    return join(this.container, 'current');
  }
  get sessionsDir(): string {
    return join(this.container, 'sessions');
  }
  get locksDir(): string {
    return join(this.container, 'locks');
  }
  get repoLock(): string {
    return join(this.locksDir, 'repo.lock');
  }
  get config(): string {
    return join(this.container, 'config.yaml');
  }
  get cacheDir(): string {
    return join(this.container, 'cache');
  }
  session(id: string): SessionPaths {
    return new SessionPaths(join(this.sessionsDir, id), id, join(this.cacheDir, `state-${id}.verified`));
  }
  /**
   * The Python tool's legacy workflow, read (and, with layout legacy, written) in place: its v2 files
   * in the repo root, or, when only that exists, a v3 `.orchestrator/state.json` + `log.jsonl` from
   * before sessions (CONTRACT §2), which the v2 paths would report as "no workflow".
   */
  legacySession(): SessionPaths {
    const stamp = join(this.cacheDir, `state-${LEGACY_SESSION_ID}.verified`);
    if (!existsSync(join(this.root, '.workflow_state.json')) && existsSync(join(this.container, 'state.json'))) {
      return new SessionPaths(this.container, LEGACY_SESSION_ID, stamp, {
        meta: join(this.container, 'session.json'),
        state: join(this.container, 'state.json'),
        log: join(this.container, 'log.jsonl'),
        checkpoints: join(this.container, 'checkpoints'),
      });
    }
    return new SessionPaths(this.root, LEGACY_SESSION_ID, stamp, {
      meta: join(this.root, '.workflow_session.json'),
      state: join(this.root, '.workflow_state.json'),
      log: join(this.root, '.workflow_log.jsonl'),
      checkpoints: join(this.root, '.workflow_checkpoints'),
    });
  }
  /** The hash-chained audit trail (CONTRACT §1), shared by every session. */
  get audit(): string {
    return join(this.container, 'audit.jsonl');
  }
  get migrationJournal(): string {
    return join(this.container, 'migration.json');
  }
  get backupsDir(): string {
    return join(this.container, 'backups');
  }
  /** Shown to users: the path relative to the repo root. */
  rel(p: string): string {
    return p.startsWith(this.root + '/') ? p.slice(this.root.length + 1) : p;
  }
}

/** Where one session's files are: `sessions/<id>/…`, or the Python v2 files in the repo root. */
export class SessionPaths {
  readonly meta: string;
  readonly state: string;
  readonly log: string;
  readonly checkpoints: string;
  constructor(
    readonly dir: string,
    readonly id: string,
    /** Machine-local record of the state file version last sealed here (see readStateFile). */
    readonly verifiedStamp: string,
    files: { meta: string; state: string; log: string; checkpoints: string } = {
      meta: join(dir, 'meta.json'),
      state: join(dir, 'state.json'),
      log: join(dir, 'log.jsonl'),
      checkpoints: join(dir, 'checkpoints'),
    },
  ) {
    this.meta = files.meta;
    this.state = files.state;
    this.log = files.log;
    this.checkpoints = files.checkpoints;
  }
}

/** The id under which the legacy (v2, repo-root) workflow shows up. */
export const LEGACY_SESSION_ID = 'legacy';

/** Session ids are file names: keep them to a safe alphabet so `--session ../x` cannot escape. */
export function isValidSessionId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(id) && !id.includes('..');
}
