// template.yaml: what a template declares about itself. Optional; a template without one has no
// variables and writes only workflow.yaml (and config.yaml when present).
//
//   description: Python service, pytest
//   variables:
//     - name: test_command          # replaces {{test_command}} in the template's files
//       description: how the tests run
//       default: pytest -q          # a variable has a default, or required: true (not both)
//     - name: project
//       required: true              # init refuses without --var project=VALUE
//   files:                          # more files to write: from (in the template) to (in the repo)
//     - from: docs/plan.md
//       to: "{{docs_dir}}/plan.md"  # {{var}} allowed; must stay inside the repo
import { parseDocument } from 'yaml';
import * as z from 'zod/mini';
import { InvalidTemplateError, UsageError } from '../errors.ts';

export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

const VariableSchema = z.strictObject({
  name: z.string().check(z.regex(VAR_NAME, 'must start with a letter or _ and hold only letters, digits, _ and -')),
  description: z.optional(z.string()),
  default: z.optional(z.union([z.string(), z.number(), z.boolean()])),
  required: z.optional(z.boolean()),
});

const FileSchema = z.strictObject({
  from: z.string().check(z.minLength(1)),
  to: z.string().check(z.minLength(1)),
});

const ManifestSchema = z.strictObject({
  description: z.optional(z.string()),
  variables: z.optional(z.array(VariableSchema)),
  files: z.optional(z.array(FileSchema)),
});

export interface TemplateVariable {
  name: string;
  description: string | null;
  /** null: required, given with --var. */
  default: string | null;
}

export interface TemplateManifest {
  description: string | null;
  variables: TemplateVariable[];
  files: { from: string; to: string }[];
}

export const EMPTY_MANIFEST: TemplateManifest = { description: null, variables: [], files: [] };

/** Parses template.yaml; `shown` names it in messages. Throws InvalidTemplateError (exit 2). */
export function parseManifest(text: string, shown: string): TemplateManifest {
  const doc = parseDocument(text, { prettyErrors: false });
  const fix = 'fix the template (see: orchestrator init --help)';
  if (doc.errors.length) throw new InvalidTemplateError(`${shown}: not valid YAML (${doc.errors[0]!.message.split('\n')[0]}); ${fix}`);
  const raw = doc.toJS() ?? {};
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') + ': ' : '';
    throw new InvalidTemplateError(`${shown}: ${where}${issue.message.replace(/\s+/g, ' ')}; ${fix}`);
  }
  const m = parsed.data;
  const seen = new Set<string>();
  const variables = (m.variables ?? []).map((v, i): TemplateVariable => {
    const at = `${shown}: variables[${i}] (${v.name})`;
    if (seen.has(v.name)) throw new InvalidTemplateError(`${at}: declared twice; ${fix}`);
    seen.add(v.name);
    if (v.required && v.default !== undefined) throw new InvalidTemplateError(`${at}: has a default and required: true; keep one`);
    if (!v.required && v.default === undefined) throw new InvalidTemplateError(`${at}: needs a default or required: true`);
    return { name: v.name, description: v.description ?? null, default: v.default === undefined ? null : String(v.default) };
  });
  return { description: m.description ?? null, variables, files: m.files ?? [] };
}

/**
 * The value of every variable: --var values over defaults. Refuses (exit 2) a --var the template
 * does not declare, one given twice, a value with control characters, and a missing required one.
 */
export function resolveVariables(manifest: TemplateManifest, given: readonly string[], shownSource: string): Record<string, string> {
  const declared = new Map(manifest.variables.map((v) => [v.name, v]));
  const names = manifest.variables.map((v) => v.name).join(', ') || 'none';
  const values: Record<string, string> = {};
  for (const arg of given) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`--var ${oneLine(arg)}: write it as --var name=value`);
    const name = oneLine(arg.slice(0, eq));
    const value = arg.slice(eq + 1);
    if (!declared.has(name)) throw new UsageError(`--var ${name}: template ${shownSource} declares no such variable (it declares: ${names})`);
    if (Object.hasOwn(values, name)) throw new UsageError(`--var ${name} is given twice; give it once`);
    // Values land in YAML text: one line keeps them from adding keys or breaking the structure.
    if (/[\u0000-\u001f\u007f]/.test(value)) throw new UsageError(`--var ${name}: the value holds a line break or control character; give a one-line value`);
    values[name] = value;
  }
  const missing = manifest.variables.filter((v) => v.default === null && !Object.hasOwn(values, v.name));
  if (missing.length) {
    const flags = missing.map((v) => `--var ${v.name}=VALUE${v.description ? ` (${oneLine(v.description)})` : ''}`).join(', ');
    throw new UsageError(`template ${shownSource} needs ${missing.length === 1 ? 'a value' : 'values'}: give ${flags}`);
  }
  for (const v of manifest.variables) if (!Object.hasOwn(values, v.name)) values[v.name] = v.default!;
  return values;
}

/** Control characters in a value the user typed must not split the one-line error message. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}
