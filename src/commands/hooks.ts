// `hooks install|uninstall|status|session-start`: the Claude Code SessionStart hook that brings a
// fresh session's workflow state back and tells the agent where the workflow stands.
import { existsSync } from 'node:fs';
import { str } from '../cli/args.ts';
import { OrchestratorError, UsageError } from '../errors.ts';
import { findGitDirs } from '../gitstore/git-dir.ts';
import { readRef } from '../gitstore/refs.ts';
import { defaultCommand, hookStatus, installHook, uninstallHook } from '../hooks/claude-settings.ts';
import { hasStateRemote, pullState, within } from '../statebranch/remote.ts';
import { restoreState, stateRef } from '../statebranch/state-branch.ts';
import { underRepoLock, type RepoContext } from '../store/workflow-session.ts';
import { run as workflowStatus } from './status.ts';
import type { CommandInput, CommandResult } from './types.ts';

export function install({ args, ctx }: CommandInput): CommandResult {
  const given = str(args, 'command');
  if (given !== undefined && !given.trim()) throw new UsageError('--command is empty; give how the hook runs orchestrator, e.g. --command "npx orchestrator"');
  const cmd = given?.trim() ?? defaultCommand(ctx.paths.root, process.argv[1], ctx.env);
  const r = installHook(ctx.paths.root, cmd);
  const what = !r.changed ? 'already installed' : r.replaced ? `replaced (was: ${r.replaced})` : 'installed';
  return {
    data: { ok: true, file: r.file, changed: r.changed, installed: true, command: r.command, replaced: r.replaced },
    text: `SessionStart hook ${what} in ${r.file}: ${r.command}${r.changed ? `\nNEXT: commit ${r.file} so every session runs it` : ''}`,
  };
}

export function uninstall({ ctx }: CommandInput): CommandResult {
  const r = uninstallHook(ctx.paths.root);
  return {
    data: { ok: true, file: r.file, changed: r.changed, removed: r.removed },
    text: r.changed ? `Removed the SessionStart hook from ${r.file}: ${r.removed.join(', ')}` : `No orchestrator hook in ${r.file}: nothing to do.`,
  };
}

export function status({ ctx }: CommandInput): CommandResult {
  const s = hookStatus(ctx.paths.root);
  return {
    data: { ok: true, file: s.file, exists: s.exists, installed: s.installed, command: s.command },
    text: s.installed ? `installed in ${s.file}: ${s.command}` : `not installed (${s.file}${s.exists ? '' : ' does not exist'}); install with: orchestrator hooks install`,
  };
}

/**
 * What the hook runs. Silent in a repo that never used orchestrator; otherwise pull, restore and
 * report, each failure one notice. Always exit 0: a hook must never block a session.
 */
/** How long the session-start pull may take before the session goes on without it. */
const PULL_LIMIT_MS = 15_000;

export async function sessionStart(input: CommandInput): Promise<CommandResult> {
  const { ctx } = input;
  const text: string[] = [];
  const notices: string[] = [];
  const why = (what: string, err: unknown) =>
    err instanceof OrchestratorError ? `${what}: ${err.message}` : `${what}: internal error: ${(err as Error)?.message ?? String(err)}`;
  const attempt = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      notices.push(why(what, err));
    }
  };
  // A new machine has no local state yet: what the last one saved is on the remote. The hook is
  // installed only in repos that use orchestrator, so the fetch is expected; it is bounded.
  let pullFailed: string | null = null;
  if (hasStateRemote(ctx.paths, ctx.config)) {
    try {
      await within(PULL_LIMIT_MS, 'state pull', pullState(ctx.paths, ctx.config, ctx.env));
    } catch (err) {
      pullFailed = why('state pull', err);
    }
  }
  const hasBranch = stateBranchExists(ctx);
  if (!hasBranch && !existsSync(ctx.paths.container)) return { data: null, text: '' };
  if (pullFailed) notices.push(pullFailed);
  if (hasBranch) {
    attempt('state restore', () => {
      const r = underRepoLock(ctx, () => restoreState(ctx.paths, ctx.config));
      if (r.restored) text.push(`Restored ${r.files} files of .orchestrator/ from the state branch (commit ${r.commit!.slice(0, 12)}).`);
    });
  }
  attempt('status', () => text.push(workflowStatus(input).text));
  return { data: null, text: text.join('\n'), notices };
}

function stateBranchExists(ctx: RepoContext): boolean {
  try {
    const dirs = findGitDirs(ctx.paths.root);
    return dirs !== null && readRef(dirs.commonDir, stateRef(ctx.config)) !== null;
  } catch {
    return false;
  }
}
