// Where a repository keeps its objects and refs, read from the files git itself reads: `.git` is
// a directory, or a file `gitdir: PATH` (worktrees, submodules); a linked worktree's gitdir has a
// `commondir` naming the shared directory that holds objects/ and refs/heads/.
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EnvironmentError } from '../errors.ts';

export interface GitDirs {
  /** The worktree's own git directory (HEAD, index). */
  gitDir: string;
  /** Objects, refs/heads, packed-refs, config. */
  commonDir: string;
}

/** The repo's git directories, or null when `root` is not a git work tree. */
export function findGitDirs(root: string): GitDirs | null {
  const dotGit = join(root, '.git');
  let gitDir: string;
  try {
    if (statSync(dotGit).isDirectory()) gitDir = dotGit;
    else {
      const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, 'utf8'));
      if (!m) return null;
      gitDir = resolve(root, m[1]!);
    }
  } catch {
    return null;
  }
  let commonDir = gitDir;
  try {
    commonDir = resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim());
  } catch {
    // not a linked worktree
  }
  return { gitDir, commonDir };
}

/** Like findGitDirs, but a repo without git is an environment error naming the fix. */
export function requireGitDirs(root: string): GitDirs {
  const dirs = findGitDirs(root);
  if (!dirs) throw new EnvironmentError(`${root}: not a git repository, so there is no object store for the state branch; run git init first (or work without a state branch)`);
  const config = readText(join(dirs.commonDir, 'config'));
  if (config && /^\s*objectformat\s*=\s*sha256\s*$/im.test(config)) {
    throw new EnvironmentError(`${root}: a SHA-256 git repository; the state branch supports SHA-1 repositories only`);
  }
  return dirs;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The `url` of `[remote "origin"]` in the repo's git config, read without git. */
export function originUrl(dirs: GitDirs): string | null {
  const text = readText(join(dirs.commonDir, 'config'));
  if (!text) return null;
  let inOrigin = false;
  for (const line of text.split('\n')) {
    const section = /^\s*\[\s*remote\s+"([^"]*)"\s*\]/.exec(line);
    if (section) inOrigin = section[1] === 'origin';
    else if (/^\s*\[/.test(line)) inOrigin = false;
    else if (inOrigin) {
      const m = /^\s*url\s*=\s*(.+?)\s*$/.exec(line);
      if (m) return m[1]!;
    }
  }
  return null;
}
