// `checkpoint [-m MSG] [--decision TEXT]...`: a full snapshot of the session's state, the files
// changed in git since the workflow started, the decisions worth remembering and a summary, in
// the Python tool's checkpoint format (checkpoints/cp_<id>.json). Changes no state.
import { str, strs } from '../cli/args.ts';
import { UsageError } from '../errors.ts';
import { filesChangedSinceStart } from '../gitstore/changed-files.ts';
import { createCheckpoint, reopenedUnderLock } from '../store/checkpoint-create.ts';
import { checksumError } from '../store/state-file.ts';
import { openWorkflow, underRepoLock } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';

export function run({ args, ctx }: CommandInput): CommandResult {
  const message = str(args, 'message');
  const decisions = strs(args, 'decision').map((d) => d.trim());
  if (message !== undefined && message.trim() === '') {
    throw new UsageError('-m is empty; say what this checkpoint marks: orchestrator checkpoint -m "plan approved"');
  }
  if (decisions.some((d) => d === '')) {
    throw new UsageError('--decision is empty; state the decision: orchestrator checkpoint --decision "use SQLite, not Postgres"');
  }
  // Refuse before locking: taking the lock creates .orchestrator/locks/, and a refusal changes nothing.
  const early = openWorkflow(ctx);
  if (early.loaded.checksumProblem) throw checksumError(early.stateShown, early.loaded.checksumProblem);
  // git may take a while on a big tree: ask it before taking the lock.
  const changed = filesChangedSinceStart(ctx.paths.root, early.loaded.state, ctx.env);
  const created = underRepoLock(ctx, () => {
    const wf = reopenedUnderLock(ctx, early);
    if (wf.loaded.checksumProblem) throw checksumError(wf.stateShown, wf.loaded.checksumProblem);
    return createCheckpoint(ctx, wf, { now: ctx.now(), message: message?.trim() ?? null, decisions, files: changed.files });
  });
  const r = created.record;
  return {
    data: {
      ok: true,
      checkpoint: {
        id: r.checkpoint_id,
        file: created.file,
        workflow_id: r.workflow_id,
        phase_id: r.phase_id,
        timestamp: r.timestamp,
        message: r.message,
        context_summary: r.context_summary,
        key_decisions: r.key_decisions,
        file_manifest: r.file_manifest,
        file_manifest_base: changed.base,
        parent_checkpoint_id: r.parent_checkpoint_id,
      },
    },
    text: [
      `Checkpoint ${r.checkpoint_id} written to ${created.file}.`,
      `  ${r.context_summary}`,
      `  ${r.file_manifest.length} files changed since the workflow started; ${r.key_decisions.length} decisions recorded.`,
      `Restore it later with: orchestrator resume ${r.checkpoint_id}`,
    ].join('\n'),
  };
}
