// One checkpoint file, read strictly (to restore it) or written atomically. Listing, which
// tolerates broken files, is checkpoints.ts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { CorruptFileError, UnknownCheckpointError, UsageError, environmentErrorFrom } from '../errors.ts';
import type { CheckpointRecord } from '../engine/checkpoint.ts';
import { WorkflowStateSchema, type WorkflowState } from '../engine/workflow-state.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { parseJsonText } from './file-reads.ts';
import { listCheckpoints, type CheckpointSummary } from './checkpoints.ts';
import type { RepoPaths } from './paths.ts';

// Python's CheckpointData: parent_checkpoint_id is absent in old files; other keys are kept.
const CheckpointFileSchema = z.looseObject({
  checkpoint_id: z.string(),
  workflow_id: z.string(),
  phase_id: z.nullable(z.string()),
  item_id: z.optional(z.nullable(z.string())),
  timestamp: z.string(),
  message: z.optional(z.nullable(z.string())),
  context_summary: z.optional(z.nullable(z.string())),
  key_decisions: z.optional(z.nullable(z.array(z.string()))),
  file_manifest: z.optional(z.nullable(z.array(z.string()))),
  workflow_state_snapshot: z.unknown(),
  parent_checkpoint_id: z.optional(z.nullable(z.string())),
});

export interface LoadedCheckpoint {
  record: z.infer<typeof CheckpointFileSchema>;
  /** The snapshot, validated as a workflow state. */
  state: WorkflowState;
  /** Repo-relative path, for messages. */
  shown: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * Finds a checkpoint by id: the file `<id>.json`, else the file whose `checkpoint_id` is `id`
 * (a renamed copy). Throws UnknownCheckpointError naming how to list them.
 */
export function findCheckpointFile(dir: string, id: string, paths: RepoPaths): string {
  const bare = id.endsWith('.json') ? id.slice(0, -'.json'.length) : id;
  if (!ID.test(bare) || bare.includes('..')) {
    throw new UsageError(`"${id}" is not a checkpoint id (like cp_20260106_053301_bddea0); list them with: orchestrator checkpoints`);
  }
  const direct = join(dir, `${bare}.json`);
  if (existsSync(direct)) return direct;
  const byContent = listCheckpoints(dir).find((c) => !c.problem && c.id === bare);
  if (byContent) return join(dir, byContent.file);
  throw new UnknownCheckpointError(`no checkpoint "${bare}" in ${paths.rel(dir)}; list them with: orchestrator checkpoints`, { checkpoint: bare });
}

/** Reads and validates one checkpoint file; a file that cannot be restored is a CorruptFileError naming it. */
export function readCheckpointFile(path: string, paths: RepoPaths): LoadedCheckpoint {
  const shown = paths.rel(path);
  const fix = 'restore it from git or pick another one (orchestrator checkpoints)';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw environmentErrorFrom(err, shown);
  }
  const parsed = CheckpointFileSchema.safeParse(parseJsonText(text, shown, fix));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CorruptFileError(`${shown}: not a checkpoint (${issue.path.join('.') || '(root)'}: ${issue.message}); ${fix}`, { path: shown });
  }
  const state = WorkflowStateSchema.safeParse(parsed.data.workflow_state_snapshot);
  if (!state.success) {
    const issue = state.error.issues[0]!;
    throw new CorruptFileError(
      `${shown}: its workflow_state_snapshot is not a workflow state (${issue.path.join('.') || '(root)'}: ${issue.message}); ${fix}`,
      { path: shown },
    );
  }
  if (state.data.workflow_id !== parsed.data.workflow_id) {
    throw new CorruptFileError(
      `${shown}: its snapshot belongs to workflow ${state.data.workflow_id}, the checkpoint to ${parsed.data.workflow_id}; ${fix}`,
      { path: shown },
    );
  }
  return { record: parsed.data, state: state.data, shown };
}

/** The newest readable checkpoint of `workflowId` in `dir`, or null. */
export function latestCheckpointOf(dir: string, workflowId: string): CheckpointSummary | null {
  return listCheckpoints(dir).filter((c) => !c.problem && c.workflow_id === workflowId).at(-1) ?? null;
}

/** Writes `<checkpoint_id>.json` atomically, pretty-printed like the Python tool's files. */
export function writeCheckpointFile(dir: string, record: CheckpointRecord): string {
  const path = join(dir, `${record.checkpoint_id}.json`);
  writeFileAtomic(path, JSON.stringify(record, null, 2) + '\n');
  return path;
}
