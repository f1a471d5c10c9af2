// Checkpoint records in the Python tool's format (its CheckpointData): the same eleven fields in
// the same order and nothing else, because the Python tool builds its dataclass from every key of
// the file and skips a file with an unknown one. Pure: no I/O, no clock.
import { createHash } from 'node:crypto';
import type { WorkflowState } from './workflow-state.ts';

export interface CheckpointRecord {
  checkpoint_id: string;
  workflow_id: string;
  phase_id: string | null;
  item_id: string | null;
  timestamp: string;
  message: string | null;
  context_summary: string | null;
  key_decisions: string[];
  file_manifest: string[];
  workflow_state_snapshot: Record<string, unknown>;
  parent_checkpoint_id: string | null;
}

/**
 * The message of the checkpoint `resume` writes of the state it replaces. The mark lives in the
 * message because an extra field would hide the file from the Python tool.
 */
export const AUTO_MESSAGE_PREFIX = 'Automatic checkpoint before resume to ';

export function isAutoCheckpoint(message: string | null): boolean {
  return message?.startsWith(AUTO_MESSAGE_PREFIX) ?? false;
}

/**
 * The Python tool's v3 id: `cp_YYYYMMDD_HHMMSS_<microseconds>_<4 random digits>_<md5(workflow_id)[:4]>`
 * (UTC). JS clocks have milliseconds, so the last three digits of the microseconds are 000.
 */
export function checkpointId(workflowId: string, timestamp: string, random4: number): string {
  const d = new Date(timestamp);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`;
  const time = `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
  const tag = createHash('md5').update(workflowId, 'utf8').digest('hex').slice(0, 4);
  return `cp_${date}_${time}_${p(d.getUTCMilliseconds() * 1000, 6)}_${p(random4 % 10000, 4)}_${tag}`;
}

/** The Python tool's summary ("Task: …; Current Phase: …; Progress: n/m items completed"), plus skips. */
export function contextSummary(state: WorkflowState): string {
  let total = 0;
  let completed = 0;
  let skipped = 0;
  for (const phase of Object.values(state.phases)) {
    for (const item of Object.values(phase.items)) {
      total++;
      if (item.status === 'completed') completed++;
      if (item.status === 'skipped') skipped++;
    }
  }
  const parts = [
    `Task: ${state.task_description}`,
    `Current Phase: ${state.current_phase_id ?? '(none)'}`,
    `Progress: ${completed}/${total} items completed${skipped ? `, ${skipped} skipped` : ''}`,
  ];
  const constraints = (state as { constraints?: unknown }).constraints;
  if (Array.isArray(constraints) && constraints.length) parts.push(`Constraints: ${constraints.length} active`);
  if (state.status !== 'active') parts.push(`Status: ${state.status}`);
  return parts.join('; ');
}

/** The state as the Python tool snapshots it: without the seals, which a restore writes anew. */
export function stateSnapshot(state: WorkflowState): Record<string, unknown> {
  const copy: Record<string, unknown> = structuredClone(state);
  delete copy._checksum;
  delete copy._updated_at;
  delete copy._version;
  return copy;
}

export interface NewCheckpoint {
  state: WorkflowState;
  now: string;
  random4: number;
  message: string | null;
  decisions: string[];
  files: string[];
  parent: string | null;
}

export function newCheckpoint(input: NewCheckpoint): CheckpointRecord {
  const { state } = input;
  return {
    checkpoint_id: checkpointId(state.workflow_id, input.now, input.random4),
    workflow_id: state.workflow_id,
    phase_id: state.current_phase_id,
    item_id: null,
    timestamp: input.now,
    message: input.message,
    context_summary: contextSummary(state),
    key_decisions: input.decisions,
    file_manifest: input.files,
    workflow_state_snapshot: stateSnapshot(state),
    parent_checkpoint_id: input.parent,
  };
}
