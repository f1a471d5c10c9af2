// `migrate`: moves the Python tool's scattered files into .orchestrator/, all or nothing, and back.
import { bool, str } from '../cli/args.ts';
import { OrchestratorError, UsageError, type ExitCodeValue } from '../errors.ts';
import { existsSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { abandonStaging, finishMigration, rollbackMigration, runMigration, StagingRefusedError, startStagingWorkers, type MigrationProgress, type StagingWorkers } from '../migrate/execute.ts';
import { isInterrupted, readJournal, type Journal } from '../migrate/journal.ts';
import { planMigration, type MigrationPlan, type Prefer } from '../migrate/plan.ts';
import type { TreeWalk } from '../migrate/tree.ts';
import { underRepoLock, underRepoLockAsync, type RepoContext } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';

class MigrationRefusedError extends OrchestratorError {
  readonly code = 'MIGRATION_PREFLIGHT';
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue, data: Record<string, unknown>) {
    super(message, data);
    this.exitCode = exitCode;
  }
}

function preferOf(raw: string | undefined): Prefer | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'old' || raw === 'new') return raw;
  throw new UsageError(`--prefer ${raw}: say old (the legacy files win) or new (the contained files win)`);
}

function kb(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function describePlan(plan: MigrationPlan): string {
  const w = Math.max(0, ...plan.moves.map((m) => m.from.length));
  const lines = plan.moves.map((m) => {
    const to = m.to ? `.orchestrator/${m.to}` : '(backup only)';
    return `  ${m.from.padEnd(w)}  ->  ${to}  ${m.files} file${m.files === 1 ? '' : 's'}, ${kb(m.bytes)}${m.note ? `  (${m.note})` : ''}`;
  });
  lines.push(`Total: ${plan.files} files, ${kb(plan.bytes)}${plan.sessionId ? `; the workflow becomes session ${plan.sessionId}` : ''}.`);
  lines.push('Originals are moved to .orchestrator/backups/<timestamp>/; undo with: orchestrator migrate --rollback');
  if (plan.problems.length) {
    lines.push(`Problems (${plan.problems.length}):`);
    for (const p of plan.problems) lines.push(`  ${p.path}: ${p.message}`);
  } else lines.push('Problems: none.');
  return lines.join('\n');
}

/** The plan without reading contents, with the listings it made (planMigration's `walks`). */
function structuralPlan(ctx: RepoContext, prefer: Prefer | undefined): { plan: MigrationPlan; walks: Map<string, TreeWalk> } {
  const walks = new Map<string, TreeWalk>();
  return { plan: planMigration(ctx.paths, { prefer, content: false }, walks), walks };
}

function refuseProblems(plan: MigrationPlan): void {
  const first = plan.problems[0];
  if (!first) return;
  const more = plan.problems.length > 1 ? ` (and ${plan.problems.length - 1} more: orchestrator migrate --dry-run lists them)` : '';
  throw new MigrationRefusedError(`${first.path}: ${first.message}${more}`, first.exitCode, { problems: plan.problems });
}

/** Finishes or undoes an interrupted migration; the caller holds the repo lock. */
export function recoverLocked(ctx: RepoContext, j: Journal): string {
  if (j.status === 'staging') {
    abandonStaging(ctx.paths, j, ctx.now);
    return 'an interrupted migration was undone: the legacy files are where they were';
  }
  if (j.status === 'rolling_back') {
    rollbackMigration(ctx.paths, j, ctx.now, true);
    return 'an interrupted migration rollback was finished: the legacy files are back';
  }
  finishMigration(ctx.paths, j, ctx.now);
  return 'an interrupted migration was finished: everything is in .orchestrator/ (undo with: orchestrator migrate --rollback)';
}

/** For the CLI before any command: returns a notice when it had to finish or undo a migration. */
export function recoverInterrupted(ctx: RepoContext): string | null {
  if (!isInterrupted(readJournal(ctx.paths))) return null;
  return underRepoLock(ctx, () => {
    const j = readJournal(ctx.paths);
    return isInterrupted(j) ? recoverLocked(ctx, j) : null;
  });
}

/**
 * Refuses on any structural problem before touching anything, then migrates under the lock. The
 * contents are checked as they are copied into the staging area: a bad file stops the migration
 * before any original moved, and leaves every file as it was.
 */
export async function migrateNow(
  ctx: RepoContext,
  prefer?: Prefer,
  progress?: MigrationProgress,
  /** The caller's structural plan, made just before with these listings (see planMigration). */
  early: { plan: MigrationPlan; walks: Map<string, TreeWalk> } = structuralPlan(ctx, prefer),
  workers?: StagingWorkers,
): Promise<{ plan: MigrationPlan; journal: Journal | null; already: boolean }> {
  // Refuse before taking the lock (which creates .orchestrator/locks/), unless files moved while
  // they were checked: another migrate holds the lock then, and the plan under the lock decides.
  if (!early.plan.problems.some((p) => p.raced)) refuseProblems(early.plan);
  // Directories the lock and the migration may create, innermost first.
  const made = [join(ctx.paths.container, 'locks'), ctx.paths.container].filter((d) => !existsSync(d));
  try {
    return await underRepoLockAsync(ctx, async () => {
      const plan = planMigration(ctx.paths, { prefer, content: false }, early.walks);
      if (plan.moves.length === 0) return { plan, journal: readJournal(ctx.paths), already: true };
      refuseProblems(plan);
      return { plan, journal: await runMigration(ctx.paths, plan, ctx.now, { progress, walks: early.walks, workers }), already: false };
    });
  } catch (err) {
    if (!(err instanceof StagingRefusedError)) throw err;
    // The lock is released: remove the directories it needed, if this migration made them.
    for (const dir of made) {
      try {
        rmdirSync(dir);
      } catch {
        // not empty: another process is using it
      }
    }
    const p = err.problem;
    throw new MigrationRefusedError(`${p.path}: ${p.message}`, p.exitCode, { problems: [p] });
  }
}

function progressBar(): MigrationProgress | undefined {
  const tty = require('node:tty') as typeof import('node:tty');
  if (!tty.isatty(2) || process.env.CI) return undefined;
  let last = 0;
  return (done, total) => {
    if (total.bytes < 4 * 1024 * 1024) return;
    const now = Date.now();
    if (now - last < 100 && done.files < total.files) return;
    last = now;
    const frac = total.bytes ? done.bytes / total.bytes : 1;
    const bar = '#'.repeat(Math.round(frac * 30)).padEnd(30, '.');
    process.stderr.write(`\r[${bar}] ${Math.round(frac * 100)}% ${done.files}/${total.files} files, ${kb(done.bytes)}/${kb(total.bytes)}${done.files === total.files ? '\n' : ''}`);
  };
}

export async function run({ args, ctx }: CommandInput): Promise<CommandResult> {
  const prefer = preferOf(str(args, 'prefer'));
  if (bool(args, 'rollback')) {
    if (bool(args, 'dry-run')) throw new UsageError('--rollback and --dry-run go separately: orchestrator migrate --rollback');
    const j0 = readJournal(ctx.paths);
    if (!j0 || j0.status !== 'done') {
      throw new UsageError(`no finished migration to roll back${j0 ? ` (the last one is ${j0.status})` : ''}; see: orchestrator doctor`);
    }
    const j = underRepoLock(ctx, () => {
      const cur = readJournal(ctx.paths);
      if (!cur || cur.status !== 'done') throw new UsageError('no finished migration to roll back; see: orchestrator doctor');
      return rollbackMigration(ctx.paths, cur, ctx.now);
    });
    return {
      data: { ok: true, rolled_back: j.id, restored: j.moves.map((m) => m.from) },
      text: `Rolled back migration ${j.id}: ${j.moves.map((m) => m.from).join(', ')} are back, byte for byte.`,
    };
  }
  const dryRun = bool(args, 'dry-run');
  // Worker threads for a big legacy file start now, while the plan lists the tree.
  const workers = !dryRun && bool(args, 'yes') ? startStagingWorkers(ctx.paths) : undefined;
  try {
    return await planAndMigrate(ctx, args, prefer, dryRun, workers);
  } finally {
    await workers?.close();
  }
}

async function planAndMigrate(ctx: RepoContext, args: CommandInput['args'], prefer: Prefer | undefined, dryRun: boolean, workers: StagingWorkers | undefined): Promise<CommandResult> {
  const walks = new Map<string, TreeWalk>();
  const plan = planMigration(ctx.paths, { prefer, content: dryRun }, walks);
  if (dryRun) {
    const journal = readJournal(ctx.paths);
    const text = plan.moves.length
      ? `Migration plan (nothing changed yet):\n${describePlan(plan)}`
      : journal?.status === 'done'
        ? 'Already migrated: no legacy files left (orchestrator migrate --rollback undoes it).'
        : 'Nothing to migrate: no legacy files in this repo.';
    return { exitCode: plan.problems.length ? plan.problems[0]!.exitCode : 0, data: { ok: plan.problems.length === 0, dry_run: true, ...plan }, text };
  }
  // Never a prompt: moving a user's files takes an explicit --yes, after --dry-run if they like.
  if (plan.moves.length > 0 && !bool(args, 'yes')) {
    refuseProblems(plan);
    throw new UsageError(`migrate moves ${plan.files} legacy files into .orchestrator/ and needs a yes: rerun with --yes (orchestrator migrate --dry-run shows the plan)`);
  }
  const r = await migrateNow(ctx, prefer, progressBar(), { plan, walks }, workers);
  if (r.already) {
    const done = r.journal?.status === 'done';
    return {
      data: { ok: true, already_migrated: done, nothing_to_migrate: !done },
      text: done ? 'Already migrated: nothing left to move.' : 'Nothing to migrate: no legacy files in this repo.',
    };
  }
  const j = r.journal!;
  return {
    data: { ok: true, migrated: j.id, session_id: j.session_id, backup: `.orchestrator/${j.backup}`, files: r.plan.files, bytes: r.plan.bytes, moves: r.plan.moves },
    text: `Migrated ${r.plan.files} files (${kb(r.plan.bytes)}) into .orchestrator/${j.session_id ? ` (session ${j.session_id})` : ''}; originals kept in .orchestrator/${j.backup}/.\nUndo with: orchestrator migrate --rollback\nNEXT: orchestrator status`,
  };
}
