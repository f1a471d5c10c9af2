// After a successful command that wrote: in an ephemeral environment (or with state.auto_save)
// the state goes to the state branch at once, so a machine thrown away loses nothing. A failed
// save is reported, never fatal: the command itself succeeded.
import { existsSync } from 'node:fs';
import { detectEnvironment } from '../env/detect.ts';
import { isEphemeral } from '../env/facts.ts';
import { findGitDirs } from '../gitstore/git-dir.ts';
import { underRepoLock, type RepoContext } from '../store/workflow-session.ts';
import { saveState } from './state-branch.ts';

export function wantsAutoSave(ctx: RepoContext): boolean {
  return (isEphemeral(detectEnvironment(ctx.env)) || Boolean(ctx.config?.get<boolean>('state.auto_save'))) && existsSync(ctx.paths.container) && findGitDirs(ctx.paths.root) !== null;
}

/** Saves if wanted; returns a notice when the save failed, else null. */
export function autoSave(ctx: RepoContext): string | null {
  if (!wantsAutoSave(ctx)) return null;
  try {
    underRepoLock(ctx, () => saveState(ctx.paths, ctx.config, ctx.env));
    return null;
  } catch (err) {
    return `the automatic save to the state branch failed (${(err as Error).message}); run: orchestrator state save`;
  }
}
