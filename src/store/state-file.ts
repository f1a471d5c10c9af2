// Reads and writes sessions/<id>/state.json. Reading verifies the Python-compatible checksum and
// reports a mismatch instead of trusting or "repairing" the file; writing seals and replaces it atomically.
import { readFileSync } from 'node:fs';
import { ChecksumMismatchError, CorruptFileError, environmentErrorFrom } from '../errors.ts';
import { STATE_VERSION, WorkflowStateSchema, type WorkflowState } from '../engine/workflow-state.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { stateChecksum } from './python-json.ts';

export interface LoadedState {
  state: WorkflowState;
  /** Set when `_checksum` is present and does not match the content. */
  checksumProblem: { expected: string; actual: string } | null;
}

/** Reads a state file; null when it does not exist. Never writes. */
export function readStateFile(path: string, shownAs = path): LoadedState | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw environmentErrorFrom(err, shownAs);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CorruptFileError(
      `${shownAs}: not valid JSON (${(err as Error).message}); restore it from git or a checkpoint, or remove the session with: orchestrator session end`,
      { path: shownAs },
    );
  }
  const parsed = WorkflowStateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CorruptFileError(
      `${shownAs}: not a workflow state (${issue.path.join('.') || '(root)'}: ${issue.message}); restore it from git or a checkpoint`,
      { path: shownAs },
    );
  }
  const state = parsed.data;
  let checksumProblem: LoadedState['checksumProblem'] = null;
  if (typeof state._checksum === 'string') {
    const actual = stateChecksum(raw as Record<string, unknown>);
    if (actual !== state._checksum) checksumProblem = { expected: state._checksum, actual };
  }
  return { state, checksumProblem };
}

export function checksumError(shownAs: string, p: { expected: string; actual: string }): ChecksumMismatchError {
  return new ChecksumMismatchError(
    `${shownAs}: checksum mismatch (recorded ${p.expected}, content ${p.actual}): the file was changed outside orchestrator; restore it from git or a checkpoint, or accept the edit with: orchestrator doctor --reseal`,
    { path: shownAs, ...p },
  );
}

/** Seals `_version`, `_updated_at` and `_checksum`, then replaces the file atomically. */
export function writeStateFile(path: string, state: WorkflowState, now: string): WorkflowState {
  const sealed: WorkflowState = { ...state, _version: STATE_VERSION, _updated_at: now };
  delete sealed._checksum;
  sealed._checksum = stateChecksum(sealed as Record<string, unknown>);
  writeFileAtomic(path, JSON.stringify(sealed, null, 2) + '\n');
  return sealed;
}
