import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  WorkflowDefinitionSchema,
  findItem,
  formatProblem,
  loadDefinitionText,
  parseDefinition,
  settingsVars,
  substituteVars,
  type DefinitionProblem,
} from '../src/engine/definition.ts';
import { DEFAULT_WORKFLOW_YAML } from '../src/engine/default-workflow.ts';
import { InvalidWorkflowError } from '../src/errors.ts';

const FIXTURES = '/work/shared/fixtures/legacy-python';
const fixture = (rel: string) => readFileSync(join(FIXTURES, rel), 'utf8');

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function positionOf(text: string, needle: string, from = 0): { line: number; column: number } {
  const offset = text.indexOf(needle, from);
  assert.ok(offset >= 0, `${needle} not in text`);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before[before.length - 1] as string).length + 1 };
}

function problemAt(problems: DefinitionProblem[], path: string): DefinitionProblem {
  const found = problems.find((p) => p.path === path);
  assert.ok(found, `no problem at ${path}; got:\n${problems.map(formatProblem).join('\n')}`);
  return found;
}

const MINIMAL = (items: string) => `name: "T"
settings:
  docs_dir: docs
phases:
  - id: PLAN
    name: Plan
    items:
${items}`;

// ---- fixtures ----------------------------------------------------------------------------------

const LOADABLE: Array<[string, string[]]> = [
  ['workflows/default_workflow.yaml', ['PLAN', 'EXECUTE', 'REVIEW', 'VERIFY', 'DOCUMENT', 'LEARN']],
  ['workflows/development_workflow.yaml', ['PLAN', 'EXECUTE', 'REVIEW', 'VERIFY', 'LEARN']],
  ['workflows/pingxa_workflow.yaml', ['PLAN', 'EXECUTE', 'REVIEW', 'VERIFY', 'LEARN']],
];

for (const [rel, phaseIds] of LOADABLE) {
  test(`fixture ${rel} parses with zero problems`, () => {
    const { definition, problems } = parseDefinition(fixture(rel), rel);
    assert.deepEqual(problems.map(formatProblem), []);
    assert.ok(definition);
    assert.deepEqual(
      definition.phases.map((p) => p.id),
      phaseIds,
    );
    assert.equal(typeof definition.version, 'string');
    assert.ok(typeof definition.settings.test_command === 'string');
  });
}

test('default_workflow.yaml fixture: details survive (verification, step_type, unknown keys, defaults)', () => {
  const { definition } = parseDefinition(fixture('workflows/default_workflow.yaml'), 'workflow.yaml');
  assert.ok(definition);
  assert.equal(definition.version, '2.1');
  const plan = findItem(definition, 'initial_plan');
  assert.ok(plan);
  assert.equal(plan.phase.id, 'PLAN');
  assert.equal(plan.phaseIndex, 0);
  assert.deepEqual(plan.item.verification, { type: 'file_exists', path: '{{docs_dir}}/plan.md', expect_exit_code: 0 });
  assert.equal(plan.item.step_type, 'required');
  assert.equal(plan.item.required, true);
  assert.equal(plan.item.skippable, true);
  assert.deepEqual(plan.item.skip_conditions, []);
  const tests = findItem(definition, 'define_test_cases');
  assert.equal(tests?.item.evidence_schema, 'TestPlanEvidence');
  const allPass = findItem(definition, 'all_tests_pass');
  assert.equal(allPass?.item.verification.type, 'command');
  assert.equal(allPass?.item.verification.command, '{{test_command}}');
  assert.equal(allPass?.phaseIndex, 1);
  assert.equal(findItem(definition, 'no_such_item'), null);
  // nested settings are kept, but only scalars become variables
  assert.equal(typeof definition.settings.reviews, 'object');
  const vars = settingsVars(definition);
  assert.equal(vars.test_command, 'npm run build');
  assert.equal(vars.reviews, undefined);
});

test('default_v4.yaml is rejected with the V4 reason at the `workflow:` key (line 4, column 1)', () => {
  const text = fixture('workflows/default_v4.yaml');
  assert.match(text.split('\n')[3] ?? '', /^workflow:$/); // the real line of the key
  const { definition, problems } = parseDefinition(text, 'default_v4.yaml');
  assert.equal(definition, null);
  assert.equal(problems.length, 1);
  const [p] = problems;
  assert.ok(p);
  assert.equal(p.line, 4);
  assert.equal(p.column, 1);
  assert.match(p.message, /top-level `workflow:` key/);
  assert.match(p.message, /experimental V4 format, which is not supported/);
  assert.match(p.message, /phases must be at the top level/);
  assert.match(formatProblem(p), /^default_v4\.yaml:4:1: top-level `workflow:` key/);
});

test("the Python tool's serialised definition (nulls everywhere) passes the schema", () => {
  const state = JSON.parse(fixture('v2-root/.workflow_state.json')) as { workflow_definition: unknown };
  const result = WorkflowDefinitionSchema.safeParse(state.workflow_definition);
  assert.ok(result.success, JSON.stringify(!result.success && result.error.issues.slice(0, 3)));
  const first = result.data.phases[0]?.items[0];
  assert.ok(first);
  assert.equal(first.verification.path, undefined);
  assert.equal(first.description?.length ? 'text' : 'none', 'text');
  assert.equal(result.data.phases[0]?.exit_gate, undefined);
  assert.equal(first.agent, null); // unknown key kept as written
  assert.equal(first.step_type, 'flexible'); // default when absent
});

// ---- bundled default ---------------------------------------------------------------------------

test('the bundled default parses with zero problems and has the five phases in order', () => {
  const { definition, problems } = parseDefinition(DEFAULT_WORKFLOW_YAML, 'workflow.yaml');
  assert.deepEqual(problems.map(formatProblem), []);
  assert.ok(definition);
  assert.equal(definition.name, 'Default Workflow');
  assert.equal(definition.version, '1.0');
  assert.deepEqual(
    definition.phases.map((p) => p.id),
    ['PLAN', 'EXECUTE', 'REVIEW', 'VERIFY', 'LEARN'],
  );
  for (const phase of definition.phases) {
    assert.ok(phase.items.length >= 2 && phase.items.length <= 4, `${phase.id} has ${phase.items.length} items`);
  }
  const approval = findItem(definition, 'user_approval');
  assert.equal(approval?.phase.id, 'PLAN');
  assert.equal(approval?.item.verification.type, 'manual_gate');
  assert.equal(approval?.item.skippable, false);
  assert.equal(approval?.item.step_type, 'gate');
  const planFile = findItem(definition, 'initial_plan');
  assert.equal(planFile?.item.verification.type, 'file_exists');
  assert.equal(substituteVars(planFile?.item.verification.path ?? '', settingsVars(definition)), 'docs/plan.md');
  const verifyCommands = definition.phases
    .find((p) => p.id === 'VERIFY')
    ?.items.filter((i) => i.verification.type === 'command');
  assert.equal(verifyCommands?.[0]?.verification.command, '{{test_command}}');
  assert.equal(settingsVars(definition).test_command, 'npm test');
  const all = definition.phases.flatMap((p) => p.items);
  assert.ok(all.some((i) => i.required && !i.skippable && i.step_type === 'required'));
  assert.ok(all.some((i) => !i.required && i.skippable));
  for (const id of ['EXECUTE', 'REVIEW', 'LEARN']) {
    const phase = definition.phases.find((p) => p.id === id);
    assert.ok(phase?.items.every((i) => i.verification.type === 'none'), `${id} items must be verification none`);
  }
});

// ---- positions ---------------------------------------------------------------------------------

test('malformed YAML gives a problem at the line and column of the syntax error', () => {
  const text = 'name: x\nphases:\n  - id: PLAN\n    name: a: b\n';
  const { definition, problems } = parseDefinition(text, 'workflow.yaml');
  assert.equal(definition, null);
  assert.ok(problems.length >= 1);
  const [p] = problems;
  assert.ok(p);
  assert.deepEqual([p.line, p.column], [4, 11]);
  assert.match(p.message, /^YAML syntax error: Nested mappings are not allowed/);
  assert.equal(p.path, '');

  const tabs = parseDefinition('name: x\nphases:\n\t- id: A\n', 'w.yaml').problems[0];
  assert.deepEqual([tabs?.line, tabs?.column], [3, 1]);
  assert.match(tabs?.message ?? '', /tabs/);

  const dup = parseDefinition('name: x\nname: y\nphases: []\n', 'w.yaml').problems[0];
  assert.deepEqual([dup?.line, dup?.column], [2, 1]);
  assert.match(dup?.message ?? '', /twice/);
});

test('a schema error is reported at the exact line and column of the offending value', () => {
  const text = MINIMAL(`      - id: write_plan
        name: Write plan
        verification:
          type: file_exists
          path: "{{docs_dir}}/plan.md"
      - id: run_it
        name: Run it
        verification:
          type:   bogus
`);
  const { definition, problems } = parseDefinition(text, 'workflow.yaml');
  assert.equal(definition, null);
  assert.equal(problems.length, 1);
  const p = problemAt(problems, 'phases[0].items[1].verification.type');
  assert.deepEqual({ line: p.line, column: p.column }, positionOf(text, 'bogus'));
  assert.deepEqual([p.line, p.column], [16, 19]);
  assert.equal(
    formatProblem(p),
    'workflow.yaml:16:19: phases[0].items[1].verification.type: must be one of none, file_exists, command, manual_gate (got "bogus")',
  );
});

test('a document with three distinct problems reports all three, in document order', () => {
  const text = `name: "T"
phases:
  - id: plan
    name: Plan
    items:
      - id: a
        name: A
        verification: {type: file_exists, path: "{{nope}}/a.md"}
      - id: b
        verification:
          type: command
          command: "make"
`;
  const { definition, problems } = parseDefinition(text, 'w.yaml');
  assert.equal(definition, null);
  // schema issues and cross-field rules are merged in document order
  assert.deepEqual(
    problems.map((p) => p.path),
    ['phases[0].id', 'phases[0].items[0].verification.path', 'phases[0].items[1].name'],
  );
  assert.deepEqual([problems[0]?.line, problems[0]?.column], [3, 9]);
  assert.deepEqual({ line: problems[1]?.line, column: problems[1]?.column }, positionOf(text, '"{{nope}}'));
  assert.match(problems[1]?.message ?? '', /\{\{nope\}\}.*add nope: <value> under settings:/);
  // a missing key is reported at the start of the mapping that lacks it
  assert.deepEqual([problems[2]?.line, problems[2]?.column], [9, 9]);
  assert.match(problems[2]?.message ?? '', /is required; add name: to this item/);
});

// ---- rules -------------------------------------------------------------------------------------

test('duplicate item ids across phases are a problem naming the path of the second one', () => {
  const text = `name: T
phases:
  - id: A
    name: A
    items:
      - {id: same, name: one}
  - id: B
    name: B
    items:
      - id: other
        name: other
      - id: same
        name: two
`;
  const { problems } = parseDefinition(text, 'w.yaml');
  assert.equal(problems.length, 1);
  const p = problemAt(problems, 'phases[1].items[1].id');
  assert.match(p.message, /duplicate item id "same" \(already used by phases\[0\]\.items\[0\]\)/);
  assert.match(p.message, /unique across the whole workflow/);
  assert.deepEqual([p.line, p.column], [12, 13]);
});

test('duplicate phase ids are a problem', () => {
  const { problems } = parseDefinition('name: T\nphases:\n  - {id: A, name: a}\n  - {id: A, name: b}\n', 'w.yaml');
  assert.equal(problems.length, 1);
  assert.match(problemAt(problems, 'phases[1].id').message, /duplicate phase id "A"/);
});

test('an unknown {{var}} in a path or command is a problem naming the var and settings:', () => {
  const text = MINIMAL(`      - id: check
        name: Check
        verification:
          type: command
          command: "{{ lint_command }} --dir {{docs_dir}}"
      - id: plan_file
        name: Plan file
        verification: {type: file_exists, path: "{{plans}}/plan.md"}
`);
  const { problems } = parseDefinition(text, 'w.yaml');
  assert.equal(problems.length, 2);
  const cmd = problemAt(problems, 'phases[0].items[0].verification.command');
  assert.match(cmd.message, /\{\{lint_command\}\}/);
  assert.match(cmd.message, /add lint_command: <value> under settings:/);
  assert.deepEqual({ line: cmd.line, column: cmd.column }, positionOf(text, '"{{ lint_command'));
  const path = problemAt(problems, 'phases[0].items[1].verification.path');
  assert.match(path.message, /plans.*under settings:/);
});

test('file_exists without a path (absent, null or empty) and command without a command are problems', () => {
  for (const pathLine of ['', 'path: null', 'path: ""']) {
    const text = MINIMAL(`      - id: f
        name: F
        verification:
          type: file_exists
          ${pathLine}
`);
    const { definition, problems } = parseDefinition(text, 'w.yaml');
    assert.equal(definition, null);
    assert.equal(problems.length, 1, `with ${JSON.stringify(pathLine)}`);
    assert.match(problemAt(problems, 'phases[0].items[0].verification.path').message, /required when type is file_exists/);
  }
  const { problems } = parseDefinition(
    MINIMAL(`      - {id: c, name: C, verification: {type: command}}\n`),
    'w.yaml',
  );
  assert.match(problemAt(problems, 'phases[0].items[0].verification.command').message, /required when type is command/);
});

test('a lower-case phase id is a problem naming the path and suggesting the fix', () => {
  const { problems } = parseDefinition('name: T\nphases:\n  - id: plan\n    name: Plan\n', 'w.yaml');
  assert.equal(problems.length, 1);
  const p = problemAt(problems, 'phases[0].id');
  assert.match(p.message, /upper-case/);
  assert.match(p.message, /use "PLAN"/);
  assert.deepEqual([p.line, p.column], [3, 9]);
});

test('other schema rules: item id characters, phases required and non-empty, timeout, integer exit code', () => {
  const bad = parseDefinition(
    MINIMAL(`      - id: has-dash
        name: X
        verification: {type: command, command: make, timeout: 0, expect_exit_code: 1.5}
`),
    'w.yaml',
  ).problems;
  assert.match(problemAt(bad, 'phases[0].items[0].id').message, /letters, digits and _.*use "has_dash"/);
  assert.match(problemAt(bad, 'phases[0].items[0].verification.timeout').message, /positive number of seconds/);
  assert.match(problemAt(bad, 'phases[0].items[0].verification.expect_exit_code').message, /whole number/);
  const typed = parseDefinition('name: 5\nphases:\n  - {id: A, name: A, items: [{id: i, name: I, required: "yes"}]}\n', 'w.yaml');
  assert.match(problemAt(typed.problems, 'name').message, /must be text, not 5; put it in quotes/);
  assert.match(problemAt(typed.problems, 'phases[0].items[0].required').message, /must be true or false, not "yes"/);
  assert.match(problemAt(parseDefinition('name: T\n', 'w.yaml').problems, 'phases').message, /is required; add phases:/);
  assert.match(problemAt(parseDefinition('name: T\nphases: []\n', 'w.yaml').problems, 'phases').message, /at least one phase/);
  assert.match(parseDefinition('', 'w.yaml').problems[0]?.message ?? '', /empty/);
  assert.match(parseDefinition('- a\n', 'w.yaml').problems[0]?.message ?? '', /must be a mapping/);
});

test('defaults, null tolerance and version as a number', () => {
  const { definition, problems } = parseDefinition(
    `name: T
version: 2.0
description: null
settings:
phases:
  - id: A
    name: A
    exit_gate: null
    items:
      - id: i
        name: I
        description: null
        verification: {type: none, path: null, command: null, description: null}
  - id: B
    name: B
    items:
`,
    'w.yaml',
  );
  assert.deepEqual(problems, []);
  assert.ok(definition);
  assert.equal(definition.version, '2.0');
  assert.deepEqual(definition.settings, {});
  assert.deepEqual(definition.phases[1]?.items, []);
  const item = definition.phases[0]?.items[0];
  assert.equal(item?.required, true);
  assert.equal(item?.skippable, true);
  assert.equal(item?.step_type, 'flexible');
  assert.deepEqual(item?.notes, []);
  assert.equal(item?.verification.expect_exit_code, 0);
  assert.equal(item?.verification.path, undefined);
  assert.equal(item?.description, undefined);
  const noVersion = parseDefinition('name: T\nphases: [{id: A, name: A}]\n', 'w.yaml').definition;
  assert.equal(noVersion?.version, '1.0');
  assert.deepEqual(noVersion?.phases[0]?.items, []);
});

test('unknown keys survive on the workflow, phases, items and verification', () => {
  const { definition, problems } = parseDefinition(
    `name: T
owner: team-a
phases:
  - id: A
    name: A
    phase_type: strict
    required_reviews: [security]
    items:
      - id: i
        name: I
        agent: foo
        evidence_prompt: null
        verification: {type: none, extra: 1}
`,
    'w.yaml',
  );
  assert.deepEqual(problems, []);
  assert.ok(definition);
  assert.equal(definition.owner, 'team-a');
  assert.equal(definition.phases[0]?.phase_type, 'strict');
  assert.deepEqual(definition.phases[0]?.required_reviews, ['security']);
  assert.equal(definition.phases[0]?.items[0]?.agent, 'foo');
  assert.equal(definition.phases[0]?.items[0]?.evidence_prompt, null);
  assert.equal(definition.phases[0]?.items[0]?.verification.extra, 1);
});

// ---- loadDefinitionText ------------------------------------------------------------------------

test('loadDefinitionText returns the definition, or throws InvalidWorkflowError (exit 2) with a one-line message', () => {
  assert.equal(loadDefinitionText(DEFAULT_WORKFLOW_YAML, 'workflow.yaml').name, 'Default Workflow');

  const text = 'name: T\nphases:\n  - id: plan\n    name: P\n  - id: B\n';
  let caught: unknown;
  try {
    loadDefinitionText(text, 'workflow.yaml');
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof InvalidWorkflowError);
  assert.equal(caught.exitCode, 2);
  assert.equal(caught.code, 'INVALID_WORKFLOW');
  assert.ok(!caught.message.includes('\n'));
  assert.match(
    caught.message,
    /^workflow\.yaml:3:9: phases\[0\]\.id: must be upper-case .* \(and 1 more problems\); fix it, then check with: orchestrator validate workflow\.yaml$/,
  );
  assert.equal((caught.data.problems as unknown[]).length, 2);

  assert.throws(
    () => loadDefinitionText('name: T\nphases: []\n', 'w.yaml'),
    (err: unknown) =>
      err instanceof InvalidWorkflowError &&
      !err.message.includes('(and') &&
      err.message.endsWith('; fix it, then check with: orchestrator validate w.yaml'),
  );
  assert.throws(
    () => loadDefinitionText(fixture('workflows/default_v4.yaml'), 'default_v4.yaml'),
    (err: unknown) => err instanceof InvalidWorkflowError && /^default_v4\.yaml:4:1: .*V4/.test(err.message),
  );
});

// ---- variables ---------------------------------------------------------------------------------

test('settingsVars keeps scalar settings as strings; substituteVars fills {{ name }} and leaves unknown ones', () => {
  const definition = loadDefinitionText(
    `name: T
settings:
  docs_dir: docs
  retries: 3
  strict: false
  nested: {a: 1}
  empty:
phases: [{id: A, name: A}]
`,
    'w.yaml',
  );
  const vars = settingsVars(definition);
  assert.deepEqual(vars, { docs_dir: 'docs', retries: '3', strict: 'false' });
  assert.equal(substituteVars('{{docs_dir}}/plan.md', vars), 'docs/plan.md');
  assert.equal(substituteVars('run {{ retries }}x, {{strict}}', vars), 'run 3x, false');
  assert.equal(substituteVars('{{unknown}} and {{ nested }}', vars), '{{unknown}} and {{ nested }}');
  assert.equal(substituteVars('{{constructor}} {{toString}}', vars), '{{constructor}} {{toString}}');
  assert.equal(substituteVars('no vars', vars), 'no vars');
  assert.equal(substituteVars('$& {{docs_dir}}', { docs_dir: '$&x' }), '$& $&x');
});

test('formatProblem omits an empty path', () => {
  assert.equal(formatProblem({ file: 'f.yaml', line: 2, column: 3, path: '', message: 'm' }), 'f.yaml:2:3: m');
  assert.equal(formatProblem({ file: 'f.yaml', line: 2, column: 3, path: 'phases[0].id', message: 'm' }), 'f.yaml:2:3: phases[0].id: m');
});
