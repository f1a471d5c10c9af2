// A repo's stable id (meta.json `repo_id`): the same in every clone of one repository, whichever
// URL form its origin uses. Derived from the origin URL, else from the root commit, else random.
// The origin is read from .git/config without running git; only a repo without an origin pays
// for one `git rev-list` to find its root commit.
import { findGitDirs, originUrl } from '../gitstore/git-dir.ts';
import { sha256Hex } from '../store/python-json.ts';
import { randomHex } from '../store/random-id.ts';

export type RepoIdSource = 'remote' | 'root_commit' | 'random';

export interface RepoIdentity {
  repo_id: string;
  repo_id_source: RepoIdSource;
  /** The origin URL without credentials, as git has it; null without an origin. */
  remote_url: string | null;
  root_commit: string | null;
}

// Ports that say nothing about which repository it is (the scheme's default).
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', ssh: '22', git: '9418' };
// Hosts whose paths are case-insensitive: `Owner/Repo` and `owner/repo` are one repository.
const CASE_INSENSITIVE_HOSTS = new Set(['github.com']);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * `host[:port]/path` for any form of one repository's URL: https, http, ssh://, git://, git+ssh://
 * and scp-style `user@host:path` give the same string. User names, passwords and tokens, a default
 * port, a trailing `/` and `.git` are dropped; the host is lower-cased. An ssh port is dropped too
 * (an ssh daemon on 2222 serves the same repos as https). Claude Code on the web points origin at a
 * local proxy, `http://local_proxy@127.0.0.1:PORT/git/OWNER/REPO`, whose port changes every
 * session: that is the GitHub repository OWNER/REPO. A local path (or file://) stays a path.
 * Null for an empty string.
 */
export function normalizeRemoteUrl(url: string): string | null {
  const text = url.trim();
  if (!text) return null;
  const parsed = splitUrl(text);
  if (!parsed) {
    const local = text.replace(/^file:\/\//i, '');
    return `file:${local.startsWith('/') ? '/' : ''}${trimRepoPath(local)}`;
  }
  const { scheme } = parsed;
  let host = parsed.host.toLowerCase();
  let port = DEFAULT_PORTS[scheme] === parsed.port || scheme.includes('ssh') ? '' : parsed.port;
  let path = trimRepoPath(parsed.path);
  const proxied = /^git\/([^/]+\/[^/]+)$/.exec(path);
  if (LOOPBACK.has(host) && proxied) {
    host = 'github.com';
    port = '';
    path = proxied[1]!;
  }
  if (CASE_INSENSITIVE_HOSTS.has(host)) path = path.toLowerCase();
  return `${host}${port ? ':' + port : ''}/${path}`;
}

/** scheme, host, port and path of a URL or scp-style address; null for a local path. */
function splitUrl(text: string): { scheme: string; host: string; port: string; path: string } | null {
  const url = /^([a-z][a-z0-9+.-]*):\/\/(?:[^@/]*@)?(\[[^\]]*\]|[^/:?#]*)(?::(\d*))?([^?#]*)/i.exec(text);
  if (url) {
    const scheme = url[1]!.toLowerCase();
    if (scheme === 'file') return null;
    return { scheme, host: url[2]!, port: url[3] ?? '', path: url[4] ?? '' };
  }
  // scp-style: [user@]host:path, where the host has no slash (git's own rule) and is not a drive letter.
  const scp = /^(?:[^@/]+@)?(\[[^\]]*\]|[^/:]{2,}):(.*)$/.exec(text);
  if (scp) return { scheme: 'ssh', host: scp[1]!, port: '', path: scp[2]! };
  return null;
}

function trimRepoPath(path: string): string {
  let p = path.replace(/\/{2,}/g, '/').replace(/^\/+/, '').replace(/\/+$/, '');
  if (p.toLowerCase().endsWith('.git')) p = p.slice(0, -4).replace(/\/+$/, '');
  return p;
}

/** The URL as it may be stored in a file: `https://user:token@host/x` becomes `https://host/x`. */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

export function idFromRemote(url: string): string | null {
  const normal = normalizeRemoteUrl(url);
  return normal ? 'r_' + sha256Hex('git-remote:' + normal).slice(0, 16) : null;
}

export function idFromRootCommit(oid: string): string {
  return 'r_' + sha256Hex('git-root:' + oid).slice(0, 16);
}

/** The origin URL of the repo at `root` (credentials removed), read from .git/config; null without one. */
export function readOrigin(root: string): string | null {
  const dirs = findGitDirs(root);
  const url = dirs ? originUrl(dirs) : null;
  return url ? withoutCredentials(url) : null;
}

/**
 * The first root commit of HEAD's history (sorted, so a history with several roots gives the
 * same one everywhere); null without git, commits or a work tree at `root`.
 */
export function readRootCommit(root: string): string | null {
  if (!findGitDirs(root)) return null;
  // Required on use: `status` loads this module and never needs a child process.
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync('git', ['rev-list', '--max-parents=0', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  if (r.status !== 0) return null;
  return r.stdout.split('\n').filter(Boolean).sort()[0] ?? null;
}

/**
 * The identity the repo at `root` gets now. `random: false` gives null instead of a random id
 * (for describing another repo, where a made-up id would mean nothing). Never writes.
 */
export function deriveRepoIdentity(root: string, opts: { random: false }): RepoIdentity | null;
export function deriveRepoIdentity(root: string, opts?: { random?: true }): RepoIdentity;
export function deriveRepoIdentity(root: string, opts: { random?: boolean } = {}): RepoIdentity | null {
  const remote = readOrigin(root);
  const fromRemote = remote ? idFromRemote(remote) : null;
  if (fromRemote) return { repo_id: fromRemote, repo_id_source: 'remote', remote_url: remote, root_commit: null };
  const rootCommit = readRootCommit(root);
  if (rootCommit) return { repo_id: idFromRootCommit(rootCommit), repo_id_source: 'root_commit', remote_url: remote, root_commit: rootCommit };
  if (opts.random === false) return null;
  return { repo_id: 'r_' + randomHex(8), repo_id_source: 'random', remote_url: remote, root_commit: null };
}
