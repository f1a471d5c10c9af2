// The last source for git-host tokens: whatever credential helper git is configured with
// (`git credential fill`). It must never wait for a human: no terminal prompt, no askpass program,
// stdin closed after the request, and a time limit.
import { spawnSync } from 'node:child_process';
import { findGitDirs, originUrl } from '../gitstore/git-dir.ts';

/** Names that hold a token for a git host, and the host to ask for (null: the origin's host). */
const TOKEN_HOSTS: Record<string, string | null> = {
  GITHUB_TOKEN: 'github.com',
  GH_TOKEN: 'github.com',
  GITLAB_TOKEN: 'gitlab.com',
  ORCHESTRATOR_GIT_TOKEN: null,
  GIT_TOKEN: null,
};

export function isGitTokenName(name: string): boolean {
  return Object.hasOwn(TOKEN_HOSTS, name);
}

export const GIT_TOKEN_NAMES = Object.keys(TOKEN_HOSTS);

/** The host `git credential fill` is asked about for a token name. */
export function credentialHost(name: string, root: string): string {
  const fixed = TOKEN_HOSTS[name];
  if (fixed) return fixed;
  const dirs = findGitDirs(root);
  const url = dirs ? originUrl(dirs) : null;
  const host = url ? (/^[a-z+]+:\/\/(?:[^@/]*@)?([^/:]+)/i.exec(url)?.[1] ?? /^(?:[^@/]+@)?([^:/]+):/.exec(url)?.[1]) : undefined;
  return host ?? 'github.com';
}

/** The password git's credential helpers hold for https://host, or null. */
export function gitCredentialFill(host: string, cwd: string, env: NodeJS.ProcessEnv): string | null {
  const r = spawnSync('git', ['credential', 'fill'], {
    cwd,
    input: `protocol=https\nhost=${host}\n\n`,
    encoding: 'utf8',
    timeout: 5000,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '', GCM_INTERACTIVE: 'never' },
  });
  if (r.error || r.status !== 0) return null;
  const password = /^password=(.*)$/m.exec(r.stdout)?.[1];
  return password || null;
}
