// `advance`: to the next phase, once nothing required is left in this one.
import { advancePhase } from '../engine/transitions.ts';
import { mutateWorkflow } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';
import { buildView, renderView } from './workflow-view.ts';

export function run({ ctx }: CommandInput): CommandResult {
  const m = mutateWorkflow(ctx, (state, def) => advancePhase(state, def, { now: ctx.now() }));
  const view = buildView(m.session.id, m.after, m.definition, m.vars);
  const from = m.before.current_phase_id;
  return {
    data: { ok: true, from, to: m.after.current_phase_id, status: view },
    text: `Advanced from ${from} to ${m.after.current_phase_id}.\n\n${renderView(view)}`,
  };
}
