// Writing a checkpoint of a session's state, with its log event. The caller holds the repo lock
// and passes the state as read inside it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isAutoCheckpoint, newCheckpoint, type CheckpointRecord } from '../engine/checkpoint.ts';
import type { LogEvent } from '../engine/workflow-state.ts';
import { latestCheckpointOf, writeCheckpointFile } from './checkpoint-files.ts';
import { appendEvents } from './event-log.ts';
import { stateFileStamp } from './state-file.ts';
import { chosenSession, openWorkflow, recordAudit, type OpenWorkflow, type RepoContext } from './workflow-session.ts';

export interface CreatedCheckpoint {
  record: CheckpointRecord;
  /** Repo-relative path of the file. */
  file: string;
}

export function createCheckpoint(
  ctx: RepoContext,
  wf: OpenWorkflow,
  input: { now: string; message: string | null; decisions: string[]; files: string[] },
): CreatedCheckpoint {
  const dir = wf.session.checkpoints;
  const state = wf.loaded.state;
  const parent = latestCheckpointOf(dir, state.workflow_id)?.id ?? null;
  let record: CheckpointRecord;
  // Four random digits, as the Python tool draws them; a clash within the same millisecond is drawn again.
  do {
    record = newCheckpoint({ ...input, state, parent, random4: Math.floor(Math.random() * 10_000) });
  } while (existsSync(join(dir, `${record.checkpoint_id}.json`)));
  // The file first, then the event: a crash in between leaves a checkpoint nobody logged, never a
  // log line naming a checkpoint that does not exist.
  const file = ctx.paths.rel(writeCheckpointFile(dir, record));
  const event: LogEvent = {
    timestamp: input.now,
    event_type: 'checkpoint_created',
    workflow_id: state.workflow_id,
    phase_id: state.current_phase_id,
    item_id: null,
    message: `Created checkpoint ${record.checkpoint_id}${record.message ? `: ${record.message}` : ''}`,
    details: {
      checkpoint_id: record.checkpoint_id,
      file,
      parent_checkpoint_id: parent,
      key_decisions: record.key_decisions.length,
      files_changed: record.file_manifest.length,
      auto: isAutoCheckpoint(record.message),
    },
    actor: 'system',
  };
  appendEvents(wf.session.log, [event]);
  recordAudit(ctx, wf.choice.id, input.now, [event]);
  return { record, file };
}

/**
 * The workflow as it is inside the lock: what was read before waiting when the state file is
 * provably the same one (same session, same inode, size and times), else read again.
 */
export function reopenedUnderLock(ctx: RepoContext, early: OpenWorkflow): OpenWorkflow {
  const same = chosenSession(ctx).choice.id === early.choice.id && stateFileStamp(early.session.state) === early.loaded.stamp;
  return same ? early : openWorkflow(ctx);
}
