// `state save|restore|log|status`: the state branch (CONTRACT §7), local side.
import { str } from '../cli/args.ts';
import { UsageError } from '../errors.ts';
import { localStatus, restoreState, saveState, stateLog } from '../statebranch/state-branch.ts';
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
  const lines = [
    `branch: ${s.ref} at ${short(s.commit)}`,
    s.commit === null ? 'local: nothing saved yet' : s.unsaved ? 'local: .orchestrator/ has changes not saved yet' : 'local: saved (matches the branch)',
  ];
  return {
    data: { ok: true, ref: s.ref, commit: s.commit, unsaved: s.unsaved, changed_since_last: s.changedSinceLast, local_tree: s.localTree, branch_tree: s.branchTree },
    text: lines.join('\n'),
  };
}
