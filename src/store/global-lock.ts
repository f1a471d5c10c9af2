// The lock for read-modify-writes of files in the global directory (config.yaml, repos.json, the
// global secrets store): several repos' commands may run at once on one machine.
import { join } from 'node:path';
import { globalDir } from '../config/load.ts';
import { DEFAULT_LOCK_TIMEOUT_S } from './workflow-session.ts';
import { withLock } from './lock.ts';

export function globalLockPath(env: NodeJS.ProcessEnv): string {
  return join(globalDir(env), 'locks', 'global.lock');
}

export function underGlobalLock<T>(env: NodeJS.ProcessEnv, command: string, fn: () => T, timeoutS = DEFAULT_LOCK_TIMEOUT_S): T {
  return withLock(globalLockPath(env), { timeoutMs: timeoutS * 1000, command }, fn);
}
