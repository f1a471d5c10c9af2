// `approve-item ITEM`: the human decision a manual_gate item waits for.
import { str } from '../cli/args.ts';
import { approveItem } from '../engine/transitions.ts';
import { mutateWorkflow } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';
import { buildView, renderView } from './workflow-view.ts';

export function run({ args, ctx }: CommandInput): CommandResult {
  const itemId = args.positionals[0]!;
  const notes = str(args, 'notes');
  const m = mutateWorkflow(ctx, (state, def) => approveItem(state, def, { itemId, notes, now: ctx.now() }));
  const view = buildView(m.session.id, m.after, m.definition, m.vars);
  return { data: { ok: true, approved: itemId, status: view }, text: `Approved ${itemId}.\n\n${renderView(view)}` };
}
