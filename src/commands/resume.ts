// `resume [ID]`: puts a checkpoint's state back as the session's state (ID defaults to the newest
// checkpoint of this workflow), after checkpointing the state it replaces, so a resume is itself
// undone by resuming that automatic checkpoint. Prints a prompt for the agent that carries on.
import { workflowVars } from '../config/workflow-vars.ts';
import { UnknownCheckpointError, WorkflowStateConflictError } from '../errors.ts';
import { AUTO_MESSAGE_PREFIX, stateSnapshot } from '../engine/checkpoint.ts';
import { definitionOfState, readDefinitionFile } from '../engine/load-definition.ts';
import type { LogEvent, WorkflowState } from '../engine/workflow-state.ts';
import { filesChangedSinceStart } from '../gitstore/changed-files.ts';
import { createCheckpoint, reopenedUnderLock } from '../store/checkpoint-create.ts';
import { findCheckpointFile, latestCheckpointOf, readCheckpointFile, type LoadedCheckpoint } from '../store/checkpoint-files.ts';
import { appendEvents } from '../store/event-log.ts';
import { openWorkflow, recordAudit, sealState, underRepoLock, type OpenWorkflow, type RepoContext } from '../store/workflow-session.ts';
import { itemLists, oneLine, renderDone, renderSkipped } from './handoff-view.ts';
import type { CommandInput, CommandResult } from './types.ts';
import { buildView } from './workflow-view.ts';

const FILES_SHOWN = 20;

export function run({ args, ctx }: CommandInput): CommandResult {
  // Everything that can refuse runs before the lock is taken: a refusal changes no file.
  const early = openWorkflow(ctx);
  const target = readCheckpointFile(targetFile(ctx, early, args.positionals[0]), ctx.paths);
  requireSameWorkflow(target, early);
  const definition = definitionOfState(target.state.workflow_definition, target.shown, () => readDefinitionFile(ctx.paths, ctx.cwd));
  const changed = filesChangedSinceStart(ctx.paths.root, early.loaded.state, ctx.env);
  const notices: string[] = [];
  const result = underRepoLock(ctx, () => {
    const wf = reopenedUnderLock(ctx, early);
    requireSameWorkflow(target, wf);
    const now = ctx.now();
    const undo = createCheckpoint(ctx, wf, { now, message: `${AUTO_MESSAGE_PREFIX}${target.record.checkpoint_id}`, decisions: [], files: changed.files });
    if (wf.loaded.checksumProblem) {
      notices.push(`${wf.stateShown} had been changed outside orchestrator (checksum mismatch); that state is kept in ${undo.file}`);
    }
    const restored = stateSnapshot(target.state) as WorkflowState;
    const event: LogEvent = {
      timestamp: now,
      event_type: 'workflow_resumed',
      workflow_id: restored.workflow_id,
      phase_id: restored.current_phase_id,
      item_id: null,
      message: `Resumed checkpoint ${target.record.checkpoint_id}`,
      details: {
        checkpoint_id: target.record.checkpoint_id,
        file: target.shown,
        previous_state_checkpoint_id: undo.record.checkpoint_id,
        from_phase_id: wf.loaded.state.current_phase_id,
        to_phase_id: restored.current_phase_id,
      },
      actor: 'system',
    };
    // The log before the state, as every state change (see mutateWorkflow).
    appendEvents(wf.session.log, [event]);
    recordAudit(ctx, wf.choice.id, now, [event]);
    return { wf, undo, state: sealState(wf.session, restored, definition, now) };
  });
  const vars = workflowVars(definition, ctx.config);
  const view = buildView(result.wf.choice.id, result.state, definition, vars);
  const lists = itemLists(result.state, definition, vars);
  const rec = target.record;
  const undoId = result.undo.record.checkpoint_id;
  const decisions = rec.key_decisions ?? [];
  const files = rec.file_manifest ?? [];
  const lines = [
    `# Resumed checkpoint ${rec.checkpoint_id}`,
    '',
    `Saved at ${rec.timestamp}${rec.message ? `: ${oneLine(rec.message, 300)}` : ''}`,
    `The state before this resume is checkpoint ${undoId}; undo with: orchestrator resume ${undoId}`,
    '',
    `Task: ${oneLine(view.task, 300)}`,
    `Phase: ${view.phase ? `${view.phase.id} ${view.phase.name} (${view.phase.number} of ${view.phase.count})` : '(none)'}, status ${view.status}; ${view.progress.done} of ${view.progress.total} items done or skipped.`,
  ];
  const section = (title: string, body: string[]) => {
    if (body.length) lines.push('', `## ${title}`, ...body);
  };
  section('Key decisions', decisions.map((d) => `- ${oneLine(d, 300)}`));
  section(`Done (${lists.done.length})`, renderDone(lists.done));
  section(`Skipped (${lists.skipped.length})`, renderSkipped(lists.skipped));
  if (files.length) {
    const more = files.length > FILES_SHOWN ? `, … and ${files.length - FILES_SHOWN} more (in ${target.shown})` : '';
    section(`Files changed when the checkpoint was made (${files.length})`, [files.slice(0, FILES_SHOWN).join(', ') + more]);
  }
  section('Next', [`\`${view.next.command}\``, `(${view.next.why})`]);
  return {
    data: {
      ok: true,
      resumed: {
        checkpoint_id: rec.checkpoint_id,
        file: target.shown,
        timestamp: rec.timestamp,
        message: rec.message ?? null,
        context_summary: rec.context_summary ?? null,
        key_decisions: decisions,
        file_manifest: files,
      },
      previous_state_checkpoint: { id: undoId, file: result.undo.file },
      done: lists.done,
      skipped: lists.skipped,
      status: view,
    },
    text: lines.join('\n') + '\n',
    notices,
  };
}

/** The checkpoint file to resume: the one named, else this workflow's newest. */
function targetFile(ctx: RepoContext, wf: OpenWorkflow, id: string | undefined): string {
  const dir = wf.session.checkpoints;
  if (id !== undefined) return findCheckpointFile(dir, id, ctx.paths);
  const latest = latestCheckpointOf(dir, wf.loaded.state.workflow_id);
  if (!latest) {
    throw new UnknownCheckpointError(
      `no checkpoint of workflow ${wf.loaded.state.workflow_id} in ${ctx.paths.rel(dir)}; make one with: orchestrator checkpoint -m "WHAT IT MARKS" (see: orchestrator checkpoints)`,
    );
  }
  return `${dir}/${latest.file}`;
}

function requireSameWorkflow(target: LoadedCheckpoint, wf: OpenWorkflow): void {
  const ours = wf.loaded.state.workflow_id;
  if (target.record.workflow_id === ours) return;
  throw new WorkflowStateConflictError(
    `${target.shown} is a checkpoint of workflow ${target.record.workflow_id} ("${oneLine(target.state.task_description, 80)}"), but session ${wf.choice.id} runs workflow ${ours}; pick one of this workflow's checkpoints (orchestrator checkpoints) or the session that ran it (orchestrator session list)`,
    { checkpoint: target.record.checkpoint_id, checkpoint_workflow_id: target.record.workflow_id, workflow_id: ours },
  );
}
