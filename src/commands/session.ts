// `session list|show|switch|new|end`.
import { rmSync } from 'node:fs';
import { detectEnvironment } from '../env/detect.ts';
import { UnknownSessionError, UsageError, environmentErrorFrom } from '../errors.ts';
import { isValidSessionId } from '../store/paths.ts';
import { ensureContainer } from '../store/repo-meta.ts';
import {
  chooseSession,
  createSession,
  listSessionIds,
  readCurrentSessionId,
  readSessionMeta,
  sessionExists,
  writeCurrentSessionId,
} from '../store/sessions.ts';
import { readStateFile } from '../store/state-file.ts';
import { openWorkflow, underRepoLock, type RepoContext } from '../store/workflow-session.ts';
import { compareText } from '../text-order.ts';
import type { CommandInput, CommandResult } from './types.ts';
import { buildView, renderView } from './workflow-view.ts';

interface SessionSummary {
  session_id: string;
  current: boolean;
  created_at: string | null;
  environment: string | null;
  task: string | null;
  status: string | null;
  phase: string | null;
  updated_at: string | null;
  problem: string | null;
}

function summarise(ctx: RepoContext, id: string, currentId: string | null): SessionSummary {
  const s = ctx.paths.session(id);
  const meta = readSessionMeta(s);
  const base = {
    session_id: id,
    current: id === currentId,
    created_at: meta?.created_at ?? null,
    environment: meta?.environment ?? null,
  };
  try {
    const loaded = readStateFile(s.state, ctx.paths.rel(s.state));
    const st = loaded?.state;
    return {
      ...base,
      task: st?.task_description ?? null,
      status: st?.status ?? null,
      phase: st?.current_phase_id ?? null,
      updated_at: st?.updated_at ?? null,
      problem: loaded?.checksumProblem ? 'checksum mismatch' : null,
    };
  } catch (err) {
    return { ...base, task: null, status: null, phase: null, updated_at: null, problem: (err as Error).message };
  }
}

export function list({ ctx }: CommandInput): CommandResult {
  const currentId = readCurrentSessionId(ctx.paths);
  const sessions = listSessionIds(ctx.paths)
    .map((id) => summarise(ctx, id, currentId))
    .sort((a, b) => compareText(String(a.created_at), String(b.created_at)));
  const lines = sessions.map(
    (s) =>
      `${s.current ? '*' : ' '} ${s.session_id}  ${(s.status ?? 'empty').padEnd(9)} ${(s.phase ?? '-').padEnd(9)} ${s.task ?? ''}${s.problem ? `  [${s.problem}]` : ''}`,
  );
  return {
    data: { ok: true, current: currentId, sessions },
    text: sessions.length ? lines.join('\n') : 'No sessions yet; start one with: orchestrator start "TASK"',
  };
}

export function show({ args, ctx }: CommandInput): CommandResult {
  const id = args.positionals[0];
  const sub = id ? { ...ctx, sessionFlag: requireSession(ctx, id) } : ctx;
  const choice = chooseSession(sub.paths, sub.sessionFlag, sub.env);
  if (!choice.id) throw new UnknownSessionError('no current session; list them with: orchestrator session list');
  const summary = summarise(sub, choice.id, readCurrentSessionId(ctx.paths));
  const meta = readSessionMeta(ctx.paths.session(choice.id));
  let view = null;
  if (summary.status) {
    const wf = openWorkflow(sub);
    view = buildView(choice.id, wf.loaded.state, wf.definition, wf.vars);
  }
  const head = `Session ${choice.id}${summary.current ? ' (current)' : ''}, created ${summary.created_at ?? '?'} in ${summary.environment ?? '?'}`;
  return {
    data: { ok: true, session: summary, meta, status: view },
    text: view ? `${head}\n\n${renderView(view)}` : `${head}\nNo workflow in it yet; start one with: orchestrator start "TASK"`,
  };
}

function requireSession(ctx: RepoContext, id: string): string {
  if (!isValidSessionId(id) || !sessionExists(ctx.paths.session(id))) {
    throw new UnknownSessionError(`no session "${id}" in ${ctx.paths.rel(ctx.paths.sessionsDir)}; list them with: orchestrator session list`);
  }
  return id;
}

export function switchTo({ args, ctx }: CommandInput): CommandResult {
  const id = requireSession(ctx, args.positionals[0]!);
  underRepoLock(ctx, () => writeCurrentSessionId(ctx.paths, id));
  return { data: { ok: true, current: id }, text: `Current session: ${id}\nNEXT: orchestrator status` };
}

export function create({ ctx }: CommandInput): CommandResult {
  const s = underRepoLock(ctx, () => {
    const now = ctx.now();
    ensureContainer(ctx.paths, now);
    const created = createSession(ctx.paths, now, detectEnvironment(ctx.env));
    writeCurrentSessionId(ctx.paths, created.id);
    return created;
  });
  return { data: { ok: true, current: s.id }, text: `New session ${s.id} (current)\nNEXT: orchestrator start "TASK"` };
}

export function end({ args, ctx }: CommandInput): CommandResult {
  const given = args.positionals[0];
  const notices: string[] = [];
  // Refuse before locking: taking the lock creates .orchestrator/locks/, and a refused command writes nothing.
  sessionToEnd(ctx, given);
  const id = underRepoLock(ctx, () => {
    const currentId = readCurrentSessionId(ctx.paths);
    const target = sessionToEnd(ctx, given);
    const state = readStateFile(ctx.paths.session(target).state)?.state;
    if (state?.status === 'active') {
      notices.push(`the workflow "${state.task_description}" in ${target} is still active; come back to it with: orchestrator session switch ${target}`);
    }
    if (currentId === target) {
      try {
        rmSync(ctx.paths.current, { force: true });
      } catch (err) {
        throw environmentErrorFrom(err, ctx.paths.rel(ctx.paths.current));
      }
    }
    return target;
  });
  return { data: { ok: true, ended: id }, text: `Session ${id} is no longer current (its files stay in ${ctx.paths.rel(ctx.paths.session(id).dir)})`, notices };
}

/** The session `session end [ID]` ends: the one named, else the current one. */
function sessionToEnd(ctx: RepoContext, given: string | undefined): string {
  const target = given ? requireSession(ctx, given) : readCurrentSessionId(ctx.paths);
  if (!target) throw new UsageError('no current session to end; name one: orchestrator session end ID');
  return target;
}
