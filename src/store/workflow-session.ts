// The unit every workflow command works on: one session's state, its definition and its log.
// Reads take no lock (files are replaced atomically); every read-modify-write holds the repo lock
// and re-reads the state inside it, so concurrent commands serialise and none is lost.
import type { Config } from '../config/load.ts';
import { workflowVars } from '../config/workflow-vars.ts';
import { NoWorkflowError } from '../errors.ts';
import { definitionOfState, readDefinitionFile } from '../engine/load-definition.ts';
import type { WorkflowDefinition } from '../engine/definition.ts';
import type { Transition } from '../engine/transitions.ts';
import type { LogEvent, WorkflowState } from '../engine/workflow-state.ts';
import { appendAudit, auditEntriesFor } from './audit.ts';
import { appendEvents } from './event-log.ts';
import { withLock, withLockAsync } from './lock.ts';
import { LEGACY_SESSION_ID, RepoPaths, type SessionPaths } from './paths.ts';
import { chooseSession, noSessionError, type SessionChoice } from './sessions.ts';
import { checksumError, readStateFile, stateFileStamp, writeStateFile, type LoadedState } from './state-file.ts';

export const DEFAULT_LOCK_TIMEOUT_S = 30;

export interface RepoContext {
  paths: RepoPaths;
  cwd: string;
  env: NodeJS.ProcessEnv;
  sessionFlag?: string | undefined;
  now: () => string;
  /** Names the command in the lock file, for "held by" messages. */
  command: string;
  /** Work on the Python tool's v2 files in the repo root (dual mode, or layout: legacy). */
  legacy?: boolean;
  /** The layered configuration (CONTRACT §6); absent in library use without one. */
  config?: Config;
}

/** The session a command works on: the chosen one, or the legacy files in legacy mode. */
export function chosenSession(ctx: RepoContext): { choice: SessionChoice; session: SessionPaths | null } {
  if (ctx.legacy) return { choice: { id: LEGACY_SESSION_ID, origin: 'legacy' }, session: ctx.paths.legacySession() };
  const choice = chooseSession(ctx.paths, ctx.sessionFlag, ctx.env);
  return { choice, session: choice.id ? ctx.paths.session(choice.id) : null };
}

export function lockTimeoutMs(ctx: RepoContext): number {
  return (ctx.config?.get<number>('lock.timeout') ?? DEFAULT_LOCK_TIMEOUT_S) * 1000;
}

/** Runs `fn` holding the repo lock. */
export function underRepoLock<T>(ctx: RepoContext, fn: () => T): T {
  return withLock(ctx.paths.repoLock, { timeoutMs: lockTimeoutMs(ctx), command: ctx.command }, fn);
}

export function underRepoLockAsync<T>(ctx: RepoContext, fn: () => Promise<T>): Promise<T> {
  return withLockAsync(ctx.paths.repoLock, { timeoutMs: lockTimeoutMs(ctx), command: ctx.command }, fn);
}

export interface OpenWorkflow {
  choice: SessionChoice & { id: string };
  session: SessionPaths;
  loaded: LoadedState;
  definition: WorkflowDefinition;
  /** Repo-relative path of the state file, for messages. */
  stateShown: string;
  /** Values of `{{var}}`: the definition's settings under config overrides. */
  vars: Record<string, string>;
}

/** The chosen session's workflow; throws NoWorkflowError when there is none. Never writes. */
export function openWorkflow(ctx: RepoContext): OpenWorkflow {
  const { choice, session } = chosenSession(ctx);
  if (!choice.id || !session) throw noSessionError(ctx.paths);
  const stateShown = ctx.paths.rel(session.state);
  const loaded = readStateFile(session.state, stateShown, session.verifiedStamp);
  if (!loaded) {
    throw new NoWorkflowError(`session ${choice.id} has no workflow yet (${stateShown} is missing); start one with: orchestrator start "TASK"`);
  }
  const definition = definitionOfState(
    loaded.state.workflow_definition,
    stateShown,
    () => readDefinitionFile(ctx.paths, ctx.cwd),
    loaded.trusted,
  );
  return { choice: { ...choice, id: choice.id }, session, loaded, definition, stateShown, vars: workflowVars(definition, ctx.config) };
}

export interface Mutation {
  before: WorkflowState;
  after: WorkflowState;
  transition: Transition;
  session: SessionPaths;
  definition: WorkflowDefinition;
  vars: Record<string, string>;
}

/**
 * Read-modify-write of the chosen session's state under the repo lock. `change` is a pure
 * transition; it runs on the state as it is inside the lock, not as it was before waiting.
 * The log is appended before the state is replaced, so a crash in between leaves the event
 * recorded and the state as before (doctor reports the difference) and never the reverse.
 */
export function mutateWorkflow(
  ctx: RepoContext,
  change: (state: WorkflowState, def: WorkflowDefinition) => Transition,
  opened?: OpenWorkflow,
): Mutation {
  // Refuse before locking: taking the lock creates .orchestrator/locks/, and a refused command must
  // leave every file and directory as it was. Under the lock the same check runs on the fresh state.
  const early = changeOf(change, opened ?? openWorkflow(ctx));
  return underRepoLock(ctx, () => {
    // Parsing a big state costs more than the rest of the command: reuse what was read before
    // waiting when the file is provably the same one (same session, same inode, size and mtime).
    const unchanged =
      chosenSession(ctx).choice.id === early.wf.choice.id &&
      stateFileStamp(early.wf.session.state) === early.wf.loaded.stamp;
    const { wf, transition } = unchanged ? early : changeOf(change, openWorkflow(ctx));
    const now = ctx.now();
    appendEvents(wf.session.log, transition.events);
    recordAudit(ctx, wf.choice.id, now, transition.events);
    const after = sealState(wf.session, transition.state, wf.definition, now);
    return { before: wf.loaded.state, after, transition, session: wf.session, definition: wf.definition, vars: wf.vars };
  });
}

/**
 * Every state change is audited, with the log and before the state (the same crash rule). The
 * legacy layout has no audit trail: writing one would create `.orchestrator/` in the old layout.
 */
export function recordAudit(ctx: RepoContext, sessionId: string, now: string, events: readonly LogEvent[]): void {
  if (!ctx.legacy) appendAudit(ctx.paths.audit, now, auditEntriesFor(events, sessionId));
}

/**
 * Writes a state whose content has been validated: an embedded definition is stored in its
 * normalised form (defaults filled in, nulls of known keys dropped; the Python tool reads both), so
 * the next read of this exact file version may skip validation (see readStateFile).
 */
export function sealState(session: SessionPaths, state: WorkflowState, definition: WorkflowDefinition, now: string): WorkflowState {
  const toWrite = state.workflow_definition == null ? state : { ...state, workflow_definition: definition };
  return writeStateFile(session.state, toWrite, now, session.verifiedStamp);
}

/** Opens the workflow and computes the transition (pure: writes nothing); throws what would refuse it. */
function changeOf(
  change: (state: WorkflowState, def: WorkflowDefinition) => Transition,
  wf: OpenWorkflow,
): { wf: OpenWorkflow; transition: Transition } {
  if (wf.loaded.checksumProblem) throw checksumError(wf.stateShown, wf.loaded.checksumProblem);
  return { wf, transition: change(wf.loaded.state, wf.definition) };
}
