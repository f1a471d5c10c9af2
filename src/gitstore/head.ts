// The commit HEAD points at, read from git's files (no git process: `start` stays cheap).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findGitDirs } from './git-dir.ts';
import { readRef } from './refs.ts';

const OID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** HEAD's commit, or null: not a git work tree at `root`, no commit yet, or files git would not read either. */
export function headCommit(root: string): string | null {
  const dirs = findGitDirs(root);
  if (!dirs) return null;
  try {
    const head = readFileSync(join(dirs.gitDir, 'HEAD'), 'utf8').trim();
    if (OID.test(head)) return head;
    // A worktree's HEAD names a branch; branches live in the common directory.
    return head.startsWith('ref: ') ? readRef(dirs.commonDir, head.slice(5).trim()) : null;
  } catch {
    return null;
  }
}
