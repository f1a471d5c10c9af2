// The files a workflow changed, as git sees them: tracked files that differ between the commit the
// workflow started from and the working tree (committed since, staged or not), plus untracked files
// that are not ignored. Runs the git binary read-only (GIT_OPTIONAL_LOCKS=0: not even the index's
// stat cache is refreshed on disk). Without git, or outside a work tree, the list is empty.
import { spawnSync } from 'node:child_process';
import type { WorkflowState } from '../engine/workflow-state.ts';

export interface ChangedFiles {
  files: string[];
  /** What the diff was taken against, for reports. */
  base: { commit: string | null; from: 'recorded at start' | 'last commit before the start' | 'empty tree' | 'HEAD' | 'no git' };
}

const OID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** Paths of the tool's own files, which are state, not work. */
function isToolFile(p: string): boolean {
  return p.startsWith('.orchestrator/') || p.startsWith('.workflow_');
}

export function filesChangedSinceStart(root: string, state: WorkflowState, env: NodeJS.ProcessEnv): ChangedFiles {
  const git = (args: string[]) => {
    const r = spawnSync('git', ['-c', 'core.quotepath=off', ...args], {
      cwd: root,
      env: { ...env, GIT_OPTIONAL_LOCKS: '0' },
      encoding: 'utf8',
      timeout: 15_000,
      maxBuffer: 64 << 20,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return r.error || r.status !== 0 ? null : r.stdout;
  };
  if (git(['rev-parse', '--is-inside-work-tree'])?.trim() !== 'true') return { files: [], base: { commit: null, from: 'no git' } };
  const base = baseCommit(state, git);
  const diffed = git(['diff', '--name-only', '-z', '--no-renames', '--relative', base.commit ?? 'HEAD', '--']);
  const untracked = git(['ls-files', '--others', '--exclude-standard', '-z']);
  const files = new Set<string>();
  for (const out of [diffed, untracked]) for (const p of (out ?? '').split('\0')) if (p && !isToolFile(p)) files.add(p);
  return { files: [...files].sort(), base };
}

/**
 * The commit to diff against: the HEAD `start` recorded, else the last commit made before the
 * workflow's `created_at` (states of the Python tool and of earlier versions record no commit),
 * else the empty tree (every commit came after the start). Without a start time: HEAD, so only
 * uncommitted work counts.
 */
function baseCommit(state: WorkflowState, git: (args: string[]) => string | null): ChangedFiles['base'] {
  const recorded = state.metadata?.git_head_at_start;
  if (typeof recorded === 'string' && OID.test(recorded) && git(['cat-file', '-e', `${recorded}^{commit}`]) !== null) {
    return { commit: recorded, from: 'recorded at start' };
  }
  const started = typeof state.created_at === 'string' ? state.created_at : null;
  if (!started) return { commit: null, from: 'HEAD' };
  const before = git(['rev-list', '-1', `--before=${started}`, 'HEAD'])?.trim();
  if (before) return { commit: before, from: 'last commit before the start' };
  const empty = git(['hash-object', '-t', 'tree', '--stdin'])?.trim();
  return { commit: empty || null, from: 'empty tree' };
}
