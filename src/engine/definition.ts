// The workflow definition (workflow.yaml): schema, types, and a parser that reports every problem
// at its line and column. Compatible with the Python tool's format (name/version/settings/phases).
//
// This module never reads files, prints or exits: callers pass the text and decide what to do.
// Schemas use `zod/mini` to keep start-up time low; objects are loose so unknown keys (the Python
// tool's `agent`, `executor`, `evidence_schema`, ...) survive a round trip.
//
// `null` means "absent" for every optional field: the Python tool writes `path: null`,
// `description: null`, `exit_gate: null` and so on when it serialises a definition. After parsing,
// such fields are `undefined` (or their default), never `null`.

import * as z from 'zod/mini';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { InvalidWorkflowError, UnsafeCommandError } from '../errors.ts';
import { buildArgv } from './command-line.ts';

// ---- schema ------------------------------------------------------------------------------------

export const VERIFICATION_TYPES = ['none', 'file_exists', 'command', 'manual_gate'] as const;
export const STEP_TYPES = ['gate', 'required', 'documented', 'flexible'] as const;

const PHASE_ID_RE = /^[A-Z][A-Z0-9_]*$/;
const ITEM_ID_RE = /^[A-Za-z0-9_]+$/;

const PHASE_ID_MESSAGE = 'must be upper-case letters, digits and _, starting with a letter (e.g. PLAN)';
const ITEM_ID_MESSAGE = 'must contain only letters, digits and _ (e.g. write_tests)';

// `null` counts as absent. Rather than a transform on every field (zod pipes cost ~3x per field,
// and a 200-item definition is parsed on every command), `withoutNulls` drops null-valued keys
// of the definition, its phases, items and verifications once, before the schema sees them.
const nullable = z.optional;
const withDefault = z._default;
const stringList = () => z._default(z.array(z.string()), () => []);

const KNOWN = {
  workflow: new Set(['name', 'version', 'description', 'settings', 'phases']),
  phase: new Set(['id', 'name', 'description', 'items', 'exit_gate', 'notes']),
  item: new Set(['id', 'name', 'description', 'required', 'skippable', 'skip_conditions', 'verification', 'notes', 'step_type', 'repo']),
  verification: new Set(['type', 'path', 'command', 'expect_exit_code', 'timeout', 'description']),
};

/** A copy without the null values of known keys; unknown keys stay as written, null or not. */
function withoutNullKeys(value: unknown, known: Set<string>): unknown {
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null || !known.has(k)) out[k] = v;
  return out;
}

/** A copy of a raw definition with null-valued keys removed at every level the schema knows. */
function withoutNulls(raw: unknown): unknown {
  const def = withoutNullKeys(raw, KNOWN.workflow);
  if (!isRecord(def)) return def;
  if (typeof def.version === 'number') def.version = String(def.version);
  if (Array.isArray(def.phases)) {
    def.phases = def.phases.map((phase) => {
      const p = withoutNullKeys(phase, KNOWN.phase);
      if (isRecord(p) && Array.isArray(p.items)) {
        p.items = p.items.map((item) => {
          const it = withoutNullKeys(item, KNOWN.item);
          if (isRecord(it) && 'verification' in it) it.verification = withoutNullKeys(it.verification, KNOWN.verification);
          return it;
        });
      }
      return p;
    });
  }
  return def;
}

const VerificationSchema = z.looseObject({
  type: withDefault(z.enum(VERIFICATION_TYPES), 'none'),
  path: nullable(z.string()),
  command: nullable(z.string()),
  expect_exit_code: withDefault(z.int(), 0),
  /** Seconds before a `command` verification is killed (an extension to the Python format). */
  timeout: nullable(z.number().check(z.positive('must be a positive number of seconds'))),
  description: nullable(z.string()),
});

const ItemSchema = z.looseObject({
  id: z.string().check(z.regex(ITEM_ID_RE, ITEM_ID_MESSAGE)),
  name: z.string(),
  description: nullable(z.string()),
  required: withDefault(z.boolean(), true),
  skippable: withDefault(z.boolean(), true),
  skip_conditions: stringList(),
  verification: z._default(VerificationSchema, () => ({ type: 'none' as const, expect_exit_code: 0 })),
  notes: stringList(),
  step_type: withDefault(z.enum(STEP_TYPES), 'flexible'),
  /** Another repo the verification runs in: a path from this repo's root, or a config repos.aliases name. */
  repo: nullable(z.string().check(z.minLength(1, 'must name a repo: a path such as ../other, or a name from repos.aliases'))),
});

const PhaseSchema = z.looseObject({
  id: z.string().check(z.regex(PHASE_ID_RE, PHASE_ID_MESSAGE)),
  name: z.string(),
  description: nullable(z.string()),
  items: z._default(z.array(ItemSchema), () => []),
  exit_gate: nullable(z.string()),
  notes: stringList(),
});

/** Everything except the cross-field rules; `parseDefinition` checks those on the raw data. */
const ShapeSchema = z.looseObject({
  name: z.string(),
  version: z._default(z.string(), '1.0'),
  description: nullable(z.string()),
  settings: z._default(z.record(z.string(), z.unknown()), () => ({})),
  phases: z.array(PhaseSchema).check(z.minLength(1, 'must list at least one phase')),
});
const BaseWorkflowSchema = z.pipe(z.transform(withoutNulls), ShapeSchema);

/** The full schema, cross-field rules included (for definitions that do not come from YAML text). */
export const WorkflowDefinitionSchema = BaseWorkflowSchema.check(
  z.superRefine((def, ctx) => {
    for (const rule of crossFieldRules(def)) {
      ctx.addIssue({ code: 'custom', message: rule.message, path: rule.path, input: def });
    }
  }),
);

export type WorkflowDefinition = z.output<typeof WorkflowDefinitionSchema>;
export type PhaseDefinition = z.output<typeof PhaseSchema>;
export type ItemDefinition = z.output<typeof ItemSchema>;
export type Verification = z.output<typeof VerificationSchema>;
export type VerificationType = (typeof VERIFICATION_TYPES)[number];
export type StepType = (typeof STEP_TYPES)[number];

// ---- problems ----------------------------------------------------------------------------------

export interface DefinitionProblem {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
  /** e.g. "phases[2].items[0].verification.type"; empty for the document as a whole */
  path: string;
  message: string;
}

type PathSegment = string | number;

export function formatProblem(p: DefinitionProblem): string {
  const where = `${p.file}:${p.line}:${p.column}`;
  return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

// ---- {{var}} substitution ----------------------------------------------------------------------

const VAR_RE = /\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}/g;

/** Scalar settings (string, number, boolean) as strings: the values of `{{var}}`. */
export function settingsVars(def: WorkflowDefinition): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [key, value] of Object.entries(def.settings ?? {})) {
    if (typeof value === 'string') vars[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') vars[key] = String(value);
  }
  return vars;
}

/** Replaces `{{name}}` (spaces allowed inside the braces); unknown names are left as they are. */
export function substituteVars(text: string, vars: Record<string, string>): string {
  return text.replace(VAR_RE, (whole, name: string) => (Object.hasOwn(vars, name) ? (vars[name] as string) : whole));
}

// ---- other repos -------------------------------------------------------------------------------

/** An item's `repo:` is a path when it looks like one (`../api`, `/src/api`, `~/api`, `.`), else an alias name. */
export function repoRefIsPath(ref: string): boolean {
  return ref === '.' || ref === '..' || /[/\\]/.test(ref) || ref.startsWith('~');
}

/** Items whose `repo:` names an alias that is not configured (checked by validate, which knows the config). */
function repoAliasRules(raw: unknown, aliases: ReadonlySet<string>): RuleProblem[] {
  const problems: RuleProblem[] = [];
  if (!isRecord(raw) || !Array.isArray(raw.phases)) return problems;
  const known = [...aliases].sort().join(', ') || 'none';
  raw.phases.forEach((phase: unknown, p) => {
    if (!isRecord(phase) || !Array.isArray(phase.items)) return;
    phase.items.forEach((item: unknown, i) => {
      const ref = isRecord(item) ? item.repo : undefined;
      if (typeof ref !== 'string' || ref === '' || repoRefIsPath(ref) || aliases.has(ref)) return;
      problems.push({
        path: ['phases', p, 'items', i, 'repo'],
        message: `names repo alias ${JSON.stringify(ref)}, which is not configured (aliases: ${known}); add it with repos: {aliases: {${ref}: ../path}} in .orchestrator/config.yaml, or give a path such as ../${ref}`,
      });
    });
  });
  return problems;
}

// ---- lookups -----------------------------------------------------------------------------------

export function findItem(
  def: WorkflowDefinition,
  itemId: string,
): { phase: PhaseDefinition; item: ItemDefinition; phaseIndex: number } | null {
  for (const [phaseIndex, phase] of def.phases.entries()) {
    const item = phase.items.find((candidate) => candidate.id === itemId);
    if (item) return { phase, item, phaseIndex };
  }
  return null;
}

// ---- cross-field rules -------------------------------------------------------------------------

interface RuleProblem {
  path: PathSegment[];
  message: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Rules that span fields. Written defensively against raw (unvalidated) data so they can be
 * reported together with the schema problems; values of the wrong type are left to the schema.
 */
function crossFieldRules(raw: unknown): RuleProblem[] {
  const problems: RuleProblem[] = [];
  if (!isRecord(raw) || !Array.isArray(raw.phases)) return problems;
  const settings = isRecord(raw.settings) ? raw.settings : {};
  const phaseIds = new Map<string, string>();
  const itemIds = new Map<string, string>();

  raw.phases.forEach((phase: unknown, p) => {
    if (!isRecord(phase)) return;
    const phasePath = formatPath(['phases', p]);
    if (typeof phase.id === 'string') {
      const first = phaseIds.get(phase.id);
      if (first !== undefined) {
        problems.push({
          path: ['phases', p, 'id'],
          message: `duplicate phase id ${JSON.stringify(phase.id)} (already used by ${first}); phase ids must be unique, so rename one`,
        });
      } else phaseIds.set(phase.id, phasePath);
    }
    if (!Array.isArray(phase.items)) return;
    phase.items.forEach((item: unknown, i) => {
      if (!isRecord(item)) return;
      const itemPath: PathSegment[] = ['phases', p, 'items', i];
      if (typeof item.id === 'string') {
        const first = itemIds.get(item.id);
        if (first !== undefined) {
          problems.push({
            path: [...itemPath, 'id'],
            message: `duplicate item id ${JSON.stringify(item.id)} (already used by ${first}); item ids must be unique across the whole workflow because commands name items by id alone, so rename one`,
          });
        } else itemIds.set(item.id, formatPath(itemPath));
      }
      const v = item.verification;
      if (!isRecord(v)) return;
      const vPath = [...itemPath, 'verification'];
      const missing = (x: unknown) => x === undefined || x === null || (typeof x === 'string' && x.trim() === '');
      if (v.type === 'file_exists' && missing(v.path)) {
        problems.push({
          path: [...vPath, 'path'],
          message: 'is required when type is file_exists; add path: with the file that must exist (e.g. "{{docs_dir}}/plan.md")',
        });
      }
      if (v.type === 'command' && missing(v.command)) {
        problems.push({
          path: [...vPath, 'command'],
          message: 'is required when type is command; add command: with the command to run, which runs without a shell (e.g. "{{test_command}}")',
        });
      }
      for (const field of ['path', 'command'] as const) {
        const text = v[field];
        if (typeof text !== 'string') continue;
        const reported = new Set<string>();
        for (const match of text.matchAll(VAR_RE)) {
          const name = match[1] as string;
          if (reported.has(name)) continue;
          const message = unknownVarMessage(name, settings);
          if (message) {
            reported.add(name);
            problems.push({ path: [...vPath, field], message });
          }
        }
      }
    });
  });
  return problems;
}

function unknownVarMessage(name: string, settings: Record<string, unknown>): string | null {
  if (!Object.hasOwn(settings, name)) {
    return `uses {{${name}}} but settings has no ${name}; add ${name}: <value> under settings:`;
  }
  const value = settings[name];
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return null;
  return `uses {{${name}}} but settings.${name} is ${describeValue(value)}, which cannot be substituted; give ${name} a text value under settings:`;
}

/**
 * Commands run without a shell: one that relies on shell syntax could never pass. Checked when a
 * workflow.yaml is validated or started, not on definitions embedded in existing states, which
 * must stay readable whatever they hold.
 */
function commandRules(raw: unknown): RuleProblem[] {
  const problems: RuleProblem[] = [];
  if (!isRecord(raw) || !Array.isArray(raw.phases)) return problems;
  const settings = isRecord(raw.settings) ? raw.settings : {};
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(settings)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') vars[k] = String(v);
  }
  raw.phases.forEach((phase: unknown, p) => {
    if (!isRecord(phase) || !Array.isArray(phase.items)) return;
    phase.items.forEach((item: unknown, i) => {
      const v = isRecord(item) ? item.verification : undefined;
      if (!isRecord(v) || v.type !== 'command' || typeof v.command !== 'string' || v.command.trim() === '') return;
      try {
        buildArgv(v.command, vars, 'command');
      } catch (err) {
        // Unknown {{vars}} are reported by crossFieldRules already.
        if (err instanceof UnsafeCommandError && !/is not defined/.test(err.message)) {
          problems.push({ path: ['phases', p, 'items', i, 'verification', 'command'], message: err.message.replace(/^(command: )+/, '') });
        }
      }
    });
  });
  return problems;
}

// ---- positions ---------------------------------------------------------------------------------

interface Located {
  /** The deepest node found on the path (the value when it exists). */
  node: Node | null;
  /** Offset to report. */
  offset: number;
  /** Whether the whole path exists in the document. */
  found: boolean;
}

/** Walks the YAML tree along `path`; points at the value, at the key when the value is empty, or at the nearest ancestor. */
function locate(doc: Document, path: readonly PathSegment[]): Located {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((candidate) => {
        const key = isScalar(candidate.key) ? candidate.key.value : candidate.key;
        return key !== null && key !== undefined && String(key) === String(seg);
      });
      if (!pair) return { node: node as Node, offset, found: false };
      const value = pair.value;
      const keyStart = rangeStart(pair.key);
      const emptyValue = value === null || (isScalar(value) && value.value === null && !value.source);
      if (emptyValue) {
        return { node: (value as Node | null) ?? null, offset: keyStart ?? offset, found: true };
      }
      node = value;
      offset = rangeStart(value) ?? keyStart ?? offset;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      offset = rangeStart(node) ?? offset;
    } else {
      return { node: (node as Node | null) ?? null, offset, found: false };
    }
  }
  return { node: (node as Node | null) ?? null, offset, found: true };
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? range[0] : undefined;
}

function topLevelKey(doc: Document, key: string): { keyOffset: number; value: unknown } | null {
  const root = doc.contents;
  if (!isMap(root)) return null;
  for (const pair of root.items) {
    if (isScalar(pair.key) && pair.key.value === key) {
      return { keyOffset: rangeStart(pair.key) ?? 0, value: pair.value };
    }
  }
  return null;
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let current = data;
  for (const seg of path) {
    if (Array.isArray(current) && typeof seg === 'number') current = current[seg];
    else if (isRecord(current) && typeof seg === 'string' && Object.hasOwn(current, seg)) current = current[seg];
    else return undefined;
  }
  return current;
}

// ---- messages for schema issues ----------------------------------------------------------------

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  return String(value);
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value lines)',
  record: 'a mapping (key: value lines)',
};

function ownerOf(path: readonly PathSegment[]): string {
  const parent = path.slice(0, -1);
  const last = parent[parent.length - 1];
  if (parent.length === 0) return 'at the top level';
  if (last === 'verification') return 'to this verification';
  if (parent[parent.length - 2] === 'items') return 'to this item';
  if (parent[parent.length - 2] === 'phases') return 'to this phase';
  return 'here';
}

function issueMessage(issue: z.core.$ZodIssue, raw: unknown): string {
  const path = issue.path as PathSegment[];
  const value = valueAt(raw, path);
  const key = path[path.length - 1];
  const isField = typeof key === 'string';
  if (value === undefined && isField && (issue.code === 'invalid_type' || issue.code === 'invalid_value')) {
    return `is required; add ${key}: ${ownerOf(path)}`;
  }
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (value === null) return `is empty; give it ${expected === 'text' ? 'a text value' : expected}`;
      let message = `must be ${expected}, not ${describeValue(value)}`;
      if (issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')) {
        message += `; put it in quotes ("${String(value)}")`;
      }
      return message;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')} (got ${describeValue(value)})`;
    case 'invalid_format': {
      let message = `${issue.message} (got ${describeValue(value)})`;
      if (typeof value === 'string' && issue.message === PHASE_ID_MESSAGE && PHASE_ID_RE.test(value.toUpperCase())) {
        message += `; use ${JSON.stringify(value.toUpperCase())}`;
      } else if (typeof value === 'string' && issue.message === ITEM_ID_MESSAGE && value.length > 0) {
        message += `; use ${JSON.stringify(value.replace(/[^A-Za-z0-9_]/g, '_'))}`;
      }
      return message;
    }
    case 'too_small':
    case 'too_big':
      return `${issue.message} (got ${Array.isArray(value) ? `${value.length} entries` : describeValue(value)})`;
    default:
      return issue.message;
  }
}

// ---- parsing -----------------------------------------------------------------------------------

const V4_MESSAGE =
  "top-level `workflow:` key: this is the Python tool's experimental V4 format, which is not supported; phases must be at the top level (name:, version:, settings:, phases: with items:)";

/** Replacement wording (and fix) for yaml's errors where its own text does not help a workflow author. */
const YAML_MESSAGES: Partial<Record<string, { message?: string; hint: string }>> = {
  TAB_AS_INDENT: { hint: 'indent with spaces, not tabs' },
  DUPLICATE_KEY: { message: 'the same key appears twice in one mapping', hint: 'remove or rename one of them' },
  MULTIPLE_DOCS: {
    message: 'the file holds more than one YAML document',
    hint: 'keep a single document: remove the extra --- line and what follows it',
  },
};

/**
 * Parses workflow.yaml text. Reports every problem found: YAML syntax errors (then nothing else,
 * since the tree is unreliable), the V4 format, schema issues and the cross-field rules.
 * `definition` is null whenever there is any problem.
 */
export function parseDefinition(
  text: string,
  file: string,
  /** Configured repos.aliases names: when given, an item's `repo:` must be a path or one of them. */
  opts: { repoAliases?: ReadonlySet<string> } = {},
): { definition: WorkflowDefinition | null; problems: DefinitionProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number, path: readonly PathSegment[], message: string): DefinitionProblem => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col, path: formatPath(path), message: oneLine(message) };
  };
  const done = (problems: DefinitionProblem[]) => ({
    definition: null,
    problems: problems.sort((a, b) => a.line - b.line || a.column - b.column),
  });

  if (doc.errors.length > 0) {
    return done(
      doc.errors.map((err) => {
        const known = YAML_MESSAGES[err.code];
        const message = known?.message ?? err.message.replace(/\.$/, '');
        const hint = known?.hint ?? 'check the brackets, quotes and indentation here';
        return at(err.pos[0], [], `YAML syntax error: ${message}; ${hint}`);
      }),
    );
  }

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return done([at(0, [], `cannot read the YAML: ${(err as Error).message}; remove the offending aliases`)]);
  }

  if (raw === null || raw === undefined) {
    return done([at(0, [], 'the workflow is empty; it needs name: and phases: at the top level')]);
  }
  if (!isRecord(raw)) {
    return done([
      at(rangeStart(doc.contents) ?? 0, [], `the top level must be a mapping with name: and phases:, not ${describeValue(raw)}`),
    ]);
  }

  const v4 = topLevelKey(doc, 'workflow');
  if (v4) return done([at(v4.keyOffset, [], V4_MESSAGE)]);

  // `version: 2.0` is read as the number 2; keep the text as written.
  const version = topLevelKey(doc, 'version');
  if (version && isScalar(version.value) && typeof version.value.value === 'number' && version.value.source) {
    raw.version = version.value.source;
  }

  const problems: DefinitionProblem[] = [];
  const result = BaseWorkflowSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path as PathSegment[];
      problems.push(at(locate(doc, path).offset, path, issueMessage(issue, raw)));
    }
  }
  const aliasRules = opts.repoAliases ? repoAliasRules(raw, opts.repoAliases) : [];
  for (const rule of [...crossFieldRules(raw), ...commandRules(raw), ...aliasRules]) {
    problems.push(at(locate(doc, rule.path).offset, rule.path, rule.message));
  }
  if (problems.length > 0 || !result.success) return done(problems);
  return { definition: result.data, problems };
}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Parses and returns the definition, or throws InvalidWorkflowError (exit 2) naming the first problem. */
export function loadDefinitionText(text: string, file: string): WorkflowDefinition {
  const { definition, problems } = parseDefinition(text, file);
  const first = problems[0];
  if (definition && !first) return definition;
  const n = problems.length;
  const head = first ? formatProblem(first) : `${file}:1:1: invalid workflow`;
  const more = n > 1 ? ` (and ${n - 1} more problems)` : '';
  throw new InvalidWorkflowError(`${head}${more}; fix it, then check with: orchestrator validate ${shellQuote(file)}`, {
    file,
    problems,
  });
}
