// `handoff`: a Markdown brief for the agent that takes over: the task, where it stands, what was
// done (with notes), skipped (with reasons) and is left (with its check), the last events, the last
// checkpoint and the one next command. Reads only, so it also works on legacy files in place.
import { isAutoCheckpoint } from '../engine/checkpoint.ts';
import type { WorkflowState } from '../engine/workflow-state.ts';
import { latestCheckpointOf } from '../store/checkpoint-files.ts';
import { readLogTail } from '../store/log-tail.ts';
import { openWorkflow } from '../store/workflow-session.ts';
import { itemLists, renderHandoff, type CheckpointBrief, type Handoff, type RecentEvent } from './handoff-view.ts';
import type { CommandInput, CommandResult } from './types.ts';
import { buildView } from './workflow-view.ts';

const RECENT_EVENTS = 10;

export function run({ ctx }: CommandInput): CommandResult {
  const wf = openWorkflow(ctx);
  const state = wf.loaded.state;
  const problems: string[] = [];
  const cp = wf.loaded.checksumProblem;
  if (cp) {
    problems.push(
      `${wf.stateShown}: checksum mismatch (recorded ${cp.expected}, content ${cp.actual}); the file was changed outside orchestrator: restore it (orchestrator resume), or accept the edit with: orchestrator doctor --reseal`,
    );
  }
  const view = buildView(wf.choice.id, state, wf.definition, wf.vars, problems);
  const lists = itemLists(state, wf.definition, wf.vars);
  const handoff: Handoff = {
    session_id: view.session_id,
    workflow_id: view.workflow_id,
    task: view.task,
    status: view.status,
    workflow: view.workflow,
    phase: view.phase,
    progress: view.progress,
    ...lists,
    blockers: view.blockers,
    recent_events: recentEvents(readLogTail(wf.session.log, ctx.paths.rel(wf.session.log)), state),
    last_checkpoint: lastCheckpoint(wf.session.checkpoints, state),
    next: view.next,
    problems,
  };
  return {
    exitCode: problems.length ? 1 : 0,
    data: { ok: problems.length === 0, ...handoff },
    text: renderHandoff(handoff),
  };
}

/** This workflow's last events (a legacy log holds other workflows' too). */
function recentEvents(records: unknown[], state: WorkflowState): RecentEvent[] {
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return records
    .filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null && (r as { workflow_id?: unknown }).workflow_id === state.workflow_id)
    .slice(-RECENT_EVENTS)
    .map((e) => ({
      timestamp: text(e.timestamp) ?? '?',
      event_type: text(e.event_type) ?? '?',
      phase_id: text(e.phase_id),
      item_id: text(e.item_id),
      message: text(e.message) ?? '',
    }));
}

function lastCheckpoint(dir: string, state: WorkflowState): CheckpointBrief | null {
  const c = latestCheckpointOf(dir, state.workflow_id);
  if (!c) return null;
  return {
    id: c.id,
    timestamp: c.timestamp,
    message: c.message,
    key_decisions: c.key_decisions,
    files_changed: c.files_changed,
    auto: isAutoCheckpoint(c.message),
  };
}
