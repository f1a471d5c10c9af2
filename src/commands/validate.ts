// `validate [FILE]`: every problem of a workflow definition, each with its line and column.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { NoWorkflowError, environmentErrorFrom } from '../errors.ts';
import { formatProblem, parseDefinition } from '../engine/definition.ts';
import type { CommandInput, CommandResult } from './types.ts';

export function run({ args, ctx }: CommandInput): CommandResult {
  const file = args.positionals[0];
  const abs = file ? resolve(ctx.cwd, file) : ctx.paths.workflowFile;
  const shown = file ?? ctx.paths.rel(abs);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NoWorkflowError(`${shown}: no such file; write one with: orchestrator init (or name a file: orchestrator validate FILE)`);
    }
    throw environmentErrorFrom(err, shown);
  }
  // An item's repo: alias must be configured here; a path is checked when the item is completed.
  const repoAliases = new Set(Object.keys(ctx.config?.get<Record<string, string>>('repos.aliases') ?? {}));
  const { definition, problems } = parseDefinition(text, shown, { repoAliases });
  const items = definition?.phases.reduce((n, p) => n + p.items.length, 0) ?? 0;
  const text_ = problems.length
    ? problems.map(formatProblem).join('\n') + `\n${problems.length} problem${problems.length === 1 ? '' : 's'} in ${shown}`
    : `${shown}: valid (${definition!.phases.length} phases, ${items} items)`;
  return {
    exitCode: problems.length ? 1 : 0,
    data: { ok: problems.length === 0, file: shown, problems, phases: definition?.phases.map((p) => p.id) ?? null, items },
    text: text_,
  };
}
