// `init`: the committable workflow.yaml and the contained .orchestrator/ directory, from the
// bundled default or from a template (--template SRC, see src/templates/).
import { existsSync, readFileSync } from 'node:fs';
import { bool, str, strs } from '../cli/args.ts';
import { DEFAULT_WORKFLOW_YAML } from '../engine/default-workflow.ts';
import { UsageError } from '../errors.ts';
import { writeFileAtomic } from '../store/atomic-file.ts';
import { DEFAULT_GITIGNORE, ensureContainer } from '../store/repo-meta.ts';
import { underRepoLock, type RepoContext } from '../store/workflow-session.ts';
import { writePlan } from '../templates/apply.ts';
import { withTemplateFolder } from '../templates/fetch.ts';
import { oneLine } from '../templates/manifest.ts';
import { planActions, planTemplate, type FileAction, type TemplatePlan } from '../templates/plan.ts';
import { resolveTemplateSource, type TemplateSource } from '../templates/source.ts';
import type { CommandInput, CommandResult } from './types.ts';

/** Keeps workflow state committable; what is secret or machine-local stays out of git. */
export const PORTABLE_GITIGNORE = `# orchestrator --portable: workflow state may be committed; these never are
secrets/
cache/
locks/
backups/
.*.tmp-*
`;

interface ReadTemplate {
  source: TemplateSource;
  commit: string | null;
  plan: TemplatePlan;
}

const DONE: Record<FileAction, string> = { create: 'created', replace: 'replaced', unchanged: 'unchanged' };

export async function run({ args, ctx }: CommandInput): Promise<CommandResult> {
  const { paths } = ctx;
  const force = bool(args, 'force');
  const portable = bool(args, 'portable');
  const src = str(args, 'template');
  const givenVars = strs(args, 'var');
  if (src === undefined && givenVars.length) throw new UsageError('--var sets a variable of a template: give --template SRC too; see: orchestrator init --help');
  // Everything is read, fetched and checked before the lock: taking it creates .orchestrator/locks/,
  // and a refused template must leave the repo as it was.
  const template = src === undefined ? null : await readTemplate(src, givenVars, ctx, force);
  const notices: string[] = [];
  const done = underRepoLock(ctx, () => {
    // Checked again under the lock: another command may have written a file meanwhile.
    const actions = template ? planActions(template.plan, template.source.shown, force) : null;
    const meta = ensureContainer(paths, ctx.now());
    const wantIgnore = portable ? PORTABLE_GITIGNORE : DEFAULT_GITIGNORE;
    let ignoreChanged = false;
    if (portable && readFileSync(paths.gitignore, 'utf8') !== wantIgnore) {
      writeFileAtomic(paths.gitignore, wantIgnore);
      ignoreChanged = true;
    }
    if (template && actions) {
      writePlan(template.plan, actions);
      return { meta, wroteWorkflow: actions[0] !== 'unchanged', ignoreChanged, actions };
    }
    const had = existsSync(paths.workflowFile);
    if (!had || force) writeFileAtomic(paths.workflowFile, DEFAULT_WORKFLOW_YAML);
    else notices.push(`${paths.rel(paths.workflowFile)} exists; kept it (--force replaces it with the bundled default)`);
    return { meta, wroteWorkflow: !had || force, ignoreChanged, actions: null };
  });
  const lines = [
    `Initialised ${paths.root}`,
    `  ${paths.rel(paths.container)}/  (repo id ${done.meta.repo_id}; ${portable ? 'portable: state is committable' : 'ignored by git'})`,
  ];
  const data: Record<string, unknown> = { ok: true, root: paths.root, repo_id: done.meta.repo_id, wrote_workflow: done.wroteWorkflow, portable };
  if (template && done.actions) {
    const { source, commit, plan } = template;
    const at = commit ? `, commit ${commit.slice(0, 12)}` : '';
    lines.push(`  from template ${source.shown} (${source.kind}${at})${plan.description ? `: ${oneLine(plan.description)}` : ''}`);
    for (const [i, f] of plan.files.entries()) lines.push(`  ${f.path}  (${DONE[done.actions[i]!]})`);
    data.template = {
      source: source.shown,
      kind: source.kind,
      ref: source.kind === 'git' ? source.ref : null,
      subdir: source.kind === 'git' ? source.subdir : null,
      commit,
      description: plan.description,
    };
    data.files = plan.files.map((f, i) => ({ path: f.path, action: DONE[done.actions![i]!] }));
    data.vars = plan.vars;
  } else if (done.wroteWorkflow) lines.push(`  ${paths.rel(paths.workflowFile)}  (the bundled default: edit it, commit it)`);
  lines.push('', 'NEXT: orchestrator start "TASK"');
  return { data, text: lines.join('\n'), notices };
}

async function readTemplate(src: string, givenVars: readonly string[], ctx: RepoContext, force: boolean): Promise<ReadTemplate> {
  const source = resolveTemplateSource(src, ctx.cwd, ctx.env);
  const { plan, commit } = await withTemplateFolder(source, ctx.env, (folder) => ({
    plan: planTemplate(folder.dir, source.shown, givenVars, ctx.paths),
    commit: folder.commit,
  }));
  planActions(plan, source.shown, force);
  return { source, commit, plan };
}
