// `doctor`: reads everything under .orchestrator/ and reports what is wrong, with the fix.
// It writes only with --reseal, which accepts a hand-edited state under the lock, and with
// --fix-repo-id, which gives a copied .orchestrator/ this repo's own id.
import { existsSync, readFileSync } from 'node:fs';
import { bool } from '../cli/args.ts';
import { NoWorkflowError } from '../errors.ts';
import type { WorkflowState } from '../engine/workflow-state.ts';
import { eventsAheadOfState } from '../engine/log-consistency.ts';
import { entriesOrNone } from '../store/file-reads.ts';
import { parseJsonLines } from '../store/jsonl.ts';
import { LEGACY_SESSION_ID, type SessionPaths } from '../store/paths.ts';
import { detectLayout } from '../migrate/legacy-layout.ts';
import { readJournal, type Journal } from '../migrate/journal.ts';
import { appendAudit, verifyAuditChain } from '../store/audit.ts';
import { readOwner, staleReason } from '../store/lock.ts';
import { readRepoMeta } from '../store/repo-meta.ts';
import { fixRepoId, foreignContainerProblem } from '../repos/identity-check.ts';
import { listSessionIds, readCurrentSessionId, readSessionMeta, sessionExists } from '../store/sessions.ts';
import { readStateFile } from '../store/state-file.ts';
import { chosenSession, sealState, underRepoLock, type RepoContext } from '../store/workflow-session.ts';
import { definitionOfState, readDefinitionFile } from '../engine/load-definition.ts';
import type { WorkflowDefinition } from '../engine/definition.ts';
import type { CommandInput, CommandResult } from './types.ts';

export interface Finding {
  level: 'ok' | 'problem' | 'note';
  subject: string;
  message: string;
}

const ID_SOURCE = { remote: 'its origin URL', root_commit: 'its root commit', random: 'chance: it has no origin and no commit' } as const;

export function run({ args, ctx }: CommandInput): CommandResult {
  const resealed = bool(args, 'reseal') ? reseal(ctx) : null;
  const fixedId = bool(args, 'fix-repo-id') ? fixRepoId(ctx) : null;
  const findings = examine(ctx);
  const problems = findings.filter((f) => f.level === 'problem');
  const mark = { ok: 'ok     ', problem: 'PROBLEM', note: 'note   ' } as const;
  const lines = findings.map((f) => `${mark[f.level]}  ${f.subject}: ${f.message}`);
  if (resealed) lines.unshift(`Resealed ${resealed}: its checksum now matches its content.`);
  if (bool(args, 'fix-repo-id')) lines.unshift(fixedId ? `Repo id ${fixedId.from} replaced by this repo's own, ${fixedId.to} (from ${ID_SOURCE[fixedId.source]}).` : 'The repo id is this repo\'s own; nothing to fix.');
  lines.push(problems.length ? `${problems.length} problem${problems.length === 1 ? '' : 's'} found` : 'No problems found');
  return {
    exitCode: problems.length ? 1 : 0,
    data: { ok: problems.length === 0, root: ctx.paths.root, resealed, ...(bool(args, 'fix-repo-id') ? { fixed_repo_id: fixedId } : {}), findings },
    text: lines.join('\n'),
  };
}

function reseal(ctx: RepoContext): string {
  // Refuse before locking: taking the lock creates .orchestrator/locks/, and a refused command writes nothing.
  stateToReseal(ctx);
  return underRepoLock(ctx, () => {
    const { session, shown, state, definition } = stateToReseal(ctx);
    const now = ctx.now();
    if (!ctx.legacy) appendAudit(ctx.paths.audit, now, [{ event: 'state_resealed', data: { session_id: session.id, workflow_id: state.workflow_id } }]);
    sealState(session, state, definition, now);
    return shown;
  });
}

/** The chosen session's state file and its content; throws when there is none. */
function stateToReseal(ctx: RepoContext): { session: SessionPaths; shown: string; state: WorkflowState; definition: WorkflowDefinition } {
  const { choice, session } = chosenSession(ctx);
  if (!choice.id || !session) throw new NoWorkflowError('no session to reseal; pick one with --session ID');
  const shown = ctx.paths.rel(session.state);
  const loaded = readStateFile(session.state, shown);
  if (!loaded) throw new NoWorkflowError(`${shown} does not exist; nothing to reseal`);
  // An edit is accepted only if what it left is a valid workflow: its definition is checked too.
  const definition = definitionOfState(loaded.state.workflow_definition, shown, () => readDefinitionFile(ctx.paths, ctx.cwd));
  return { session, shown, state: loaded.state, definition };
}

export function examine(ctx: RepoContext): Finding[] {
  const { paths } = ctx;
  const out: Finding[] = [];
  const add = (level: Finding['level'], subject: string, message: string) => out.push({ level, subject, message });
  const legacy = detectLayout(paths).legacy;
  if (legacy.length > 0) {
    add('note', 'legacy layout', `${legacy.map((e) => e.from).join(', ')}: run orchestrator migrate --dry-run, then orchestrator migrate --yes`);
    if (legacy.some((e) => e.kind === 'state')) examineSession(ctx, paths.legacySession(), add);
  }
  const journal = readJournalSafe(ctx, add);
  if (journal) add('ok', paths.rel(paths.migrationJournal), `last migration ${journal.id}: ${journal.status}`);
  if (!existsSync(paths.container)) {
    add('note', paths.rel(paths.container), 'does not exist yet; the first start (or init) creates it');
    return out;
  }
  if (!existsSync(paths.gitignore)) {
    add('problem', paths.rel(paths.gitignore), 'missing, so git may show state files; run: orchestrator init');
  } else add('ok', paths.rel(paths.gitignore), 'present');
  try {
    const meta = readRepoMeta(paths);
    const foreign = meta ? foreignContainerProblem(paths, meta) : null;
    if (foreign) add('problem', paths.rel(paths.meta), foreign);
    else if (meta) add('ok', paths.rel(paths.meta), `repo id ${meta.repo_id}, layout ${meta.layout}`);
    else add('note', paths.rel(paths.meta), 'missing; the next writing command creates it');
  } catch (err) {
    add('problem', paths.rel(paths.meta), (err as Error).message);
  }
  let currentId: string | null = null;
  try {
    currentId = readCurrentSessionId(paths);
    if (currentId && !sessionExists(paths.session(currentId))) {
      add('problem', paths.rel(paths.current), `names session ${currentId}, which does not exist; pick one with: orchestrator session switch ID`);
    } else add('ok', paths.rel(paths.current), currentId ? `session ${currentId}` : 'no current session');
  } catch (err) {
    add('problem', paths.rel(paths.current), (err as Error).message);
  }
  for (const id of listSessionIds(paths)) examineSession(ctx, paths.session(id), add);
  examineAudit(ctx, add);
  const lock = readOwner(paths.repoLock);
  if (lock !== 'missing') {
    const stale = staleReason(paths.repoLock, lock);
    const who = lock === 'unreadable' ? 'an unknown owner' : `pid ${lock.pid} on ${lock.host}`;
    if (stale) add('note', paths.rel(paths.repoLock), `stale (${stale}); the next writing command breaks it`);
    else add('note', paths.rel(paths.repoLock), `held by ${who} right now`);
  }
  return out;
}

function examineAudit(ctx: RepoContext, add: (l: Finding['level'], s: string, m: string) => void): void {
  const shown = ctx.paths.rel(ctx.paths.audit);
  try {
    const chain = verifyAuditChain(ctx.paths.audit);
    if (!chain) return;
    if (chain.broken) {
      add('problem', `${shown}:${chain.broken.line}`, `audit chain broken at record ${chain.records + 1}: ${chain.broken.reason}; the records before it verify, keep the file as evidence`);
    } else add('ok', shown, `${chain.records} records, hash chain verified`);
  } catch (err) {
    add('problem', shown, (err as Error).message);
  }
}

function readJournalSafe(ctx: RepoContext, add: (l: Finding['level'], s: string, m: string) => void): Journal | null {
  try {
    return readJournal(ctx.paths);
  } catch (err) {
    add('problem', ctx.paths.rel(ctx.paths.migrationJournal), (err as Error).message);
    return null;
  }
}

function examineSession(ctx: RepoContext, s: SessionPaths, add: (l: Finding['level'], s: string, m: string) => void): void {
  const { paths } = ctx;
  const id = s.id;
  if (s.id !== LEGACY_SESSION_ID && !readSessionMeta(s)) add('problem', paths.rel(s.meta), 'missing or not valid JSON; the session still works, but its creation time and environment are unknown');
  let state: WorkflowState | null = null;
  try {
    const loaded = readStateFile(s.state, paths.rel(s.state));
    state = loaded?.state ?? null;
    if (!loaded) add('note', paths.rel(s.state), 'no workflow started in this session');
    else if (loaded.checksumProblem) {
      const p = loaded.checksumProblem;
      add('problem', paths.rel(s.state), `checksum mismatch (recorded ${p.expected}, content ${p.actual}): changed outside orchestrator; restore it, or accept it with: orchestrator doctor --reseal --session ${id}`);
    } else add('ok', paths.rel(s.state), `${loaded.state.status}, phase ${loaded.state.current_phase_id}${loaded.state._checksum ? ', checksum verified' : ', no checksum (older file)'}`);
  } catch (err) {
    add('problem', paths.rel(s.state), (err as Error).message);
  }
  if (existsSync(s.log)) {
    const { records, bad } = parseJsonLines(readFileSync(s.log, 'utf8'));
    for (const b of bad) {
      add('problem', `${paths.rel(s.log)}:${b.line}`, 'not a complete JSON line (a crash may have cut it); it is kept and skipped by readers, delete that line by hand once you have looked at it');
    }
    if (!bad.length) add('ok', paths.rel(s.log), `${records.length} events`);
    for (const m of state ? eventsAheadOfState(state, records) : []) {
      add(
        'problem',
        `${paths.rel(s.log)}:${m.line}`,
        `records ${m.event} for ${m.item}, but the state says ${m.stateStatus}: a command was interrupted between writing the log and the state; check the item and run the command again`,
      );
    }
  }
  const leftovers = entriesOrNone(s.dir).filter((n) => n.includes('.tmp-'));
  if (leftovers.length) add('note', paths.rel(s.dir), `${leftovers.length} temporary file(s) left by an interrupted write (${leftovers[0]}); safe to delete`);
}
