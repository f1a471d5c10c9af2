#!/usr/bin/env node
// The command line: parse, dispatch, print, map errors to exit codes. Nothing else lives here.
import { existsSync, writeSync } from 'node:fs';
import { loadConfig, parseConfigFlags } from '../config/load.ts';
import { decideLayout } from '../migrate/guard.ts';
import type { RepoContext } from '../store/workflow-session.ts';
import { ExitCode, OrchestratorError, UsageError } from '../errors.ts';
import { resolveRepoRoot, RepoPaths } from '../store/paths.ts';
import { releaseAllLocks } from '../store/lock.ts';
import { VERSION } from '../version.ts';
import { bool, parseArgs, str, strs } from './args.ts';
import { COMMANDS, findCommand } from './command-specs.ts';
import { commandHelp, globalHelp } from './help.ts';

interface Io {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Asked only when a command wants to prompt: touching process.stdin costs start-up time. */
  stdinIsTTY: () => boolean;
  /** Called before a command that writes runs: a signal must not leave the repo lock behind. */
  beforeWrite: () => void;
}

export async function main(io: Io): Promise<number> {
  const { argv } = io;
  const wantsJson = argv.includes('--json');
  try {
    if (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version') {
      io.stdout(`${VERSION}\n`);
      return ExitCode.ok;
    }
    if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
      const sub = argv[0] === 'help' ? findCommand(argv.slice(1)) : null;
      io.stdout(sub ? commandHelp(sub.spec) : globalHelp());
      return ExitCode.ok;
    }
    const found = findCommand(argv);
    if (!found) {
      const subs = COMMANDS.filter((c) => c.name.length > 1 && c.name[0] === argv[0]).map((c) => c.name[1]!);
      const group = subs.length ? ` (${argv[0]} takes ${subs.slice(0, -1).join(', ')} or ${subs.at(-1)})` : '';
      throw new UsageError(`unknown command "${argv.slice(0, subs.length ? 2 : 1).join(' ')}"${group}; see: orchestrator --help`);
    }
    const { spec, rest } = found;
    const name = spec.name.join(' ');
    const args = parseArgs(rest, spec.flags, name);
    if (bool(args, 'help')) {
      io.stdout(commandHelp(spec));
      return ExitCode.ok;
    }
    if (args.positionals.length < spec.args.min || args.positionals.length > spec.args.max) {
      throw new UsageError(`usage: orchestrator ${spec.usage}; see: orchestrator ${name} --help`);
    }
    const root = resolveRepoRoot({ rootFlag: str(args, 'root'), cwd: io.cwd, env: io.env });
    const writes = typeof spec.writes === 'function' ? spec.writes(args) : spec.writes;
    if (writes) io.beforeWrite();
    const ctx: RepoContext = {
      paths: new RepoPaths(root),
      cwd: io.cwd,
      env: io.env,
      sessionFlag: str(args, 'session'),
      now: () => new Date().toISOString(),
      command: name,
    };
    ctx.config = loadConfig(ctx.paths, io.env, parseConfigFlags(strs(args, 'config')));
    for (const w of ctx.config.warnings) io.stderr(`orchestrator: warning: ${w}\n`);
    if (spec.name[0] !== 'validate') {
      for (const notice of await settleLayout(ctx, spec.name[0] === 'migrate' ? null : writes)) io.stderr(`orchestrator: ${notice}\n`);
    }
    const run = await spec.load();
    const result = await run({ args, ctx, interactive: () => io.stdinIsTTY() && !io.env.CI });
    const notices = result.notices ?? [];
    if (writes && (result.exitCode ?? 0) === 0) {
      if (ctx.config.files.some((f) => f.kind.startsWith('legacy-')) && existsSync(ctx.paths.container)) {
        notices.push(...(await import('../config/legacy-notice.ts')).legacyConfigNotices(ctx));
      }
      if (spec.name[0] !== 'state' && spec.name[0] !== 'hooks') {
        const failed = await (await import('../statebranch/auto-save.ts')).autoSave(ctx);
        if (failed) notices.push(failed);
      }
      // repos.json (repos list|status); read-only commands never write it, so `status` stays cheap.
      const unrecorded = (await import('../repos/registry.ts')).rememberRepo(ctx);
      if (unrecorded) notices.push(unrecorded);
    }
    for (const n of notices) io.stderr(`orchestrator: ${n}\n`);
    if (bool(args, 'json')) io.stdout(JSON.stringify(result.data, null, 2) + '\n');
    else if (result.text) io.stdout(result.text.endsWith('\n') ? result.text : result.text + '\n');
    return result.exitCode ?? ExitCode.ok;
  } catch (err) {
    return reportError(err, wantsJson, io);
  }
}

/**
 * Before a command: finish or undo an interrupted migration (whatever the command), then decide
 * the layout it works on (dual mode). `writes` null: the command manages layouts itself (migrate).
 */
async function settleLayout(ctx: RepoContext, writes: boolean | null): Promise<string[]> {
  const notices: string[] = [];
  if (existsSync(ctx.paths.migrationJournal)) {
    const recovered = (await import('../commands/migrate.ts')).recoverInterrupted(ctx);
    if (recovered) notices.push(recovered);
  }
  if (writes === null) return notices;
  const decision = decideLayout(ctx.paths, ctx.config!, writes);
  if (decision.migrateFirst) {
    const r = await (await import('../commands/migrate.ts')).migrateNow(ctx);
    const origin = ctx.config!.values.get('migrate.auto')!.origin;
    const who = origin.startsWith('ORCHESTRATOR_') ? origin : `migrate.auto (${origin})`;
    notices.push(`${who}: migrated ${r.plan.files} legacy files into .orchestrator/ first (undo with: orchestrator migrate --rollback)`);
  }
  ctx.legacy = decision.mode === 'legacy';
  if (decision.notice) notices.push(decision.notice);
  return notices;
}

function reportError(err: unknown, json: boolean, io: Io): number {
  if (err instanceof OrchestratorError) {
    io.stderr(`orchestrator: error: ${err.message}\n`);
    // A failed command's own output is what the agent needs to fix it.
    const tail = err.data.output_tail;
    if (typeof tail === 'string' && tail.trim() && !json) io.stderr(`--- output (last ${tail.length} chars) ---\n${tail.trimEnd()}\n---\n`);
    if (json) {
      io.stdout(JSON.stringify({ ok: false, error: { code: err.code, exit_code: err.exitCode, message: err.message, ...err.data } }, null, 2) + '\n');
    }
    return err.exitCode;
  }
  const e = err as Error;
  io.stderr(`orchestrator: internal error: ${e?.message ?? String(err)}; please report it (ORCHESTRATOR_DEBUG=1 prints the stack)\n`);
  if (io.env.ORCHESTRATOR_DEBUG) io.stderr(`${e?.stack ?? ''}\n`);
  if (json) io.stdout(JSON.stringify({ ok: false, error: { code: 'INTERNAL', exit_code: 1, message: e?.message ?? String(err) } }) + '\n');
  return ExitCode.checkFailed;
}

function onSignal(signal: NodeJS.Signals, code: number): void {
  process.on(signal, () => {
    releaseAllLocks();
    process.exit(code);
  });
}

/**
 * Writes straight to the file descriptor: process.stdout would load Node's stream machinery, a
 * measurable share of `status`'s start-up. Retries EAGAIN, which a non-blocking pipe can return.
 */
function writeFd(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

if (require.main === module) {
  void main({
    argv: process.argv.slice(2),
    cwd: process.cwd(),
    env: process.env,
    stdout: (s) => writeFd(1, s),
    stderr: (s) => writeFd(2, s),
    // node:tty loads the net and stream modules: only require it when a prompt is possible.
    stdinIsTTY: () => (require('node:tty') as typeof import('node:tty')).isatty(0),
    beforeWrite: () => {
      onSignal('SIGINT', 130);
      onSignal('SIGTERM', 143);
    },
  }).then((code) => {
    // Exit now: a bounded network call that timed out (auto-push, the session-start pull) must not
    // keep the process alive after the command is done. Output went out with writeSync.
    process.exit(code);
  });
}
