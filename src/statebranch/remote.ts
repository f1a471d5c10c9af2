// Push and pull of the state branch over HTTP(S) with isomorphic-git (CONTRACT §7). The user's
// .git/config never changes: isomorphic-git reads a config that has our remote added in memory,
// and its writes of config, FETCH_HEAD, shallow, index and HEAD are dropped. The remote-tracking
// ref lives at refs/orchestrator/remote/<branch>, out of the way of the user's branches. Fetches
// are never shallow. A rejected push is fetched, merged and retried a bounded number of times;
// nothing is ever forced.
import { spawnSync } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/load.ts';
import { EnvironmentError, OrchestratorError, ExitCode, UsageError } from '../errors.ts';
import { findGitDirs, originUrl, requireGitDirs, type GitDirs } from '../gitstore/git-dir.ts';
import { commitContent, hasLooseObject, parseCommit, parseTree, readLooseObject, writeObject } from '../gitstore/objects.ts';
import { readRef, updateRef, RefMovedError } from '../gitstore/refs.ts';
import type { RepoPaths } from '../store/paths.ts';
import { randomHex } from '../store/random-id.ts';
import { mergeSaves } from './merge.ts';
import { stateRef } from './state-branch.ts';
import { buildTree } from './tree-files.ts';

const REMOTE = 'orchestrator-state-remote';
/** Rounds of fetch, merge and push before giving up; each waits a little longer, with jitter. */
const ATTEMPTS = 60;

export class RemoteRefusedError extends OrchestratorError {
  readonly code = 'REMOTE_REFUSED';
  readonly exitCode = ExitCode.conflict;
}

export class NetworkError extends OrchestratorError {
  readonly code = 'NETWORK';
  readonly exitCode = ExitCode.environment;
}

/** The remote's URL: config state.remote, else origin's; ssh and scp-style forms become https. */
export function remoteUrl(dirs: GitDirs, config: Config | undefined): string {
  let url = config?.get<string>('state.remote') || originUrl(dirs);
  if (!url) throw new UsageError('no remote for the state branch: the repo has no origin; set state.remote to an https URL (orchestrator config or ORCHESTRATOR_STATE_REMOTE)');
  const scp = /^(?:ssh:\/\/)?git@([^:/]+)[:/](.+)$/.exec(url);
  if (scp) url = `https://${scp[1]}/${scp[2]}`;
  if (!/^https?:\/\//.test(url)) throw new UsageError(`state branch remote ${url}: only http(s) URLs are supported; set state.remote to the https URL of the repository`);
  return url;
}

/** Whether the state branch has somewhere to go: state.remote, or an origin in a git repo. */
export function hasStateRemote(paths: RepoPaths, config: Config | undefined): boolean {
  if (config?.get<string>('state.remote')) return true;
  const dirs = findGitDirs(paths.root);
  return dirs !== null && originUrl(dirs) !== null;
}

/** A token from ORCHESTRATOR_GIT_TOKEN, GITHUB_TOKEN or GH_TOKEN, else `git credential fill`. */
export function tokenFor(url: string, env: NodeJS.ProcessEnv): { username: string; password: string } | null {
  const inUrl = /^https?:\/\/([^:@/]+)(?::([^@/]+))?@/.exec(url);
  if (inUrl?.[2]) return { username: decodeURIComponent(inUrl[1]!), password: decodeURIComponent(inUrl[2]) };
  const token = env.ORCHESTRATOR_GIT_TOKEN || env.GITHUB_TOKEN || env.GH_TOKEN;
  if (token) return { username: 'x-access-token', password: token };
  const u = new URL(url);
  const r = spawnSync('git', ['credential', 'fill'], {
    input: `protocol=${u.protocol.replace(':', '')}\nhost=${u.host}\npath=${u.pathname.replace(/^\//, '')}\n\n`,
    encoding: 'utf8',
    timeout: 5000,
    env: { ...env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '' },
  });
  if (r.status !== 0) return null;
  const get = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(r.stdout)?.[1];
  const password = get('password');
  return password ? { username: get('username') || 'x-access-token', password } : null;
}

/** What isomorphic-git sees as the file system: the real one, minus every write outside objects/ and refs/. */
function guardedFs(dirs: GitDirs, url: string, branch: string) {
  const cfgPath = join(dirs.commonDir, 'config');
  const remotePrefix = join(dirs.commonDir, 'refs', 'remotes', REMOTE) + '/';
  const tracking = join(dirs.commonDir, 'refs', 'orchestrator', 'remote') + '/';
  const config = () => {
    let text = '';
    try {
      text = readFileSync(cfgPath, 'utf8');
    } catch {
      // a repo without config is fine
    }
    return `${text}\n[remote "${REMOTE}"]\n\turl = ${url}\n\tfetch = +refs/heads/${branch}:refs/orchestrator/remote/${branch}\n`;
  };
  const redirect = (p: string) => (p.startsWith(remotePrefix) ? tracking + p.slice(remotePrefix.length) : p + '/' === remotePrefix ? tracking.slice(0, -1) : p);
  const droppedPaths = new Set([cfgPath, ...['FETCH_HEAD', 'shallow', 'index', 'HEAD', 'ORIG_HEAD'].map((n) => join(dirs.commonDir, n))]);
  const dropped = (p: string) => droppedPaths.has(p);
  const isObject = (p: string) => p.startsWith(join(dirs.commonDir, 'objects') + '/');
  return {
    promises: {
      readFile: async (p: string, opts?: unknown) => {
        if (p === cfgPath) {
          const text = config();
          return typeof opts === 'string' || (opts as { encoding?: string } | undefined)?.encoding ? text : Buffer.from(text);
        }
        return fsp.readFile(redirect(p), opts as never);
      },
      writeFile: async (p: string, data: Uint8Array | string, opts?: unknown) => {
        if (dropped(p)) return;
        const target = redirect(p);
        await fsp.mkdir(dirname(target), { recursive: true });
        if (!isObject(target)) return fsp.writeFile(target, data, opts as never);
        // Objects and packs: temp file + fsync + rename, so a crash never leaves a torn one.
        const tmp = join(dirname(target), `.tmp-${process.pid}-${randomHex(4)}`);
        const fh = await fsp.open(tmp, 'wx', 0o444);
        try {
          await fh.writeFile(data);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await fsp.rename(tmp, target);
      },
      unlink: async (p: string) => (dropped(p) ? undefined : fsp.unlink(redirect(p))),
      readdir: (p: string, opts?: unknown) => fsp.readdir(redirect(p), opts as never),
      // refs/remotes/<ours> is never made: its refs are redirected (see above).
      mkdir: async (p: string, opts?: unknown) => (remotePrefix.startsWith(p + '/') ? undefined : fsp.mkdir(redirect(p), opts as never)),
      rmdir: (p: string) => fsp.rmdir(redirect(p)),
      stat: (p: string) => fsp.stat(p === cfgPath ? p : redirect(p)),
      lstat: (p: string) => fsp.lstat(p === cfgPath ? p : redirect(p)),
      readlink: (p: string) => fsp.readlink(redirect(p)),
      symlink: async () => undefined,
      chmod: (p: string, mode: number) => fsp.chmod(redirect(p), mode),
    },
  };
}

interface Session {
  dirs: GitDirs;
  ref: string;
  branch: string;
  url: string;
  git: typeof import('isomorphic-git');
  /** isomorphic-git's cache (parsed pack indexes): without it every object read re-reads them. */
  cache: object;
  http: HttpClient;
  fs: ReturnType<typeof guardedFs>;
  headers: Record<string, string>;
}

async function open(paths: RepoPaths, config: Config | undefined, env: NodeJS.ProcessEnv): Promise<Session> {
  const dirs = requireGitDirs(paths.root);
  const ref = stateRef(config);
  const branch = ref.slice('refs/heads/'.length);
  const url = remoteUrl(dirs, config);
  const auth = tokenFor(url, env);
  const bare = url.replace(/^(https?:\/\/)[^@/]+@/, '$1');
  const git = (await import('isomorphic-git')).default ?? (await import('isomorphic-git'));
  const http = (await import('isomorphic-git/http/node')).default ?? (await import('isomorphic-git/http/node'));
  // The token goes in a header on every request: no 401 round trip, and it never lands in config.
  const headers: Record<string, string> = auth ? { Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` } : {};
  return { dirs, ref, branch, url: bare, git: git as never, cache: {}, http: advertiseHead(http as never), fs: guardedFs(dirs, bare, branch), headers };
}

function explain(err: unknown, s: Session, what: 'push' | 'fetch'): Error {
  const e = err as { code?: string; data?: { statusCode?: number }; message?: string };
  const status = e.data?.statusCode ?? Number(/HTTP Error: (\d{3})/.exec(e.message ?? '')?.[1] ?? 0);
  if (status === 403) {
    return new RemoteRefusedError(
      `${s.url} refused to ${what} ${s.ref} (HTTP 403): the remote does not let this token write that branch name. Set state.branch to a branch it accepts (Claude Code on the web only accepts the session's own claude/... branch), or state.remote to a separate repository`,
    );
  }
  if (status === 401) return new RemoteRefusedError(`${s.url} refused the credentials (HTTP 401): set ORCHESTRATOR_GIT_TOKEN (or GITHUB_TOKEN / GH_TOKEN) to a token that can ${what} this repository`);
  if (e.code === 'HttpError' || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|ECONNRESET|socket hang up/.test(e.message ?? '')) {
    return new NetworkError(`cannot reach ${s.url} to ${what} the state branch (${e.message}); check the network, then retry`);
  }
  return err as Error;
}

/** Copies what a fetch brought (in a pack) into loose objects, so the rest reads them without git. */
async function loosen(s: Session, commit: string): Promise<void> {
  const stack = [commit];
  while (stack.length) {
    const oid = stack.pop()!;
    if (hasLooseObject(s.dirs.commonDir, oid)) continue;
    const o = await s.git.readObject({ fs: s.fs, cache: s.cache, gitdir: s.dirs.commonDir, oid, format: 'content' });
    const content = Buffer.from(o.object as Uint8Array);
    writeObject(s.dirs.commonDir, o.type as 'blob' | 'tree' | 'commit', content, oid);
    if (o.type === 'commit') {
      const c = parseCommit(content);
      stack.push(c.tree, ...c.parents);
    } else if (o.type === 'tree') stack.push(...parseTree(content).map((e) => e.oid));
  }
}

/** Fetches the remote branch; returns its commit, or null when the remote has no such branch yet. */
async function fetchRemote(s: Session): Promise<string | null> {
  let head: string | null;
  let pack: string | null = null;
  try {
    const res = await s.git.fetch({ fs: s.fs, cache: s.cache, http: s.http, gitdir: s.dirs.commonDir, remote: REMOTE, ref: s.branch, remoteRef: s.branch, singleBranch: true, tags: false, headers: s.headers });
    head = res.fetchHead;
    // Not in the typings, but returned: where the fetched pack was written.
    pack = (res as { packfile?: string }).packfile ?? null;
  } catch (err) {
    // The branch itself is missing: the remote has no state yet.
    if ((err as { code?: string }).code === 'NotFoundError') return null;
    throw explain(err, s, 'fetch');
  }
  if (!head) return null;
  await loosen(s, head);
  // Everything the pack brought is loose now: drop it, or every fetch (one per push attempt) would
  // leave another small pack for every later read to search.
  if (pack) {
    const path = join(s.dirs.commonDir, pack);
    for (const p of [path.replace(/\.pack$/, '.idx'), path]) await fsp.rm(p, { force: true });
  }
  return head;
}

type HttpClient = typeof import('isomorphic-git/http/node');

/** One pkt-line: four hex digits of length (itself included), then the payload. */
function pktLines(buf: Buffer): { start: number; end: number; payload: string | null }[] {
  const out: { start: number; end: number; payload: string | null }[] = [];
  for (let i = 0; i + 4 <= buf.length; ) {
    const len = parseInt(buf.toString('latin1', i, i + 4), 16);
    if (!Number.isFinite(len)) break;
    const end = len === 0 ? i + 4 : i + len;
    out.push({ start: i, end, payload: len === 0 ? null : buf.toString('latin1', i + 4, end) });
    i = end;
  }
  return out;
}

/**
 * isomorphic-git #1654: a fetch from a remote that advertises no HEAD (a repository holding only
 * the state branch: its HEAD names a branch that does not exist) fails after downloading, before
 * the pack is stored. The ref advertisement gets a HEAD line naming the first ref's commit, which
 * is all isomorphic-git wants from it; nothing else of the exchange changes.
 */
function advertiseHead(http: HttpClient): HttpClient {
  return {
    ...http,
    async request(req) {
      const res = await http.request(req);
      if ((req.method ?? 'GET') !== 'GET' || !/\/info\/refs\?service=git-upload-pack$/.test(req.url) || res.statusCode !== 200) return res;
      const chunks: Uint8Array[] = [];
      for await (const c of res.body as AsyncIterable<Uint8Array>) chunks.push(c);
      const body = Buffer.concat(chunks);
      const lines = pktLines(body);
      const refs = lines.filter((l) => l.payload && /^[0-9a-f]{40} /.test(l.payload));
      if (!refs.length || refs.some((l) => l.payload!.slice(41).split('\0')[0]!.trim() === 'HEAD')) return { ...res, body: [body] };
      const first = refs[0]!;
      const line = `${first.payload!.slice(0, 40)} HEAD\n`;
      const pkt = Buffer.from((line.length + 4).toString(16).padStart(4, '0') + line, 'latin1');
      return { ...res, body: [Buffer.concat([body.subarray(0, first.end), pkt, body.subarray(first.end)])] };
    },
  } as HttpClient;
}

function readLoose(s: Session, oid: string): Buffer {
  const o = readLooseObject(s.dirs.commonDir, oid);
  if (!o) throw new EnvironmentError(`git object ${oid} is missing from ${s.dirs.commonDir}`);
  return o.content;
}

/** The nearest common ancestor of two commits (breadth-first from `b`), or null. */
function mergeBase(s: Session, a: string, b: string): string | null {
  const ofA = new Set<string>();
  for (const stack = [a]; stack.length; ) {
    const c = stack.pop()!;
    if (ofA.has(c)) continue;
    ofA.add(c);
    stack.push(...parseCommit(readLoose(s, c)).parents);
  }
  const seen = new Set<string>();
  for (const queue = [b]; queue.length; ) {
    const c = queue.shift()!;
    if (ofA.has(c)) return c;
    if (seen.has(c)) continue;
    seen.add(c);
    queue.push(...parseCommit(readLoose(s, c)).parents);
  }
  return null;
}

function isAncestor(s: Session, ancestor: string, of: string): boolean {
  const seen = new Set<string>();
  const stack = [of];
  while (stack.length) {
    const c = stack.pop()!;
    if (c === ancestor) return true;
    if (seen.has(c)) continue;
    seen.add(c);
    stack.push(...parseCommit(readLoose(s, c)).parents);
  }
  return false;
}

export interface Integration {
  /** What happened to the local branch. */
  action: 'none' | 'created' | 'fast-forward' | 'merged' | 'ahead';
  local: string | null;
  remote: string | null;
  notes: string[];
}

/** Brings the fetched remote commit into the local branch: create, fast-forward or merge. */
function integrate(s: Session, remote: string | null, author: { name: string; email: string }): Integration {
  const local = readRef(s.dirs.commonDir, s.ref);
  if (!remote || remote === local) return { action: 'none', local, remote, notes: [] };
  if (!local) {
    updateRef(s.dirs.commonDir, s.ref, null, remote);
    return { action: 'created', local: remote, remote, notes: [] };
  }
  if (isAncestor(s, remote, local)) return { action: 'ahead', local, remote, notes: [] };
  if (isAncestor(s, local, remote)) {
    updateRef(s.dirs.commonDir, s.ref, local, remote);
    return { action: 'fast-forward', local: remote, remote, notes: [] };
  }
  const base = mergeBase(s, local, remote);
  const treeOf = (c: string) => parseCommit(readLoose(s, c)).tree;
  const merged = mergeSaves((oid) => readLoose(s, oid), base ? treeOf(base) : null, treeOf(local), treeOf(remote), remote);
  const tree = buildTree(merged.files, (type, content) => writeObject(s.dirs.commonDir, type, content));
  const commit = writeObject(
    s.dirs.commonDir,
    'commit',
    commitContent({ tree, parents: [local, remote], author, time: Math.floor(Date.now() / 1000), message: `orchestrator state merge\n\n${merged.notes.join('\n')}\n` }),
  );
  updateRef(s.dirs.commonDir, s.ref, local, commit);
  return { action: 'merged', local: commit, remote, notes: merged.notes };
}

function authorOf(config: Config | undefined) {
  return { name: config?.get<string>('state.author_name') ?? 'orchestrator', email: config?.get<string>('state.author_email') ?? 'orchestrator@users.noreply.github.com' };
}

export interface PullResult extends Integration {
  url: string;
}

export async function pullState(paths: RepoPaths, config: Config | undefined, env: NodeJS.ProcessEnv): Promise<PullResult> {
  const s = await open(paths, config, env);
  for (let attempt = 1; ; attempt++) {
    try {
      return { ...integrate(s, await fetchRemote(s), authorOf(config)), url: s.url };
    } catch (err) {
      // Another process moved the local branch meanwhile: fetch and try again.
      if (!(err instanceof RefMovedError) || attempt >= ATTEMPTS) throw err;
    }
  }
}

export interface PushResult {
  url: string;
  pushed: string | null;
  attempts: number;
  merged: boolean;
  notes: string[];
}

/** Fetch, integrate, push; a rejected push (someone pushed first) goes round again, at most ATTEMPTS times. */
export async function pushState(paths: RepoPaths, config: Config | undefined, env: NodeJS.ProcessEnv): Promise<PushResult> {
  const s = await open(paths, config, env);
  let merged = false;
  let lastRejection = '';
  const notes: string[] = [];
  for (let attempt = 1; ; attempt++) {
    // Always fetch first: an empty or older local branch must never hide what the remote has.
    const remote = await fetchRemote(s);
    let step: Integration;
    try {
      step = integrate(s, remote, authorOf(config));
    } catch (err) {
      if (err instanceof RefMovedError && attempt < ATTEMPTS) continue;
      throw err;
    }
    merged ||= step.action === 'merged';
    notes.push(...step.notes);
    const local = readRef(s.dirs.commonDir, s.ref);
    if (!local) return { url: s.url, pushed: null, attempts: attempt, merged, notes };
    if (local === remote) return { url: s.url, pushed: local, attempts: attempt, merged, notes };
    try {
      await s.git.push({ fs: s.fs, cache: s.cache, http: s.http, gitdir: s.dirs.commonDir, remote: REMOTE, url: s.url, ref: s.ref, remoteRef: s.ref, force: false, headers: s.headers });
      return { url: s.url, pushed: local, attempts: attempt, merged, notes };
    } catch (err) {
      const e = err as { code?: string; message?: string };
      const rejected = e.code === 'PushRejectedError' || e.code === 'GitPushError' || /failed to update ref|non-fast-forward|fetch first|rejected/.test(e.message ?? '');
      if (!rejected) throw explain(err, s, 'push');
      lastRejection = e.message ?? String(err);
      if (attempt >= ATTEMPTS) {
        throw new RemoteRefusedError(`${s.url}: ${s.ref} kept moving while pushing (${ATTEMPTS} attempts, each fetched and merged first; last: ${lastRejection.trim().replace(/\s+/g, ' ')}); run orchestrator state push again`);
      }
      // Others are pushing too: back off a random, growing while (full jitter), so pushers spread out.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(3000, 100 * 2 ** attempt)));
    }
  }
}

/** Rejects after `ms`: a network step that must not hold up the command (auto-push, session start). */
export function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NetworkError(`${what} took longer than ${Math.round(ms / 1000)} s and was given up`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
