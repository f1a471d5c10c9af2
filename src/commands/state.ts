// `state save|restore|log|status`: the state branch (CONTRACT §7), local side.
import { str } from '../cli/args.ts';
import { UsageError } from '../errors.ts';
import { pullState, pushState } from '../statebranch/remote.ts';
import { lastPushFailure } from '../statebranch/push-record.ts';
import { localStatus, remoteStatus, restoreState, saveState, stateLog } from '../statebranch/state-branch.ts';
import { underRepoLock } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';

const short = (oid: string | null) => (oid ? oid.slice(0, 12) : 'none');

export function save({ ctx }: CommandInput): CommandResult {
  const r = underRepoLock(ctx, () => saveState(ctx.paths, ctx.config, ctx.env));
  return {
    data: { ok: true, changed: r.changed, ref: r.ref, commit: r.commit, parent: r.parent, tree: r.tree, files: r.files, bytes_read: r.bytesRead },
    text: r.changed ? `Saved ${r.files} files to ${r.ref} (commit ${short(r.commit)}).` : `Nothing changed since the last save (${r.ref} at ${short(r.commit)}).`,
  };
}

export function restore({ ctx }: CommandInput): CommandResult {
  const r = underRepoLock(ctx, () => restoreState(ctx.paths, ctx.config));
  return {
    data: { ok: true, restored: r.restored, commit: r.commit, files: r.files },
    text: !r.commit
      ? 'Nothing to restore: the state branch has no saves yet.'
      : r.restored
        ? `Restored ${r.files} files of .orchestrator/ from commit ${short(r.commit)}.\nNEXT: orchestrator status`
        : `.orchestrator/ already matches the state branch (commit ${short(r.commit)}).`,
  };
}

export function log({ args, ctx }: CommandInput): CommandResult {
  const raw = str(args, 'n') ?? '20';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`-n ${raw}: give a positive whole number of saves, e.g. -n 50`);
  const saves = stateLog(ctx.paths, ctx.config, n);
  return {
    data: { ok: true, saves },
    text: saves.length ? saves.map((s) => `${short(s.commit)}  ${s.time}  ${s.message}`).join('\n') : '(no saves yet: orchestrator state save makes one)',
  };
}

export function status({ ctx }: CommandInput): CommandResult {
  const s = localStatus(ctx.paths, ctx.config);
  const r = remoteStatus(ctx.paths, ctx.config);
  const failure = lastPushFailure(ctx.paths);
  const local =
    s.commit === null
      ? 'nothing saved yet'
      : s.unsaved
        ? 'changes not saved yet (orchestrator state save)'
        : s.differs
          ? 'saved; the branch also holds saves not restored here (orchestrator state restore)'
          : 'saved (matches the branch)';
  const lines = [
    `branch: ${s.ref} at ${short(s.commit)}`,
    `local:  ${local}`,
    `remote: ${r.remote ? `${short(r.remote)} at the last fetch or push` : 'never fetched or pushed'}; ${r.unpushed} save${r.unpushed === 1 ? '' : 's'} not pushed`,
  ];
  if (failure) lines.push(`last automatic push failed (${failure.at}): ${failure.error}`);
  return {
    data: {
      ok: true,
      ref: s.ref,
      commit: s.commit,
      unsaved: s.unsaved,
      not_restored: s.differs && !s.unsaved,
      changed_since_last: s.changedSinceLast,
      remote_commit: r.remote,
      unpushed: r.unpushed,
      last_push_failure: failure,
    },
    text: lines.join('\n'),
  };
}

export async function push({ ctx }: CommandInput): Promise<CommandResult> {
  const r = await pushState(ctx.paths, ctx.config, ctx.env);
  return {
    data: { ok: true, url: r.url, pushed: r.pushed, attempts: r.attempts, merged: r.merged, merge_notes: r.notes },
    text: r.pushed
      ? `Pushed ${short(r.pushed)} to ${r.url}${r.merged ? ' (merged with what was there first)' : ''}.`
      : 'Nothing to push: no saves yet (orchestrator state save makes one).',
    notices: r.notes,
  };
}

export async function pull({ ctx }: CommandInput): Promise<CommandResult> {
  const r = await pullState(ctx.paths, ctx.config, ctx.env);
  const what = {
    none: r.remote ? 'already up to date' : `the remote has no ${r.local === null ? 'state branch yet' : 'newer saves'}`,
    created: 'took the remote state branch',
    'fast-forward': 'fast-forwarded to the remote',
    merged: 'merged the remote saves with the local ones',
    ahead: 'the local branch is ahead of the remote (orchestrator state push sends it)',
  }[r.action];
  return {
    data: { ok: true, url: r.url, action: r.action, local: r.local, remote: r.remote, merge_notes: r.notes },
    text: `Pulled from ${r.url}: ${what}.${r.action === 'created' || r.action === 'fast-forward' || r.action === 'merged' ? '\nNEXT: orchestrator state restore' : ''}`,
    notices: r.notes,
  };
}
