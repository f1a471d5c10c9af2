// `.orchestrator/` itself: its .gitignore, meta.json with the stable repo id, created on first write.
import { existsSync, mkdirSync } from 'node:fs';
import * as z from 'zod/mini';
import { CorruptFileError, environmentErrorFrom } from '../errors.ts';
import { deriveRepoIdentity } from '../repos/repo-id.ts';
import { VERSION } from '../version.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { readTextIfExists } from './file-reads.ts';
import type { RepoPaths } from './paths.ts';

export const LAYOUT = 'contained-v1';

export const RepoMetaSchema = z.looseObject({
  layout: z.string(),
  repo_id: z.string(),
  /** What the id was derived from: remote, root_commit or random (absent in files from before). */
  repo_id_source: z.optional(z.string()),
  created_at: z.string(),
  created_with: z.string(),
  remote_url: z.optional(z.nullable(z.string())),
  root_commit: z.optional(z.nullable(z.string())),
});
export type RepoMeta = z.infer<typeof RepoMetaSchema>;

/** Everything ignored: deleting `.orchestrator/` uninstalls, and `git status` never shows it. */
export const DEFAULT_GITIGNORE = '*\n';

export function readRepoMeta(paths: RepoPaths): RepoMeta | null {
  const text = readTextIfExists(paths.meta, paths.rel(paths.meta));
  if (text === null) return null;
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
  const identity = deriveRepoIdentity(paths.root);
  const meta: RepoMeta = {
    layout: LAYOUT,
    repo_id: identity.repo_id,
    repo_id_source: identity.repo_id_source,
    created_at: now,
    created_with: `orchestrator ${VERSION}`,
    remote_url: identity.remote_url,
    root_commit: identity.root_commit,
  };
  writeRepoMeta(paths, meta);
  return meta;
}

export function writeRepoMeta(paths: RepoPaths, meta: RepoMeta): void {
  writeFileAtomic(paths.meta, JSON.stringify(meta, null, 2) + '\n');
}
