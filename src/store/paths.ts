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
  /** Shown to users: the path relative to the repo root. */
  rel(p: string): string {
    return p.startsWith(this.root + '/') ? p.slice(this.root.length + 1) : p;
  }
}

export class SessionPaths {
  constructor(
    readonly dir: string,
    readonly id: string,
    /** Machine-local record of the state file version last sealed here (see readStateFile). */
    readonly verifiedStamp: string,
  ) {}
  get meta(): string {
    return join(this.dir, 'meta.json');
  }
  get state(): string {
    return join(this.dir, 'state.json');
  }
  get log(): string {
    return join(this.dir, 'log.jsonl');
  }
  get checkpoints(): string {
    return join(this.dir, 'checkpoints');
  }
}

/** Session ids are file names: keep them to a safe alphabet so `--session ../x` cannot escape. */
export function isValidSessionId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(id) && !id.includes('..');
}
