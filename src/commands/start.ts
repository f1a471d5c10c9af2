// `start "TASK"`: a new workflow in a fresh session (or in an empty session made by `session new`).
import { str } from '../cli/args.ts';
import { workflowVars } from '../config/workflow-vars.ts';
import { detectEnvironment } from '../env/detect.ts';
import { UsageError, WorkflowStateConflictError } from '../errors.ts';
import { readDefinitionFile } from '../engine/load-definition.ts';
import { startWorkflow } from '../engine/transitions.ts';
import { headCommit } from '../gitstore/head.ts';
import { appendEvents } from '../store/event-log.ts';
import type { SessionPaths } from '../store/paths.ts';
import { ensureContainer } from '../store/repo-meta.ts';
import { chooseSession, createSession, writeCurrentSessionId } from '../store/sessions.ts';
import { readStateFile } from '../store/state-file.ts';
import { chosenSession, recordAudit, sealState, underRepoLock } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';
import { buildView, renderView } from './workflow-view.ts';

export function run({ args, ctx }: CommandInput): CommandResult {
  const task = args.positionals[0]!.trim();
  if (task === '') throw new UsageError('the task is empty; describe it: orchestrator start "Add user authentication"');
  // Parse the definition before taking the lock or touching anything: bad YAML changes nothing.
  const def = readDefinitionFile(ctx.paths, ctx.cwd, str(args, 'workflow'));
  const { paths } = ctx;
  // Refuse before locking too: taking the lock creates .orchestrator/locks/, and a refused start writes nothing.
  emptySessionFor(ctx);
  const result = underRepoLock(ctx, () => {
    const choice = chooseSession(paths, ctx.sessionFlag, ctx.env);
    let session = emptySessionFor(ctx);
    const now = ctx.now();
    ensureContainer(paths, now);
    session ??= createSession(paths, now, detectEnvironment(ctx.env));
    const t = startWorkflow({
      now,
      task,
      definition: def.definition,
      source: def.source,
      sourceChecksum: def.checksum,
      gitHead: headCommit(paths.root),
    });
    appendEvents(session.log, t.events);
    recordAudit(ctx, session.id, now, t.events);
    const sealed = sealState(session, t.state, def.definition, now);
    if (!ctx.legacy && choice.origin !== '--session' && choice.origin !== 'ORCHESTRATOR_SESSION') writeCurrentSessionId(paths, session.id);
    return { session, state: sealed };
  });
  const view = buildView(result.session.id, result.state, def.definition, workflowVars(def.definition, ctx.config));
  return {
    data: { ok: true, started: { session_id: result.session.id, workflow_id: result.state.workflow_id, source: def.source }, status: view },
    text: `Started "${task}" with ${def.source} (session ${result.session.id}).\n\n${renderView(view)}`,
  };
}

/**
 * The chosen session when it holds no workflow yet, else null (a new session is made); throws when
 * it runs an active one. A session with a finished workflow stays as it is: the new task gets a new one.
 */
function emptySessionFor(ctx: CommandInput['ctx']): SessionPaths | null {
  const { paths } = ctx;
  const { session } = chosenSession(ctx);
  if (!session) return null;
  const existing = readStateFile(session.state, paths.rel(session.state));
  if (existing && existing.state.status === 'active') {
    throw new WorkflowStateConflictError(
      `session ${session.id} already runs "${existing.state.task_description}"; finish it (orchestrator finish, or finish --abandon) first`,
      { session_id: session.id },
    );
  }
  // The legacy layout has one state file: like the Python tool, a new task replaces a finished one.
  return existing && !ctx.legacy ? null : session;
}
