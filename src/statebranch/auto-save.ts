// After a successful command that wrote: in an ephemeral environment (or with state.auto_save)
// the state goes to the state branch at once, so a machine thrown away loses nothing. A failed
// save is reported, never fatal: the command itself succeeded.
import { existsSync } from 'node:fs';
import { detectEnvironment } from '../env/detect.ts';
import { isEphemeral } from '../env/facts.ts';
import { findGitDirs } from '../gitstore/git-dir.ts';
import { underRepoLock, type RepoContext } from '../store/workflow-session.ts';
import { clearPushFailure, recordPushFailure } from './push-record.ts';
import { pushState, within } from './remote.ts';
import { saveState } from './state-branch.ts';

export function wantsAutoSave(ctx: RepoContext): boolean {
  return (isEphemeral(detectEnvironment(ctx.env)) || Boolean(ctx.config?.get<boolean>('state.auto_save'))) && existsSync(ctx.paths.container) && findGitDirs(ctx.paths.root) !== null;
}

/** How long an automatic push may take: the command is done, the agent must not wait on the network. */
const AUTO_PUSH_MS = 5_000;

/** Saves if wanted (and pushes with state.auto_push); returns a notice when that failed, else null. */
export async function autoSave(ctx: RepoContext): Promise<string | null> {
  if (!wantsAutoSave(ctx)) return null;
  try {
    underRepoLock(ctx, () => saveState(ctx.paths, ctx.config, ctx.env));
  } catch (err) {
    return `the automatic save to the state branch failed (${(err as Error).message}); run: orchestrator state save`;
  }
  if (!ctx.config?.get<boolean>('state.auto_push')) return null;
  try {
    await within(AUTO_PUSH_MS, 'the automatic push', pushState(ctx.paths, ctx.config, ctx.env));
    clearPushFailure(ctx.paths);
    return null;
  } catch (err) {
    const error = (err as Error).message;
    recordPushFailure(ctx.paths, { at: ctx.now(), error });
    return `the automatic push of the state branch failed (${error}); the save is kept locally: run orchestrator state push`;
  }
}
