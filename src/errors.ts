// One class per failure. Callers branch on `code`, never on message text. The CLI maps `exitCode`
// (CONTRACT §5) and prints `message`, which already names the file and the fix on one line.

export const ExitCode = {
  ok: 0,
  checkFailed: 1,
  badInput: 2,
  conflict: 3,
  environment: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class OrchestratorError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: ExitCodeValue;
  /** Machine-readable details for `--json` output. */
  readonly data: Record<string, unknown>;
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.data = data;
  }
}

// ---- exit 1: a check failed ----------------------------------------------------------------

export class VerificationFailedError extends OrchestratorError {
  readonly code = 'VERIFICATION_FAILED';
  readonly exitCode = ExitCode.checkFailed;
}

export class ChecksFailedError extends OrchestratorError {
  readonly code = 'CHECKS_FAILED';
  readonly exitCode = ExitCode.checkFailed;
}

// ---- exit 2: bad input ---------------------------------------------------------------------

export class UsageError extends OrchestratorError {
  readonly code = 'USAGE';
  readonly exitCode = ExitCode.badInput;
}

export class InvalidWorkflowError extends OrchestratorError {
  readonly code = 'INVALID_WORKFLOW';
  readonly exitCode = ExitCode.badInput;
}

/** A workflow template (init --template) that cannot be applied as it is. */
export class InvalidTemplateError extends OrchestratorError {
  readonly code = 'INVALID_TEMPLATE';
  readonly exitCode = ExitCode.badInput;
}

export class UnknownItemError extends OrchestratorError {
  readonly code = 'UNKNOWN_ITEM';
  readonly exitCode = ExitCode.badInput;
}

export class CorruptFileError extends OrchestratorError {
  readonly code = 'CORRUPT_FILE';
  readonly exitCode = ExitCode.badInput;
}

export class ChecksumMismatchError extends OrchestratorError {
  readonly code = 'CHECKSUM_MISMATCH';
  readonly exitCode = ExitCode.badInput;
}

export class UnsafePathError extends OrchestratorError {
  readonly code = 'UNSAFE_PATH';
  readonly exitCode = ExitCode.badInput;
}

export class UnsafeCommandError extends OrchestratorError {
  readonly code = 'UNSAFE_COMMAND';
  readonly exitCode = ExitCode.badInput;
}

export class SkipRefusedError extends OrchestratorError {
  readonly code = 'SKIP_REFUSED';
  readonly exitCode = ExitCode.badInput;
}

export class NoWorkflowError extends OrchestratorError {
  readonly code = 'NO_WORKFLOW';
  readonly exitCode = ExitCode.badInput;
}

export class UnknownSessionError extends OrchestratorError {
  readonly code = 'UNKNOWN_SESSION';
  readonly exitCode = ExitCode.badInput;
}

/** `resume ID` names no checkpoint of the session (or the session has none to resume). */
export class UnknownCheckpointError extends OrchestratorError {
  readonly code = 'UNKNOWN_CHECKPOINT';
  readonly exitCode = ExitCode.badInput;
}

/** A workflow item's `repo:` names an alias that is not configured, or a directory that does not exist. */
export class RepoNotFoundError extends OrchestratorError {
  readonly code = 'REPO_NOT_FOUND';
  readonly exitCode = ExitCode.badInput;
}

/** No source holds the secret: the message names the variable to set. */
export class SecretNotFoundError extends OrchestratorError {
  readonly code = 'SECRET_NOT_FOUND';
  readonly exitCode = ExitCode.badInput;
}

/** An encrypted secrets file must be opened and there is no passphrase (and no terminal to ask). */
export class PassphraseRequiredError extends OrchestratorError {
  readonly code = 'PASSPHRASE_REQUIRED';
  readonly exitCode = ExitCode.badInput;
}

/** The passphrase does not open an encrypted secrets file (or the file was altered). */
export class WrongPassphraseError extends OrchestratorError {
  readonly code = 'WRONG_PASSPHRASE';
  readonly exitCode = ExitCode.badInput;
}

/** A snapshot archive that is not one export wrote, or that would write outside its place. */
export class InvalidSnapshotError extends OrchestratorError {
  readonly code = 'INVALID_SNAPSHOT';
  readonly exitCode = ExitCode.badInput;
}

// ---- exit 3: conflict ----------------------------------------------------------------------

export class LockTimeoutError extends OrchestratorError {
  readonly code = 'LOCK_TIMEOUT';
  readonly exitCode = ExitCode.conflict;
}

export class WrongPhaseError extends OrchestratorError {
  readonly code = 'WRONG_PHASE';
  readonly exitCode = ExitCode.conflict;
}

export class PhaseIncompleteError extends OrchestratorError {
  readonly code = 'PHASE_INCOMPLETE';
  readonly exitCode = ExitCode.conflict;
}

export class WorkflowStateConflictError extends OrchestratorError {
  readonly code = 'WORKFLOW_STATE_CONFLICT';
  readonly exitCode = ExitCode.conflict;
}

export class AlreadyExistsError extends OrchestratorError {
  readonly code = 'ALREADY_EXISTS';
  readonly exitCode = ExitCode.conflict;
}

/** A snapshot of another repository (its repo_id differs); --force takes it anyway. */
export class SnapshotOtherRepoError extends OrchestratorError {
  readonly code = 'SNAPSHOT_OTHER_REPO';
  readonly exitCode = ExitCode.conflict;
}

// ---- exit 4: environment -------------------------------------------------------------------

export class EnvironmentError extends OrchestratorError {
  readonly code = 'ENVIRONMENT';
  readonly exitCode = ExitCode.environment;
}

/** Wraps an fs error so the user sees the path and what to do, with exit 4 for the environment. */
export function environmentErrorFrom(err: unknown, path: string): OrchestratorError {
  if (err instanceof OrchestratorError) return err;
  const e = err as NodeJS.ErrnoException;
  const fixes: Record<string, string> = {
    EACCES: 'check the permissions of that path',
    EPERM: 'check the permissions of that path',
    EROFS: 'the file system is read-only; run from a writable checkout',
    ENOSPC: 'the disk is full; free some space and retry',
    EDQUOT: 'the disk quota is exhausted; free some space and retry',
  };
  const fix = fixes[e?.code ?? ''] ?? 'check that path and retry';
  return new EnvironmentError(`${path}: ${e?.code ?? 'error'} (${e?.message ?? String(err)}); ${fix}`, {
    path,
    errno: e?.code,
  });
}
