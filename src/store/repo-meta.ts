// `.orchestrator/` itself: its .gitignore, meta.json with the stable repo id, created on first write.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { CorruptFileError, environmentErrorFrom } from '../errors.ts';
import { VERSION } from '../version.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { randomHex } from './random-id.ts';
import { sha256Hex } from './python-json.ts';
import type { RepoPaths } from './paths.ts';

export const LAYOUT = 'contained-v1';

export const RepoMetaSchema = z.looseObject({
  layout: z.string(),
  repo_id: z.string(),
  created_at: z.string(),
  created_with: z.string(),
  remote_url: z.optional(z.nullable(z.string())),
  root_commit: z.optional(z.nullable(z.string())),
});
export type RepoMeta = z.infer<typeof RepoMetaSchema>;

/** Everything ignored: deleting `.orchestrator/` uninstalls, and `git status` never shows it. */
export const DEFAULT_GITIGNORE = '*\n';

export function readRepoMeta(paths: RepoPaths): RepoMeta | null {
  let text: string;
  try {
    text = readFileSync(paths.meta, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw environmentErrorFrom(err, paths.rel(paths.meta));
  }
  const parsed = (() => {
    try {
      return RepoMetaSchema.safeParse(JSON.parse(text));
    } catch {
      return null;
    }
  })();
  if (!parsed?.success) {
    throw new CorruptFileError(
      `${paths.rel(paths.meta)}: not valid repo metadata; delete it and the next command writes a fresh one (the repo id is derived from git again)`,
    );
  }
  return parsed.data;
}

/**
 * Makes `.orchestrator/` exist with its .gitignore (first, so nothing ever shows in `git status`)
 * and meta.json. Called by writing commands only, under the repo lock.
 */
export function ensureContainer(paths: RepoPaths, now: string): RepoMeta {
  try {
    mkdirSync(paths.container, { recursive: true });
  } catch (err) {
    throw environmentErrorFrom(err, paths.rel(paths.container));
  }
  if (!existsSync(paths.gitignore)) writeFileAtomic(paths.gitignore, DEFAULT_GITIGNORE);
  const existing = readRepoMeta(paths);
  if (existing) return existing;
  const git = gitFacts(paths.root);
  const meta: RepoMeta = {
    layout: LAYOUT,
    repo_id: git.rootCommit
      ? 'r_' + sha256Hex('git-root:' + git.rootCommit).slice(0, 16)
      : 'r_' + randomHex(8),
    created_at: now,
    created_with: `orchestrator ${VERSION}`,
    remote_url: git.remoteUrl,
    root_commit: git.rootCommit,
  };
  writeFileAtomic(paths.meta, JSON.stringify(meta, null, 2) + '\n');
  return meta;
}

/**
 * The repo id must be the same in every clone, so it comes from the first root commit. A repo with
 * no commits (or no git) gets a random id, kept in meta.json from then on.
 */
function gitFacts(root: string): { rootCommit: string | null; remoteUrl: string | null } {
  if (!existsSync(`${root}/.git`)) return { rootCommit: null, remoteUrl: null };
  const run = (args: string[]) => {
    const r = spawnSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return r.status === 0 ? r.stdout.trim() : '';
  };
  const roots = run(['rev-list', '--max-parents=0', 'HEAD']).split('\n').filter(Boolean).sort();
  const remote = run(['config', '--get', 'remote.origin.url']);
    // A token embedded in the URL must never be copied into a file.
  const safeRemote = remote.replace(/^([a-z+]+:\/\/)[^/@]*@/i, '$1');
  return { rootCommit: roots[0] ?? null, remoteUrl: safeRemote || null };
}
