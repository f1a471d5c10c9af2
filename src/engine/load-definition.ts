// Finds and parses the workflow definition for `start` and `validate`: the repo's workflow.yaml,
// a `--workflow FILE`, or the bundled default. Reads only.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidWorkflowError, NoWorkflowError, environmentErrorFrom } from '../errors.ts';
import type { RepoPaths } from '../store/paths.ts';
import { sha256Hex } from '../store/python-json.ts';
import { DEFAULT_WORKFLOW_YAML } from './default-workflow.ts';
import { WorkflowDefinitionSchema, loadDefinitionText, type WorkflowDefinition } from './definition.ts';

export const BUNDLED_SOURCE = '(bundled default)';

export interface DefinitionSource {
  definition: WorkflowDefinition;
  /** Repo-relative path, or BUNDLED_SOURCE. */
  source: string;
  /** First 16 hex of sha256 of the YAML text, like the Python tool's workflow_yaml_checksum. */
  checksum: string;
}

export function readDefinitionFile(paths: RepoPaths, cwd: string, file?: string): DefinitionSource {
  const abs = file ? resolve(cwd, file) : paths.workflowFile;
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !file) return bundledDefinition();
    if (code === 'ENOENT') throw new NoWorkflowError(`${file}: no such file; check the path given to --workflow`);
    throw environmentErrorFrom(err, abs);
  }
  const shown = paths.rel(abs);
  return { definition: loadDefinitionText(text, shown), source: shown, checksum: shortHash(text) };
}

export function bundledDefinition(): DefinitionSource {
  return {
    definition: loadDefinitionText(DEFAULT_WORKFLOW_YAML, BUNDLED_SOURCE),
    source: BUNDLED_SOURCE,
    checksum: shortHash(DEFAULT_WORKFLOW_YAML),
  };
}

function shortHash(text: string): string {
  return sha256Hex(text).slice(0, 16);
}

/**
 * The definition a state was started with (states embed it, as the Python tool's do). `trusted`:
 * the state is a version this tool sealed after validating it (LoadedState.trusted), whose
 * embedded definition was stored already normalised, so it is used as it is.
 */
export function definitionOfState(
  embedded: unknown,
  stateFile: string,
  fallback: () => DefinitionSource,
  trusted = false,
): WorkflowDefinition {
  if (embedded === undefined || embedded === null) return fallback().definition;
  if (trusted) return embedded as WorkflowDefinition;
  const parsed = WorkflowDefinitionSchema.safeParse(embedded);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidWorkflowError(
      `${stateFile}: its embedded workflow_definition is invalid (${issue.path.join('.')}: ${issue.message}); restore the file from git or a checkpoint`,
    );
  }
  return parsed.data;
}
