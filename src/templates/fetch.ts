// The folder a template is read from: a local one as it is, or a shallow clone of a git URL made
// with isomorphic-git in a temporary directory that is always removed afterwards. Credentials
// (ORCHESTRATOR_GIT_TOKEN, GITHUB_TOKEN, GH_TOKEN, else `git credential fill`) are only sent when
// the server asks for them (HTTP 401), so a public template host never sees the user's token.
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsafePathError, UsageError } from '../errors.ts';
import { NetworkError, RemoteRefusedError, tokenFor } from '../statebranch/remote.ts';
import type { TemplateSource } from './source.ts';

export interface TemplateFolder {
  /** The template's own folder (the clone's SUBDIR for a git URL). */
  dir: string;
  /** The commit a git template was read at. */
  commit: string | null;
}

/** Runs `use` on the template's folder; a temporary clone is removed whatever happens. */
export async function withTemplateFolder<T>(source: TemplateSource, env: NodeJS.ProcessEnv, use: (folder: TemplateFolder) => T | Promise<T>): Promise<T> {
  if (source.kind !== 'git') {
    requireFolder(source);
    return use({ dir: source.dir, commit: null });
  }
  const tmp = fs.mkdtempSync(join(tmpdir(), 'orchestrator-template-'));
  // A signal ends the process through process.exit, which skips `finally` but not 'exit' handlers.
  const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
  process.on('exit', cleanup);
  try {
    const commit = await clone(source, env, tmp);
    return await use({ dir: subdirOf(source, tmp), commit });
  } finally {
    cleanup();
    process.off('exit', cleanup);
  }
}

function requireFolder(source: Extract<TemplateSource, { kind: 'folder' | 'global' }>): void {
  let isDir = false;
  try {
    isDir = fs.statSync(source.dir).isDirectory();
  } catch {
    // missing: reported below
  }
  if (isDir) return;
  if (source.kind === 'global') {
    throw new UsageError(`--template ${source.shown}: no template of that name in ${join(source.dir, '..')}; put a folder holding workflow.yaml there, or give a path (--template ./${source.shown})`);
  }
  throw new UsageError(`--template ${source.shown}: no such folder (${source.dir}); give the folder holding the template's workflow.yaml`);
}

async function clone(source: Extract<TemplateSource, { kind: 'git' }>, env: NodeJS.ProcessEnv, dir: string): Promise<string> {
  const git = (await import('isomorphic-git')).default ?? (await import('isomorphic-git'));
  const http = (await import('isomorphic-git/http/node')).default ?? (await import('isomorphic-git/http/node'));
  // Credentials in the URL would be written to the clone's .git/config: they go through onAuth.
  const bare = source.url.replace(/^(https?:\/\/)[^@/]+@/i, '$1');
  let offered = false;
  try {
    await git.clone({
      fs,
      http,
      dir,
      url: bare,
      ...(source.ref ? { ref: source.ref } : {}),
      singleBranch: true,
      depth: 1,
      onAuth: () => {
        const auth = tokenFor(source.url, env);
        offered = auth !== null;
        return auth ?? undefined;
      },
    });
    return await git.resolveRef({ fs, dir, ref: 'HEAD' });
  } catch (err) {
    throw explain(err, source, offered);
  }
}

function explain(err: unknown, source: Extract<TemplateSource, { kind: 'git' }>, offered: boolean): Error {
  const e = err as { code?: string; data?: { statusCode?: number }; message?: string };
  const what = `--template ${source.shown}`;
  const detail = (e.message ?? String(err)).replace(/\s+/g, ' ').trim();
  const status = e.data?.statusCode ?? 0;
  if (status === 401) {
    return new RemoteRefusedError(
      offered
        ? `${what}: the server refused the credentials (HTTP 401); set ORCHESTRATOR_GIT_TOKEN (or GITHUB_TOKEN / GH_TOKEN) to a token that can read that repository`
        : `${what}: the server asks for credentials (HTTP 401); set ORCHESTRATOR_GIT_TOKEN (or GITHUB_TOKEN / GH_TOKEN) to a token that can read that repository`,
    );
  }
  if (status === 403) return new RemoteRefusedError(`${what}: the server refused access (HTTP 403); use a token that can read that repository`);
  if (status === 404) return new UsageError(`${what}: no git repository at that URL (HTTP 404); check the URL (a private repository may need ORCHESTRATOR_GIT_TOKEN)`);
  if (e.code === 'NotFoundError') {
    return new UsageError(
      source.ref
        ? `${what}: the repository has no branch or tag "${source.ref}"; check the #REF part`
        : `${what}: the repository has no default branch; name a branch or tag with #REF`,
    );
  }
  if (e.code === 'UnsafeFilepathError') return new UnsafePathError(`${what}: the repository holds an unsafe file path (${detail}); it is refused`);
  if (e.code === 'SmartHttpError' || e.code === 'ParseError') return new UsageError(`${what}: the server did not answer as a git repository (${detail}); check the URL`);
  if (e.code === 'HttpError' || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ENETUNREACH|socket hang up/.test(detail)) {
    return new NetworkError(`${what}: cannot reach the server (${detail}); check the network and the URL, then retry`);
  }
  return err as Error;
}

/** The template's folder inside the clone; a symlink on the way is refused, not followed. */
function subdirOf(source: Extract<TemplateSource, { kind: 'git' }>, clone: string): string {
  if (!source.subdir) return clone;
  let dir = clone;
  for (const part of source.subdir.split('/')) {
    dir = join(dir, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(dir);
    } catch {
      throw new UsageError(`--template ${source.shown}: the repository has no folder ${source.subdir}${source.ref ? ` at ${source.ref}` : ''}; check the :SUBDIR part`);
    }
    if (st.isSymbolicLink()) throw new UnsafePathError(`--template ${source.shown}: ${source.subdir} goes through a symlink (${part}); templates may not contain symlinks`);
    if (!st.isDirectory()) throw new UsageError(`--template ${source.shown}: ${source.subdir} is not a folder in the repository; check the :SUBDIR part`);
  }
  return dir;
}
