// `checkpoints`: the chosen session's checkpoints, oldest first. Read-only, so it also works on
// the Python tool's legacy files before they are migrated.
import { listCheckpoints } from '../store/checkpoints.ts';
import { noSessionError } from '../store/sessions.ts';
import { chosenSession } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';

export function run({ ctx }: CommandInput): CommandResult {
  const { choice, session } = chosenSession(ctx);
  if (!choice.id || !session) throw noSessionError(ctx.paths);
  const dir = ctx.paths.rel(session.checkpoints);
  const list = listCheckpoints(session.checkpoints);
  const good = list.filter((c) => !c.problem);
  const idWidth = Math.max(0, ...good.map((c) => c.id.length));
  const lines = good.map((c) => {
    const where = [c.phase_id, c.item_id].filter(Boolean).join('/');
    return `${c.id.padEnd(idWidth)}  ${c.timestamp ?? '?'}  ${where.padEnd(10)}  ${c.message ?? ''}`;
  });
  return {
    data: { ok: true, session_id: choice.id, directory: dir, checkpoints: list },
    text: lines.length ? lines.join('\n') : `(no checkpoints in ${dir})`,
    notices: list.filter((c) => c.problem).map((c) => `${dir}/${c.file}: ${c.problem}; it is left as it is (see orchestrator doctor)`),
  };
}
