// What `env` reports: the kind of machine, whether home and the global directory are writable,
// whether git is there, the repo's remote, and the storage strategy that follows (CONTRACT §7).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import type { Config } from '../config/load.ts';
import { globalDir } from '../config/load.ts';
import { findGitDirs, originUrl } from '../gitstore/git-dir.ts';
import type { RepoPaths } from '../store/paths.ts';
import { detectEnvironment, type EnvironmentKind } from './detect.ts';

const LABELS: Record<EnvironmentKind, string> = {
  'claude-code-web': 'Claude Code on the web',
  codespaces: 'GitHub Codespaces',
  gitpod: 'Gitpod',
  'github-actions': 'GitHub Actions',
  ci: 'CI',
  local: 'local machine',
};

/** Machines that are thrown away: their state must leave on the state branch. */
export function isEphemeral(kind: EnvironmentKind): boolean {
  return kind !== 'local';
}

function writable(dir: string): boolean {
  // The nearest existing ancestor decides whether the directory can be made.
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(d)) {
      try {
        accessSync(d, constants.W_OK);
        return true;
      } catch {
        return false;
      }
    }
    if (dirname(d) === d) return false;
  }
}

/** `https://user:token@host/x` -> `https://***@host/x`: a remote URL may carry a token. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]+@/i, '$1***@');
}

export interface EnvFacts {
  environment: EnvironmentKind;
  label: string;
  ephemeral: boolean;
  home: { path: string; writable: boolean };
  global_dir: { path: string; writable: boolean };
  git: { installed: boolean; version: string | null; repository: boolean };
  remote_url: string | null;
  /** Names of the environment variables that could give a push token (never their values). */
  token_sources: string[];
  strategy: 'contained' | 'contained + state branch';
  state_branch: string;
  auto_save: boolean;
  auto_push: boolean;
}

export function envFacts(paths: RepoPaths, env: NodeJS.ProcessEnv, config: Config | undefined): EnvFacts {
  const kind = detectEnvironment(env);
  const home = env.HOME || homedir();
  const g = spawnSync('git', ['--version'], { encoding: 'utf8' });
  const gitVersion = g.status === 0 ? g.stdout.trim().replace(/^git version /, '') : null;
  const dirs = findGitDirs(paths.root);
  const repository = dirs !== null;
  const autoSave = isEphemeral(kind) || Boolean(config?.get<boolean>('state.auto_save'));
  return {
    environment: kind,
    label: LABELS[kind],
    ephemeral: isEphemeral(kind),
    home: { path: home, writable: writable(home) },
    global_dir: { path: globalDir(env), writable: writable(globalDir(env)) },
    git: { installed: gitVersion !== null, version: gitVersion, repository },
    remote_url: dirs ? maskUrl(originUrl(dirs) ?? '') || null : null,
    token_sources: ['ORCHESTRATOR_GIT_TOKEN', 'GITHUB_TOKEN', 'GH_TOKEN'].filter((n) => env[n]),
    strategy: autoSave && repository ? 'contained + state branch' : 'contained',
    state_branch: config?.get<string>('state.branch') ?? 'orchestrator-state',
    auto_save: autoSave && repository,
    auto_push: Boolean(config?.get<boolean>('state.auto_push')),
  };
}
