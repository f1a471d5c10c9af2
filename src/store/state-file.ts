// Reads and writes sessions/<id>/state.json. Reading verifies the Python-compatible checksum and
// reports a mismatch instead of trusting or "repairing" the file; writing seals and replaces it atomically.
import { closeSync, fstatSync, openSync, readFileSync, statSync, type BigIntStats } from 'node:fs';
import { ChecksumMismatchError, CorruptFileError, environmentErrorFrom } from '../errors.ts';
import { STATE_VERSION, WorkflowStateSchema, type WorkflowState } from '../engine/workflow-state.ts';
import { VERSION } from '../version.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { parseJsonText } from './file-reads.ts';
import { stateChecksum } from './python-json.ts';

export interface LoadedState {
  state: WorkflowState;
  /** Set when `_checksum` is present and does not match the content. */
  checksumProblem: { expected: string; actual: string } | null;
  /** Identifies the file version read: every write is a rename, so a new inode. */
  stamp: string;
  /**
   * True when this exact file version was sealed by this tool version on this machine (see
   * `stampFile`): its content is what a validated write produced, so it was not checked again.
   */
  trusted: boolean;
}

// Nanosecond times: an inode number can be reused by the next write's temp file.
function stampOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** The stamp of the state file now, or null when it does not exist. */
export function stateFileStamp(path: string): string | null {
  try {
    return stampOf(statSync(path, { bigint: true }));
  } catch {
    return null;
  }
}

/**
 * Reads a state file; null when it does not exist. Never writes.
 *
 * `stampFile` (machine-local, in cache/) records the file version this tool last sealed: inode,
 * size, nanosecond mtime and ctime, checksum and tool version. While the file still matches it,
 * hashing and schema-checking it again would prove nothing new, and skipping both is most of what
 * keeps `status` fast. Any change to the file (an editor, git, a copy) changes its ctime, so every
 * such file is verified in full.
 */
export function readStateFile(path: string, shownAs = path, stampFile?: string): LoadedState | null {
  let text: string;
  let stamp: string;
  try {
    // One descriptor for both, so the stamp belongs to exactly the bytes read.
    const fd = openSync(path, 'r');
    try {
      stamp = stampOf(fstatSync(fd, { bigint: true }));
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw environmentErrorFrom(err, shownAs);
  }
  const raw = parseJsonText(text, shownAs, 'restore it from git or a checkpoint, or remove the session with: orchestrator session end');
  const sealed = (raw as { _checksum?: unknown })?._checksum;
  if (stampFile && typeof sealed === 'string' && readStampRecord(stampFile) === stampRecord(stamp, sealed)) {
    return { state: raw as WorkflowState, checksumProblem: null, stamp, trusted: true };
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
  return { state, checksumProblem, stamp, trusted: false };
}

export function checksumError(shownAs: string, p: { expected: string; actual: string }): ChecksumMismatchError {
  return new ChecksumMismatchError(
    `${shownAs}: checksum mismatch (recorded ${p.expected}, content ${p.actual}): the file was changed outside orchestrator; restore it from git or a checkpoint, or accept the edit with: orchestrator doctor --reseal`,
    { path: shownAs, ...p },
  );
}

/**
 * Seals `_version`, `_updated_at` and `_checksum`, then replaces the file atomically. Only pass
 * `stampFile` for a state whose content (embedded definition included) has been validated.
 */
export function writeStateFile(path: string, state: WorkflowState, now: string, stampFile?: string): WorkflowState {
  const sealed: WorkflowState = { ...state, _version: STATE_VERSION, _updated_at: now };
  delete sealed._checksum;
  sealed._checksum = stateChecksum(sealed as Record<string, unknown>);
  writeFileAtomic(path, JSON.stringify(sealed, null, 2) + '\n');
  if (stampFile) recordStamp(stampFile, path, sealed._checksum);
  return sealed;
}

function stampRecord(stamp: string, checksum: string): string {
  return `${stamp} ${checksum} ${VERSION}`;
}

function readStampRecord(stampFile: string): string | null {
  try {
    return readFileSync(stampFile, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Best effort: the record only saves time, so failing to write it must not fail the command. */
function recordStamp(stampFile: string, statePath: string, checksum: string): void {
  const stamp = stateFileStamp(statePath);
  if (!stamp) return;
  try {
    writeFileAtomic(stampFile, stampRecord(stamp, checksum) + '\n');
  } catch {
    // cache/ not writable: the next read verifies the file in full
  }
}
