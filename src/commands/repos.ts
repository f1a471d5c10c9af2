// `repos list|status`: every repo in the global repos.json, whether it is still there, and (status)
// its active task, phase, progress and last activity. Reads only, here and in every listed repo.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { workflowVars } from '../config/workflow-vars.ts';
import { NoWorkflowError, OrchestratorError } from '../errors.ts';
import { listRepos, type RepoListing } from '../repos/overview.ts';
import { readRegistry, registryPath } from '../repos/registry.ts';
import { RepoPaths } from '../store/paths.ts';
import { openWorkflow, type RepoContext } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';
import { buildView, type WorkflowView } from './workflow-view.ts';

const NONE_YET = 'No repos recorded yet: a repo is recorded after a command that changes something there (start, complete, ...).';

function known(ctx: RepoContext): { file: string; repos: RepoListing[] } {
  const file = registryPath(ctx.env);
  return { file, repos: listRepos(readRegistry(file).repos, ctx.paths.root) };
}

function flagText(r: RepoListing): string {
  return r.flags.length ? `  [${r.flags.join(', ')}: ${r.note}]` : '';
}

export function list({ ctx }: CommandInput): CommandResult {
  const { file, repos } = known(ctx);
  const lines = repos.map((r) => `${r.current ? '*' : ' '} ${r.name}  ${r.root}  ${r.repo_id}  last seen ${r.last_seen}${flagText(r)}`);
  return {
    data: { ok: true, file, repos },
    text: repos.length ? lines.join('\n') : NONE_YET,
  };
}

export interface RepoStatus extends RepoListing {
  session_id: string | null;
  task: string | null;
  workflow_status: string | null;
  phase: WorkflowView['phase'];
  progress: { done: number; total: number } | null;
  /** The newest of the session log's modification time and the state's last write. */
  last_activity: string | null;
  /** Why the repo's state could not be read (or cannot be trusted); the listing goes on. */
  problem: string | null;
}

export function status({ ctx }: CommandInput): CommandResult {
  const { file, repos } = known(ctx);
  const rows = repos.map((r) => repoStatus(r, ctx.env));
  const lines = rows.map((r) => {
    const head = `${r.current ? '*' : ' '} ${r.name}  ${r.root}`;
    if (r.flags.length) return `${head}${flagText(r)}`;
    if (r.problem) return `${head}\n    PROBLEM: ${r.problem}`;
    if (!r.task) return `${head}\n    no workflow`;
    const phase = r.phase ? `phase ${r.phase.id} (${r.phase.number} of ${r.phase.count})` : 'no phase';
    return `${head}\n    "${r.task}": ${r.workflow_status}, ${phase}, ${r.progress!.done} of ${r.progress!.total} items done; last activity ${r.last_activity ?? 'unknown'}`;
  });
  return {
    data: { ok: true, file, repos: rows },
    text: rows.length ? lines.join('\n') : NONE_YET,
  };
}

/** One repo's current session, read as `status` reads it, without this process's session choice. */
function repoStatus(r: RepoListing, env: NodeJS.ProcessEnv): RepoStatus {
  const none: RepoStatus = { ...r, session_id: null, task: null, workflow_status: null, phase: null, progress: null, last_activity: null, problem: null };
  if (r.flags.length) return none;
  try {
    const wf = openWorkflow({
      paths: new RepoPaths(r.root),
      cwd: r.root,
      env: r.current ? env : { ...env, ORCHESTRATOR_SESSION: undefined },
      now: () => new Date().toISOString(),
      command: 'repos status',
    });
    const view = buildView(wf.choice.id, wf.loaded.state, wf.definition, workflowVars(wf.definition, undefined));
    return {
      ...none,
      session_id: view.session_id,
      task: view.task,
      workflow_status: view.status,
      phase: view.phase,
      progress: { done: view.progress.done, total: view.progress.total },
      last_activity: lastActivity(wf.session.log, wf.loaded.state._updated_at ?? wf.loaded.state.updated_at ?? null),
      problem: wf.loaded.checksumProblem
        ? `${join(r.root, wf.stateShown)}: checksum mismatch, changed outside orchestrator; see: orchestrator doctor (in that repo)`
        : null,
    };
  } catch (err) {
    if (err instanceof NoWorkflowError) return none;
    return { ...none, problem: `${r.root}: ${err instanceof OrchestratorError ? err.message : String(err)}` };
  }
}

function lastActivity(log: string, stateWritten: string | null): string | null {
  let logTime: string | null = null;
  try {
    logTime = statSync(log).mtime.toISOString();
  } catch {
    // no log yet
  }
  if (!logTime || !stateWritten) return logTime ?? stateWritten;
  return logTime > stateWritten ? logTime : stateWritten;
}
