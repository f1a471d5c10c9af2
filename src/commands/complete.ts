// `complete ITEM`: checks the item can be completed, runs its verification OUTSIDE the repo lock
// (a test suite may take minutes; nobody should wait on it), then records the result under the lock.
import { str } from '../cli/args.ts';
import { VerificationFailedError } from '../errors.ts';
import { checkCompletable, completeItem } from '../engine/transitions.ts';
import { runVerification } from '../engine/verify.ts';
import { resolveItemRepo } from '../repos/item-repo.ts';
import { checksumError } from '../store/state-file.ts';
import { mutateWorkflow, openWorkflow } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';
import { buildView, renderView } from './workflow-view.ts';

export async function run({ args, ctx }: CommandInput): Promise<CommandResult> {
  const itemId = args.positionals[0]!;
  const notes = str(args, 'notes');
  const wf = openWorkflow(ctx);
  if (wf.loaded.checksumProblem) throw checksumError(wf.stateShown, wf.loaded.checksumProblem);
  const ref = checkCompletable(wf.loaded.state, wf.definition, itemId);
  const source = String(wf.loaded.state.metadata?.workflow_yaml_path ?? 'workflow.yaml');
  const checks = ref.item.verification.type === 'file_exists' || ref.item.verification.type === 'command';
  const other = checks ? resolveItemRepo(ref.item, { root: ctx.paths.root, config: ctx.config, env: ctx.env }, `${source}: item ${itemId}`) : null;
  const verified = await runVerification(ref.item, {
    root: other?.root ?? ctx.paths.root,
    vars: wf.vars,
    now: ctx.now,
    source,
    env: ctx.env,
  });
  // The log's verification_passed details carry the result: in another repo, which one it was.
  const result = verified && other ? { ...verified, repo: other.repo, repo_root: other.root, repo_id: other.repo_id } : verified;
  const inRepo = other ? ` in ${other.root}` : '';
  if (result && !result.passed) {
    const what =
      result.type === 'file_exists'
        ? `${result.path} does not exist${inRepo}; create it`
        : result.timed_out
          ? `"${(result.command ?? []).join(' ')}"${inRepo} timed out; make it finish or raise verification.timeout`
          : `"${(result.command ?? []).join(' ')}"${inRepo} exited ${result.exit_code ?? 'without running'} (expected ${String(result['expected_exit_code'] ?? 0)}); fix what it reports`;
    throw new VerificationFailedError(`verification of ${itemId} failed: ${what}, then run: orchestrator complete ${itemId}`, {
      item: itemId,
      verification_result: result,
      ...(result.output_tail ? { output_tail: result.output_tail } : {}),
    });
  }
  const m = mutateWorkflow(
    ctx,
    (state, def) => completeItem(state, def, { itemId, notes, verification: result ?? undefined, now: ctx.now() }),
    wf,
  );
  const view = buildView(wf.choice.id, m.after, m.definition, m.vars);
  const checked = result ? ` (${result.type === 'command' ? `command passed in ${result.duration_ms} ms` : `${result.path} exists`}${inRepo})` : '';
  return {
    data: { ok: true, completed: itemId, verification_result: result, status: view },
    text: `Completed ${itemId}${checked}.\n\n${renderView(view)}`,
  };
}
