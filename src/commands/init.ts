// `init`: the committable workflow.yaml and the contained .orchestrator/ directory.
import { existsSync, readFileSync } from 'node:fs';
import { bool } from '../cli/args.ts';
import { DEFAULT_WORKFLOW_YAML } from '../engine/default-workflow.ts';
import { writeFileAtomic } from '../store/atomic-file.ts';
import { DEFAULT_GITIGNORE, ensureContainer } from '../store/repo-meta.ts';
import { underRepoLock } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';

/** Keeps workflow state committable; what is secret or machine-local stays out of git. */
export const PORTABLE_GITIGNORE = `# orchestrator --portable: workflow state may be committed; these never are
secrets/
cache/
locks/
backups/
.*.tmp-*
`;

export function run({ args, ctx }: CommandInput): CommandResult {
  const { paths } = ctx;
  const force = bool(args, 'force');
  const portable = bool(args, 'portable');
  const notices: string[] = [];
  const done = underRepoLock(ctx, () => {
    const meta = ensureContainer(paths, ctx.now());
    const wantIgnore = portable ? PORTABLE_GITIGNORE : DEFAULT_GITIGNORE;
    let ignoreChanged = false;
    if (portable && readFileSync(paths.gitignore, 'utf8') !== wantIgnore) {
      writeFileAtomic(paths.gitignore, wantIgnore);
      ignoreChanged = true;
    }
    const had = existsSync(paths.workflowFile);
    if (!had || force) writeFileAtomic(paths.workflowFile, DEFAULT_WORKFLOW_YAML);
    else notices.push(`${paths.rel(paths.workflowFile)} exists; kept it (--force replaces it with the bundled default)`);
    return { meta, wroteWorkflow: !had || force, ignoreChanged };
  });
  const lines = [
    `Initialised ${paths.root}`,
    `  ${paths.rel(paths.container)}/  (repo id ${done.meta.repo_id}; ${portable ? 'portable: state is committable' : 'ignored by git'})`,
  ];
  if (done.wroteWorkflow) lines.push(`  ${paths.rel(paths.workflowFile)}  (the bundled default: edit it, commit it)`);
  lines.push('', 'NEXT: orchestrator start "TASK"');
  return {
    data: { ok: true, root: paths.root, repo_id: done.meta.repo_id, wrote_workflow: done.wroteWorkflow, portable },
    text: lines.join('\n'),
    notices,
  };
}
