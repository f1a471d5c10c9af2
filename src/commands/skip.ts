// `skip ITEM --reason TEXT`: only for items the workflow lets go, with a reason worth reading.
import { bool, str } from '../cli/args.ts';
import { UsageError } from '../errors.ts';
import { skipItem } from '../engine/transitions.ts';
import { mutateWorkflow } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';
import { buildView, renderView } from './workflow-view.ts';

export function run({ args, ctx }: CommandInput): CommandResult {
  const itemId = args.positionals[0]!;
  const reason = str(args, 'reason');
  if (reason === undefined) throw new UsageError(`skip needs a reason: orchestrator skip ${itemId} --reason "WHY IT DOES NOT APPLY"`);
  const force = bool(args, 'force');
  const m = mutateWorkflow(ctx, (state, def) => skipItem(state, def, { itemId, reason, force, now: ctx.now() }));
  const view = buildView(m.session.id, m.after, m.definition, m.vars);
  return { data: { ok: true, skipped: itemId, status: view }, text: `Skipped ${itemId}.\n\n${renderView(view)}` };
}
