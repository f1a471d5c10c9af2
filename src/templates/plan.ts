// Turns a template folder into the list of files `init` would write, with every check done first:
// variables, paths (nothing outside the repo, nothing in .git), a valid workflow, a readable config.
// Reads only; the plan holds the bytes, so a temporary clone can be removed before anything is written.
import { join } from 'node:path';
import { KEY_BY_NAME } from '../config/keys.ts';
import { holdsPythonSettings } from '../config/load.ts';
import { parseFileEntries } from '../config/yaml-entries.ts';
import { formatProblem, parseDefinition, substituteVars } from '../engine/definition.ts';
import { AlreadyExistsError, InvalidTemplateError, InvalidWorkflowError, UnsafePathError } from '../errors.ts';
import type { RepoPaths } from '../store/paths.ts';
import { EMPTY_MANIFEST, oneLine, parseManifest, resolveVariables } from './manifest.ts';
import { inspectTarget, readTemplateFile, relativeSegments } from './safe-paths.ts';

export interface PlannedFile {
  /** Repo-relative path with / separators, for messages and --json. */
  path: string;
  /** The folder the file is checked against (the repo, or .orchestrator/ for config.yaml). */
  base: string;
  segments: string[];
  bytes: Buffer;
  /** Kept from the template's file, so a script a workflow runs stays runnable. */
  executable: boolean;
  /** What in the template it comes from. */
  from: string;
}

export interface TemplatePlan {
  description: string | null;
  vars: Record<string, string>;
  files: PlannedFile[];
}

export type FileAction = 'create' | 'replace' | 'unchanged';

/** Reads the template in `folder` and plans its files for the repo at `paths`. Throws on any problem. */
export function planTemplate(folder: string, shownSource: string, givenVars: readonly string[], paths: RepoPaths): TemplatePlan {
  const where = `template ${shownSource}:`;
  const manifestFile = readTemplateFile(folder, 'template.yaml', where);
  const manifest = manifestFile ? parseManifest(manifestFile.bytes.toString('utf8'), `${where} template.yaml`) : EMPTY_MANIFEST;
  const vars = resolveVariables(manifest, givenVars, shownSource);
  const fill = (text: string) => substituteVars(text, vars);

  const workflowFile = readTemplateFile(folder, 'workflow.yaml', where);
  if (!workflowFile) throw new InvalidTemplateError(`${where} it has no workflow.yaml; a template holds at least workflow.yaml (and optionally config.yaml, template.yaml)`);
  const workflow = fill(workflowFile.bytes.toString('utf8'));
  const { problems } = parseDefinition(workflow, 'workflow.yaml');
  if (problems.length) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problems)` : '';
    throw new InvalidWorkflowError(`${where} ${formatProblem(problems[0]!)}${more}, with the variables filled in; fix the template or the --var values`, { problems });
  }
  const files: PlannedFile[] = [{ path: 'workflow.yaml', base: paths.root, segments: ['workflow.yaml'], bytes: Buffer.from(workflow), executable: false, from: 'workflow.yaml' }];

  const configFile = readTemplateFile(folder, 'config.yaml', where);
  if (configFile) {
    const config = fill(configFile.bytes.toString('utf8'));
    checkConfig(config, `${where} config.yaml`);
    files.push({ path: paths.rel(paths.config), base: paths.container, segments: ['config.yaml'], bytes: Buffer.from(config), executable: false, from: 'config.yaml' });
  }

  for (const [i, entry] of manifest.files.entries()) {
    const at = `${where} template.yaml files[${i}]`;
    const source = readTemplateFile(folder, entry.from, `${at} from`);
    if (!source) throw new InvalidTemplateError(`${at}: from ${oneLine(entry.from)} is not in the template; add the file or fix the path`);
    const to = fill(entry.to);
    const shownTo = oneLine(to === entry.to ? to : `${to} (from ${entry.to})`);
    const checked = to.endsWith('/') ? { problem: 'names a folder; give the path of the file' } : relativeSegments(to);
    if ('problem' in checked) throw new UnsafePathError(`${at}: to ${shownTo} ${checked.problem.replace('its folder', 'the repo')}; files are written only inside the repo, so nothing was written`);
    const first = checked.segments[0]!.toLowerCase();
    if (first === '.orchestrator') throw new UnsafePathError(`${at}: to ${shownTo} is inside .orchestrator/, which the tool owns; put settings in the template's config.yaml`);
    const path = checked.segments.join('/');
    if (files.some((f) => f.path === path)) throw new InvalidTemplateError(`${at}: to ${path} is written twice (also by ${files.find((f) => f.path === path)!.from}); keep one`);
    files.push({ path, base: paths.root, segments: checked.segments, bytes: textOr(source.bytes, fill), executable: source.executable, from: entry.from });
  }
  return { description: manifest.description, vars, files };
}

/** UTF-8 text gets the variables filled in; anything else (an image, say) is copied byte for byte. */
function textOr(bytes: Buffer, fill: (text: string) => string): Buffer {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes;
  }
  return text.includes('\0') ? bytes : Buffer.from(fill(text));
}

/**
 * The template's config.yaml must load without the warnings a hand-written one would get on every
 * command: valid YAML, known keys, values of the right type. A file of workflow settings only
 * (the Python tool's shape) is read as settings, as the config loader does.
 */
function checkConfig(text: string, shown: string): void {
  const parsed = parseFileEntries(text);
  if (parsed.error) throw new InvalidTemplateError(`${shown}:${parsed.error.line}: not valid YAML (${parsed.error.message}); fix the template`);
  if (holdsPythonSettings(parsed.entries)) return;
  for (const e of parsed.entries) {
    if (e.key.startsWith('settings.')) continue;
    const spec = KEY_BY_NAME.get(e.key);
    if (!spec) throw new InvalidTemplateError(`${shown}:${e.line}: unknown key "${e.key}"; fix the template (orchestrator config show lists the keys)`);
    if (!spec.schema.safeParse(e.value).success) throw new InvalidTemplateError(`${shown}:${e.line}: ${e.key} cannot be ${JSON.stringify(e.value)}, it takes ${spec.expect}; fix the template or the --var values`);
  }
}

/**
 * What writing the plan would do to each file, checked against the repo as it is now. Files that
 * exist with other content are refused (exit 3) unless `force`; identical ones are left alone.
 */
export function planActions(plan: TemplatePlan, shownSource: string, force: boolean): FileAction[] {
  const conflicts: string[] = [];
  const blocked: string[] = [];
  const actions = plan.files.map((f): FileAction => {
    const now = inspectTarget(f.base, f.segments, f.path);
    if (now.kind === 'absent') return 'create';
    if (now.kind === 'blocked') {
      blocked.push(now.why);
      return 'create';
    }
    if (now.kind === 'file' && now.bytes.equals(f.bytes)) return 'unchanged';
    if (!force) conflicts.push(f.path);
    return 'replace';
  });
  if (blocked.length) throw new AlreadyExistsError(`template ${shownSource}: ${blocked.join(', ')}; move it out of the way (--force replaces files only), nothing was written`);
  if (conflicts.length) {
    const them = conflicts.length === 1 ? 'it' : 'them';
    throw new AlreadyExistsError(`${conflicts.join(', ')} already ${conflicts.length === 1 ? 'exists' : 'exist'} and ${conflicts.length === 1 ? 'differs' : 'differ'} from template ${shownSource}; rerun with --force to replace ${them} (nothing was written)`, { files: conflicts });
  }
  return actions;
}

export function joinTarget(f: PlannedFile): string {
  return join(f.base, ...f.segments);
}
