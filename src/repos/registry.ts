// repos.json in the global directory: every repo a writing command succeeded in, for `repos list`
// and `repos status`. Read-modify-writes hold the global lock and replace the file atomically; it
// keeps the MAX_REPOS most recently seen repos. It is a convenience: a global directory that
// cannot be written (an ephemeral sandbox) never fails a command, and says so once per repo.
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import * as z from 'zod/mini';
import { globalDir } from '../config/load.ts';
import { CorruptFileError, LockTimeoutError, OrchestratorError, environmentErrorFrom } from '../errors.ts';
import { writeFileAtomic } from '../store/atomic-file.ts';
import { parseJsonText } from '../store/file-reads.ts';
import { underGlobalLock } from '../store/global-lock.ts';
import type { RepoPaths } from '../store/paths.ts';
import { readRepoMeta } from '../store/repo-meta.ts';
import type { RepoContext } from '../store/workflow-session.ts';
import { compareText } from '../text-order.ts';

export const REGISTRY_VERSION = 1;
export const MAX_REPOS = 500;
/** A repo seen this recently is not written again: most commands then only read the file. */
export const REFRESH_AFTER_MS = 60_000;
/** The global lock is held for a few milliseconds; waiting longer would only delay the command. */
const LOCK_WAIT_S = 2;

const KnownRepoSchema = z.looseObject({
  root: z.string(),
  repo_id: z.string(),
  name: z.string(),
  first_seen: z.string(),
  last_seen: z.string(),
});
export type KnownRepo = z.infer<typeof KnownRepoSchema>;

const RegistrySchema = z.looseObject({ version: z.number(), repos: z.array(KnownRepoSchema) });
export type Registry = z.infer<typeof RegistrySchema>;

export function registryPath(env: NodeJS.ProcessEnv): string {
  return join(globalDir(env), 'repos.json');
}

/** The registry; an empty one when the file does not exist. Throws CorruptFileError naming the fix. */
export function readRegistry(path: string): Registry {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    // ENOTDIR: the global directory is a file's child; nothing was ever recorded there.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { version: REGISTRY_VERSION, repos: [] };
    throw environmentErrorFrom(err, path);
  }
  const fix = 'delete it: each repo is listed again after its next writing command';
  const parsed = RegistrySchema.safeParse(parseJsonText(text, path, fix));
  if (!parsed.success) throw new CorruptFileError(`${path}: not a repos registry (${parsed.error.issues[0]!.path.join('.') || '(root)'}: ${parsed.error.issues[0]!.message}); ${fix}`, { path });
  if (parsed.data.version > REGISTRY_VERSION) {
    throw new CorruptFileError(`${path}: version ${parsed.data.version} was written by a newer orchestrator; update this one (or ${fix})`, { path });
  }
  return parsed.data;
}

/** The registry with `repo` seen at `now`: one entry per root, most recent first, at most MAX_REPOS. */
export function withRepoSeen(reg: Registry, repo: { root: string; repo_id: string }, now: string): Registry {
  const old = reg.repos.find((r) => r.root === repo.root);
  const entry: KnownRepo = {
    ...old,
    root: repo.root,
    repo_id: repo.repo_id,
    name: basename(repo.root) || repo.root,
    first_seen: old && old.repo_id === repo.repo_id ? old.first_seen : now,
    last_seen: now,
  };
  const rest = reg.repos.filter((r) => r.root !== repo.root).sort((a, b) => compareText(b.last_seen, a.last_seen));
  return { ...reg, version: REGISTRY_VERSION, repos: [entry, ...rest].slice(0, MAX_REPOS) };
}

/** Why the global directory cannot be used at all, or null. Its parent is never invented: no home, no registry. */
function globalDirUnavailable(env: NodeJS.ProcessEnv): string | null {
  if (env.ORCHESTRATOR_HOME || env.XDG_CONFIG_HOME) return null;
  const home = env.HOME || homedir();
  return existsSync(home) ? null : `the home directory ${home} does not exist`;
}

/**
 * After a successful writing command: records the repo in repos.json. Returns a notice for stderr
 * when that was not possible (shown once per repo and problem), else null. Never throws.
 */
export function rememberRepo(ctx: RepoContext): string | null {
  const { paths, env } = ctx;
  let repoId: string;
  try {
    const meta = readRepoMeta(paths);
    if (!meta) return null;
    repoId = meta.repo_id;
  } catch {
    return null; // a damaged meta.json is doctor's to report
  }
  const path = registryPath(env);
  const now = ctx.now();
  try {
    const unavailable = globalDirUnavailable(env);
    if (unavailable) return noticeOnce(paths, `${path}: not written, ${unavailable}`);
    const seen = readRegistry(path).repos.find((r) => r.root === paths.root);
    if (seen && seen.repo_id === repoId && Date.parse(now) - Date.parse(seen.last_seen) < REFRESH_AFTER_MS) return null;
    underGlobalLock(env, ctx.command, () => {
      writeFileAtomic(path, JSON.stringify(withRepoSeen(readRegistry(path), { root: paths.root, repo_id: repoId }, now), null, 2) + '\n');
    }, LOCK_WAIT_S);
    forgetNotice(paths);
    return null;
  } catch (err) {
    if (err instanceof LockTimeoutError) return null; // busy: the next command records it
    const why = err instanceof OrchestratorError ? err.message : String(err);
    return noticeOnce(paths, why.startsWith(path) ? why : `${path}: ${why}`);
  }
}

// The marker is machine-local (cache/) and holds the last notice shown, so an unwritable global
// directory is reported once, not after every command; a different problem is reported again.
function noticeMarker(paths: RepoPaths): string {
  return join(paths.cacheDir, 'repos-registry-notice');
}

function noticeOnce(paths: RepoPaths, problem: string): string | null {
  const notice = `note: this repo is not recorded for orchestrator repos (${problem}); set ORCHESTRATOR_HOME to a writable directory to record it`;
  try {
    if (readFileSync(noticeMarker(paths), 'utf8') === notice) return null;
  } catch {
    // not shown yet
  }
  try {
    writeFileAtomic(noticeMarker(paths), notice);
  } catch {
    // cannot remember it: shown again next time
  }
  return notice;
}

function forgetNotice(paths: RepoPaths): void {
  try {
    unlinkSync(noticeMarker(paths));
  } catch {
    // none
  }
}
