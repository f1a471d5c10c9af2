// `status`: the agent's dashboard. Reads only: state.json (and its embedded definition), never the log;
// meta.json and git's config too, to warn when .orchestrator/ was copied from another repository.
import { foreignContainerWarning } from '../repos/identity-check.ts';
import { lastPushFailure } from '../statebranch/push-record.ts';
import { openWorkflow } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';
import { buildView, renderView } from './workflow-view.ts';

export function run({ ctx }: CommandInput): CommandResult {
  const wf = openWorkflow(ctx);
  const problems: string[] = [];
  const cp = wf.loaded.checksumProblem;
  if (cp) {
    problems.push(
      `${wf.stateShown}: checksum mismatch (recorded ${cp.expected}, content ${cp.actual}); the file was changed outside orchestrator: restore it, or accept the edit with: orchestrator doctor --reseal`,
    );
  }
  const view = buildView(wf.choice.id, wf.loaded.state, wf.definition, wf.vars, problems);
  const push = lastPushFailure(ctx.paths);
  const foreign = foreignContainerWarning(ctx.paths);
  return {
    exitCode: problems.length ? 1 : 0,
    data: { ok: problems.length === 0, ...view, last_push_failure: push },
    text: renderView(view),
    notices: [
      ...(push ? [`the last automatic push of the state branch failed (${push.at}: ${push.error}); run: orchestrator state push`] : []),
      ...(foreign ? [foreign] : []),
    ],
  };
}
