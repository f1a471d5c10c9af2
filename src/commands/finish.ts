// `finish [--abandon]`: ends the workflow, completed (last phase done) or abandoned.
import { bool, str } from '../cli/args.ts';
import { UsageError } from '../errors.ts';
import { finishWorkflow } from '../engine/transitions.ts';
import { mutateWorkflow } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';
import { buildView, renderView } from './workflow-view.ts';

export async function run({ args, ctx }: CommandInput): Promise<CommandResult> {
  const abandon = bool(args, 'abandon');
  const reason = str(args, 'reason');
  if (reason !== undefined && !abandon) throw new UsageError('--reason goes with --abandon: orchestrator finish --abandon --reason "WHY"');
  const m = mutateWorkflow(ctx, (state, def) => finishWorkflow(state, def, { abandon, reason, now: ctx.now() }));
  const view = buildView(m.session.id, m.after, m.definition, m.vars);
  const verb = abandon ? 'Abandoned' : 'Completed';
  // Process and tool feedback of the ended workflow (off with ORCHESTRATOR_SKIP_FEEDBACK).
  const captureProblem = (await import('../feedback/on-finish.ts')).captureOnFinish(ctx);
  return {
    data: { ok: true, status: view },
    text: `${verb} workflow "${m.after.task_description}".\n\n${renderView(view)}`,
    ...(captureProblem ? { notices: [captureProblem] } : {}),
  };
}
