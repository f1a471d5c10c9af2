// Is `.orchestrator/` this repo's own? A container copied from another repository carries that
// repository's id (and its sessions); `status` warns, `doctor` reports it and `doctor
// --fix-repo-id` gives the repo its own id. Compared like with like: an id made from the root
// commit is checked against the commits this repo holds (adding a remote later changes nothing),
// one made from the remote against today's origin. A random id, a missing origin, a shallow clone
// or a repo without git cannot be judged, and are not reported.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NoWorkflowError } from '../errors.ts';
import { findGitDirs } from '../gitstore/git-dir.ts';
import { hasObject } from '../gitstore/object-presence.ts';
import type { RepoPaths } from '../store/paths.ts';
import { readRepoMeta, writeRepoMeta, type RepoMeta } from '../store/repo-meta.ts';
import { underRepoLock, type RepoContext } from '../store/workflow-session.ts';
import { deriveRepoIdentity, normalizeRemoteUrl, readOrigin, type RepoIdSource } from './repo-id.ts';

export const FIX_REPO_ID = 'orchestrator doctor --fix-repo-id';

/**
 * What the recorded id was derived from. Files from before `repo_id_source` took it from the root
 * commit whenever they recorded one, else at random. Nothing here hashes: node:crypto would cost
 * `status` ~10 ms of start-up (see sha256Hex).
 */
export function recordedSource(meta: RepoMeta): RepoIdSource {
  const s = meta.repo_id_source;
  if (s === 'remote' || s === 'root_commit' || s === 'random') return s;
  return meta.root_commit ? 'root_commit' : 'random';
}

/** One line saying why meta.json belongs to another repository (its subject: meta.json), or null. Reads only. */
export function foreignContainerProblem(paths: RepoPaths, meta: RepoMeta): string | null {
  const source = recordedSource(meta);
  if (source === 'remote') {
    const origin = readOrigin(paths.root);
    const recorded = meta.remote_url ? normalizeRemoteUrl(meta.remote_url) : null;
    if (!origin || !recorded || normalizeRemoteUrl(origin) === recorded) return null;
    return `repo id ${meta.repo_id} comes from origin ${meta.remote_url}, but this repo's origin is ${origin}: .orchestrator/ was copied from another repository (or origin now names another one); give this repo its own id with: ${FIX_REPO_ID}`;
  }
  if (source === 'root_commit' && meta.root_commit) {
    const dirs = findGitDirs(paths.root);
    // A shallow clone lacks its root commit; without git there is nothing to compare.
    if (!dirs || existsSync(join(dirs.commonDir, 'shallow')) || hasObject(dirs.commonDir, meta.root_commit)) return null;
    return `repo id ${meta.repo_id} comes from root commit ${meta.root_commit.slice(0, 12)}, which this repository does not contain: .orchestrator/ was copied from another repository; give this repo its own id with: ${FIX_REPO_ID}`;
  }
  return null;
}

/** The warning `status` prints when meta.json on disk belongs to another repository, else null. */
export function foreignContainerWarning(paths: RepoPaths): string | null {
  let meta: RepoMeta | null;
  try {
    meta = readRepoMeta(paths);
  } catch {
    return null; // a damaged meta.json is doctor's to report
  }
  const problem = meta ? foreignContainerProblem(paths, meta) : null;
  return problem ? `warning: ${paths.rel(paths.meta)}: ${problem}` : null;
}

export interface RepoIdFix {
  from: string;
  to: string;
  source: RepoIdSource;
}

/**
 * `doctor --fix-repo-id`: derives this repo's id again and records it in meta.json (the old one is
 * kept as `previous_repo_id`). Only when the check above finds the container foreign: a repo's id
 * never changes otherwise. Null when there was nothing to fix.
 */
export function fixRepoId(ctx: RepoContext): RepoIdFix | null {
  const { paths } = ctx;
  // Decide before locking: taking the lock creates .orchestrator/locks/, and a no-op writes nothing.
  const before = readRepoMeta(paths);
  if (!before) throw new NoWorkflowError(`${paths.rel(paths.meta)} does not exist; there is no repo id to fix (the next start or init writes one)`);
  if (!foreignContainerProblem(paths, before)) return null;
  return underRepoLock(ctx, () => {
    const meta = readRepoMeta(paths);
    if (!meta || !foreignContainerProblem(paths, meta)) return null;
    const identity = deriveRepoIdentity(paths.root);
    writeRepoMeta(paths, {
      ...meta,
      repo_id: identity.repo_id,
      repo_id_source: identity.repo_id_source,
      remote_url: identity.remote_url,
      root_commit: identity.root_commit,
      previous_repo_id: meta.repo_id,
      repo_id_fixed_at: ctx.now(),
    });
    return { from: meta.repo_id, to: identity.repo_id, source: identity.repo_id_source };
  });
}
