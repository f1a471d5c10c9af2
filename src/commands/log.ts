// `log [-n N]`: the session's last events. Lines that do not parse (a crash cut one) are reported, never dropped.
import { readFileSync } from 'node:fs';
import { str } from '../cli/args.ts';
import { ExitCode, UsageError, environmentErrorFrom } from '../errors.ts';
import { parseJsonLines } from '../store/jsonl.ts';
import { noSessionError } from '../store/sessions.ts';
import { chosenSession } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';

export function run({ args, ctx }: CommandInput): CommandResult {
  const nRaw = str(args, 'n') ?? '20';
  const n = Number(nRaw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`-n ${nRaw}: give a positive whole number of events, e.g. -n 50`);
  const { choice, session } = chosenSession(ctx);
  if (!choice.id || !session) throw noSessionError(ctx.paths);
  const logPath = session.log;
  const shown = ctx.paths.rel(logPath);
  let text = '';
  try {
    text = readFileSync(logPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw environmentErrorFrom(err, shown);
  }
  const { records, bad } = parseJsonLines(text);
  const events = records.slice(-n).map((r) => r.value as Record<string, unknown>);
  const whereOf = (e: Record<string, unknown>) => [e.phase_id, e.item_id].filter(Boolean).join('/');
  const width = Math.max(0, ...events.map((e) => whereOf(e).length));
  const human = events.map(
    (e) => `${String(e.timestamp)}  ${String(e.event_type).padEnd(20)} ${whereOf(e).padEnd(width)}  ${String(e.message ?? '')}`,
  );
  const notices = bad.map(
    (b) => `${shown}:${b.line}: not a complete JSON line (a crash may have cut it); it is kept as is and skipped: see orchestrator doctor`,
  );
  return {
    exitCode: bad.length ? ExitCode.badInput : ExitCode.ok,
    data: { ok: bad.length === 0, session_id: choice.id, events, bad_lines: bad.map((b) => b.line) },
    text: human.length ? human.join('\n') : `(no events in ${shown})`,
    notices,
  };
}
