// Bad input through the BUILT CLI: each case gets its documented exit code (CONTRACT §5), one line on
// stderr naming the file or item and the fix, and leaves EVERY file as it was, .orchestrator/ included.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  diffTrees,
  expectCode,
  makeRepo,
  runCli,
  sessionDir,
  snapshotTree,
  tempDir,
  type CliOptions,
  type CliResult,
  ok,
  refuses,
} from './helpers/cli.ts';



/** Runs a read-only report that must exit `code`, changing no file. */
function reports(repo: string, args: string[], code: number, opts: CliOptions = {}): CliResult {
  const before = snapshotTree(repo);
  const r = expectCode(runCli(repo, args, opts), code, `orchestrator ${args.join(' ')}`);
  assert.deepEqual(diffTrees(before, snapshotTree(repo)), [], `orchestrator ${args.join(' ')} changed files`);
  return r;
}

function started(task = 'Bad input'): { repo: string; sdir: string; sid: string } {
  const repo = makeRepo();
  ok(repo, ['start', task]);
  const sid = readFileSync(join(repo, '.orchestrator', 'current'), 'utf8');
  return { repo, sdir: sessionDir(repo), sid };
}

const SYNTAX_ERROR_YAML = 'name: Broken\nphases:\n  - id: A\n    name: [unclosed\n';
// Three schema problems, at known places.
const INVALID_YAML = `name: x
phases:
  - id: lower
    name: a
    items:
      - id: "bad id"
        name: b
        verification: {type: bogus}
`;

describe('workflow.yaml that does not parse', () => {
  test('start: exit 2 with file:line:col, nothing created', () => {
    const repo = makeRepo();
    writeFileSync(join(repo, 'workflow.yaml'), SYNTAX_ERROR_YAML);
    refuses(repo, ['start', 'A task'], 2, [/workflow\.yaml:\d+:\d+: YAML syntax error/, /orchestrator validate workflow\.yaml/]);
    assert.ok(!existsSync(join(repo, '.orchestrator')));
    writeFileSync(join(repo, 'workflow.yaml'), INVALID_YAML);
    refuses(repo, ['start', 'A task'], 2, [/workflow\.yaml:3:9: phases\[0\]\.id/, /and 2 more problems/, /orchestrator validate/]);
    // --workflow FILE is read the same way.
    writeFileSync(join(repo, 'other.yaml'), SYNTAX_ERROR_YAML);
    rmSync(join(repo, 'workflow.yaml'));
    refuses(repo, ['start', 'A task', '--workflow', 'other.yaml'], 2, [/other\.yaml:\d+:\d+:/]);
    refuses(repo, ['start', 'A task', '--workflow', 'missing.yaml'], 2, [/missing\.yaml: no such file/, /--workflow/]);
    assert.ok(!existsSync(join(repo, '.orchestrator')));
  });

  test('validate: exit 1, every problem listed with line:col', () => {
    const repo = makeRepo();
    writeFileSync(join(repo, 'workflow.yaml'), INVALID_YAML);
    const r = reports(repo, ['validate'], 1);
    const problems = r.stdout.split('\n').filter((l) => /^workflow\.yaml:\d+:\d+: /.test(l));
    assert.deepEqual(
      problems.map((l) => l.split(': ').slice(0, 2).join(': ')),
      ['workflow.yaml:3:9: phases[0].id', 'workflow.yaml:6:13: phases[0].items[0].id', 'workflow.yaml:8:30: phases[0].items[0].verification.type'],
    );
    assert.match(r.stdout, /3 problems in workflow\.yaml/);
    const j = JSON.parse(reports(repo, ['validate', '--json'], 1).stdout);
    assert.equal(j.ok, false);
    assert.deepEqual(j.problems.map((p: any) => [p.line, p.column]), [[3, 9], [6, 13], [8, 30]]);

    writeFileSync(join(repo, 'broken.yaml'), SYNTAX_ERROR_YAML);
    const s = reports(repo, ['validate', 'broken.yaml'], 1);
    assert.match(s.stdout, /^broken\.yaml:\d+:\d+: YAML syntax error/m);
  });
});

describe('commands with wrong arguments', () => {
  test('unknown item (2), wrong phase (3), unknown flag (2), missing argument (2)', () => {
    const { repo } = started();
    refuses(repo, ['complete', 'no_such_item'], 2, [/unknown item "no_such_item"/, /understand_task, initial_plan, user_approval/, /orchestrator status/]);
    refuses(repo, ['skip', 'no_such_item', '--reason', 'a reason long enough'], 2, [/no_such_item/]);
    refuses(repo, ['complete', 'implement'], 3, [/item "implement" belongs to phase EXECUTE, but the current phase is PLAN/, /orchestrator status/]);
    refuses(repo, ['approve-item', 'run_tests'], 3, [/"run_tests".*VERIFY/]);
    refuses(repo, ['status', '--bogus'], 2, [/unknown flag --bogus for "orchestrator status"/, /orchestrator status --help/]);
    refuses(repo, ['complete', 'understand_task', '-x'], 2, [/unknown flag -x/]);
    refuses(repo, ['frobnicate'], 2, [/unknown command "frobnicate"/, /orchestrator --help/]);
    refuses(repo, ['complete'], 2, [/usage: orchestrator complete ITEM/, /orchestrator complete --help/]);
    refuses(repo, ['skip', 'understand_task'], 2, [/reason/, /--reason/]);
    refuses(repo, ['complete', 'understand_task', '--notes'], 2, [/--notes needs a value/]);
    refuses(repo, ['start'], 2, [/usage: orchestrator start "TASK"/]);
    refuses(repo, ['status', 'extra'], 2, [/usage: orchestrator status/]);
    refuses(repo, ['log', '-n', 'many'], 2, [/-n many/, /-n 50/]);
  });

  test('--session ../x and ORCHESTRATOR_LOCK_TIMEOUT=abc (2)', () => {
    const { repo } = started();
    refuses(repo, ['status', '--session', '../x'], 2, [/"\.\.\/x" is not a valid session id/, /orchestrator session list/]);
    refuses(repo, ['complete', 'understand_task', '--session', '../x'], 2, [/not a valid session id/]);
    refuses(repo, ['status'], 2, [/ORCHESTRATOR_SESSION/], { env: { ORCHESTRATOR_SESSION: '../../etc' } });
    refuses(repo, ['status', '--session', 'nosuch'], 2, [/no session "nosuch"/]);
    // An item with nothing to verify: only the bad setting can stop it.
    refuses(repo, ['complete', 'understand_task'], 2, [/ORCHESTRATOR_LOCK_TIMEOUT="abc"/, /e\.g\. 30/], {
      env: { ORCHESTRATOR_LOCK_TIMEOUT: 'abc' },
    });
    ok(repo, ['complete', 'understand_task'], { env: { ORCHESTRATOR_LOCK_TIMEOUT: '5' } });
  });

  test('a bad ORCHESTRATOR_LOCK_TIMEOUT is refused before a verification command runs', () => {
    const repo = makeRepo();
    const script = "require('fs').writeFileSync('verification-ran.txt', 'x')";
    writeFileSync(
      join(repo, 'workflow.yaml'),
      `name: Lock\nphases:\n  - id: A\n    name: A\n    items:\n      - id: tests\n        name: Tests\n        verification:\n          type: command\n          command: '"${process.execPath}" -e "${script.replace(/'/g, "''")}"'\n`,
    );
    ok(repo, ['start', 'Lock timeout']);
    // The tree stays byte-identical, so the command (which writes a file) never ran.
    refuses(repo, ['complete', 'tests'], 2, [/ORCHESTRATOR_LOCK_TIMEOUT="-1"/], { env: { ORCHESTRATOR_LOCK_TIMEOUT: '-1' } });
    ok(repo, ['complete', 'tests']);
    assert.ok(existsSync(join(repo, 'verification-ran.txt')), 'the verification does write the file when it runs');
  });
});

describe('damaged state and log files', () => {
  test('state.json edited by hand: complete 2, status 1 with PROBLEM, doctor 1, doctor --reseal fixes it', () => {
    const { repo, sdir, sid } = started('Original task');
    const path = join(sdir, 'state.json');
    const text = readFileSync(path, 'utf8');
    assert.ok(text.includes('"task_description": "Original task"'));
    writeFileSync(path, text.replace('"task_description": "Original task"', '"task_description": "Edited task"'));

    refuses(repo, ['complete', 'understand_task'], 2, [new RegExp(`sessions/${sid}/state\\.json: checksum mismatch`), /doctor --reseal/]);
    refuses(repo, ['skip', 'understand_task', '--reason', 'x'.repeat(60)], 2, [/checksum mismatch/]);
    refuses(repo, ['advance'], 2, [/checksum mismatch/]);
    const st = reports(repo, ['status'], 1);
    assert.match(st.stdout, /^PROBLEM: .*state\.json: checksum mismatch.*orchestrator doctor --reseal/m);
    assert.match(st.stdout, /^NEXT: orchestrator doctor$/m);
    const sj = JSON.parse(reports(repo, ['status', '--json'], 1).stdout);
    assert.equal(sj.ok, false);
    assert.equal(sj.next.command, 'orchestrator doctor');
    assert.equal(sj.problems.length, 1);
    const doc = reports(repo, ['doctor'], 1);
    assert.match(doc.stdout, /^PROBLEM .*state\.json: checksum mismatch.*doctor --reseal/m);
    assert.match(doc.stdout, /1 problem found/);

    const fixed = ok(repo, ['doctor', '--reseal']);
    assert.match(fixed.stdout, /Resealed .*state\.json/);
    assert.match(fixed.stdout, /No problems found/);
    const again = ok(repo, ['status']);
    assert.match(again.stdout, /^Task: +Edited task$/m);
    ok(repo, ['complete', 'understand_task']);
  });

  test('state.json that is not JSON: exit 2 naming the file', () => {
    const { repo, sdir, sid } = started();
    writeFileSync(join(sdir, 'state.json'), '{"workflow_id": "wf_1", "phases": {\ngarbage\n');
    const shown = new RegExp(`\\.orchestrator/sessions/${sid}/state\\.json: not valid JSON`);
    refuses(repo, ['complete', 'understand_task'], 2, [shown, /restore it/]);
    refuses(repo, ['status'], 2, [shown]);
    refuses(repo, ['start', 'Another'], 2, [shown]);
    const doc = reports(repo, ['doctor'], 1);
    assert.match(doc.stdout, /^PROBLEM .*state\.json: not valid JSON/m);
    // JSON.parse quotes the text it choked on; a newline in it must not split the message.
    writeFileSync(join(sdir, 'state.json'), 'garbage\nmore garbage\n');
    refuses(repo, ['status'], 2, [shown]);
    refuses(repo, ['advance'], 2, [shown]);
    // Valid JSON that is not a workflow state is just as bad.
    writeFileSync(join(sdir, 'state.json'), '[1, 2, 3]\n');
    refuses(repo, ['status'], 2, [/state\.json: not a workflow state/]);
  });

  test('a torn last log line: log 2, doctor 1, and the next complete starts a fresh line', () => {
    const { repo, sdir, sid } = started();
    const logPath = join(sdir, 'log.jsonl');
    const torn = '{"timestamp": "2026-01-01T00:00:00Z", "event_type": "item_comp';
    appendFileSync(logPath, torn);
    const shown = `.orchestrator/sessions/${sid}/log.jsonl:3`;

    const log = reports(repo, ['log'], 2);
    assert.match(log.stdout, /workflow_started/);
    assert.match(log.stdout, /phase_started/);
    assert.ok(log.stderr.includes(shown), log.stderr);
    assert.equal(log.stderr.trimEnd().split('\n').length, 1);
    const lj = JSON.parse(reports(repo, ['log', '--json'], 2).stdout);
    assert.deepEqual(lj.events.map((e: any) => e.event_type), ['workflow_started', 'phase_started']);
    assert.deepEqual(lj.bad_lines, [3]);
    const doc = reports(repo, ['doctor'], 1);
    assert.ok(doc.stdout.includes(`PROBLEM  ${shown}:`), doc.stdout);

    ok(repo, ['complete', 'understand_task']);
    const lines = readFileSync(logPath, 'utf8').split('\n');
    assert.equal(lines.at(-1), '', 'the log ends with a newline');
    assert.equal(lines[2], torn, 'the torn line is kept as it was');
    const later = lines.slice(3).filter((l) => l !== '');
    assert.ok(later.length >= 1);
    for (const l of later) JSON.parse(l);
    assert.equal(JSON.parse(later.at(-1)!).event_type, 'item_completed');
    const after = JSON.parse(reports(repo, ['log', '--json'], 2).stdout);
    assert.deepEqual(after.events.map((e: any) => e.event_type), ['workflow_started', 'phase_started', 'item_completed']);
  });
});

describe('verifications that would leave the repo or use a shell', () => {
  function checkRepo(items: string, settings = ''): { repo: string; outside: string } {
    const repo = makeRepo();
    const outside = tempDir('orch-outside-');
    writeFileSync(join(outside, 'plan.md'), 'outside\n');
    const yaml = `name: Escapes\n${settings}phases:\n  - id: A\n    name: A\n    items:\n${items}`;
    writeFileSync(join(repo, 'workflow.yaml'), yaml);
    ok(repo, ['start', 'Escapes']);
    return { repo, outside };
  }

  test('file_exists paths escaping the repo: ../, absolute, symlink (2, nothing written)', () => {
    const outside = tempDir('orch-outside-');
    writeFileSync(join(outside, 'plan.md'), 'outside\n');
    const repo = makeRepo();
    const rel = `../${outside.split('/').at(-1)}/plan.md`;
    writeFileSync(
      join(repo, 'workflow.yaml'),
      `name: Escapes
phases:
  - id: A
    name: A
    items:
      - id: dotdot
        name: Dot dot
        verification: {type: file_exists, path: "../outside"}
      - id: dotdot_real
        name: Dot dot to a file that exists
        verification: {type: file_exists, path: "${rel}"}
      - id: absolute
        name: Absolute
        verification: {type: file_exists, path: "${join(outside, 'plan.md')}"}
      - id: via_link
        name: Through a symlink
        verification: {type: file_exists, path: "docs/plan.md"}
`,
    );
    symlinkSync(outside, join(repo, 'docs'));
    ok(repo, ['start', 'Escapes']);
    refuses(repo, ['complete', 'dotdot'], 2, [/item dotdot: path "\.\.\/outside" leaves the repository/, /inside/]);
    refuses(repo, ['complete', 'dotdot_real'], 2, [/leaves the repository/]);
    refuses(repo, ['complete', 'absolute'], 2, [/item absolute: path ".*" is absolute; give a path relative to the repo root/]);
    refuses(repo, ['complete', 'via_link'], 2, [/item via_link: path "docs\/plan\.md" resolves through a symlink to .*outside the repository/]);
    assert.equal(readFileSync(join(outside, 'plan.md'), 'utf8'), 'outside\n');
  });

  test('a setting carrying shell syntax, or && in a command: start refuses (2), validate lists each, nothing runs', () => {
    const marker = join(tempDir('orch-pwned-'), `pwned-${process.pid}-${Date.now()}`);
    const marker2 = `${marker}-andand`;
    const repo = makeRepo();
    const yaml = `name: Shell
settings:
  test_command: "echo hi; touch ${marker}"
  target: "x$(touch ${marker})"
phases:
  - id: A
    name: A
    items:
      - id: run_tests
        name: Tests
        verification: {type: command, command: "{{test_command}}"}
      - id: inline
        name: Inline setting
        verification: {type: command, command: "echo pre-{{target}}"}
      - id: andand
        name: And and
        verification: {type: command, command: "true && touch ${marker2}"}
`;
    writeFileSync(join(repo, 'workflow.yaml'), yaml);
    refuses(repo, ['start', 'Shell'], 2, [/workflow\.yaml:\d+:\d+: phases\[0\]\.items\[0\]\.verification\.command: setting test_command/, /shell syntax ";"/, /and 2 more problems/, /orchestrator validate/]);
    const v = reports(repo, ['validate'], 1);
    assert.match(v.stdout, /items\[0\]\.verification\.command: setting test_command .*shell syntax ";"/);
    assert.match(v.stdout, /items\[1\]\.verification\.command: setting target .*shell syntax/);
    assert.match(v.stdout, /items\[2\]\.verification\.command: shell syntax "&"/);
    assert.ok(!existsSync(marker), `${marker} was created: a shell ran the setting`);
    assert.ok(!existsSync(marker2), `${marker2} was created: a shell ran the command`);
  });

  test('a state that already embeds shell syntax (older tool, hand edit) is still refused at complete', () => {
    const marker = join(tempDir('orch-pwned-'), `pwned-${process.pid}-${Date.now()}`);
    const { repo } = checkRepo(
      `      - id: run_tests
        name: Tests
        verification: {type: command, command: "{{test_command}}"}
`,
      `settings:\n  test_command: "node --version"\n`,
    );
    const statePath = join(sessionDir(repo), 'state.json');
    const state = JSON.parse(readFileSync(statePath, 'utf8'));
    state.workflow_definition.settings.test_command = `echo hi; touch ${marker}`;
    writeFileSync(statePath, JSON.stringify(state, null, 2));
    ok(repo, ['doctor', '--reseal']);
    refuses(repo, ['complete', 'run_tests'], 2, [/item run_tests: setting test_command/, /shell syntax ";"/, /without a shell/]);
    assert.ok(!existsSync(marker), `${marker} was created: a shell ran the setting`);
  });
});

describe('exit codes stay as documented for a missing workflow', () => {
  test('commands before any start name the fix', () => {
    const repo = makeRepo();
    refuses(repo, ['status'], 2, [/no workflow in this repo yet/, /orchestrator start "TASK"/]);
    refuses(repo, ['complete', 'x'], 2, [/orchestrator start/]);
    refuses(repo, ['validate'], 2, [/workflow\.yaml: no such file/, /orchestrator init/]);
    // Writing commands refuse before they take the repo lock: not even .orchestrator/locks/ appears.
    refuses(repo, ['advance'], 2, [/orchestrator start/]);
    refuses(repo, ['skip', 'x', '--reason', 'a long enough reason'], 2, [/orchestrator start/]);
    refuses(repo, ['approve-item', 'x'], 2, [/orchestrator start/]);
    refuses(repo, ['finish', '--abandon'], 2, [/orchestrator start/]);
    refuses(repo, ['session', 'end'], 2, [/no current session to end/, /orchestrator session end ID/]);
    refuses(repo, ['doctor', '--reseal'], 2, [/no session to reseal/, /--session ID/]);
    mkdirSync(join(repo, 'sub'));
    refuses(join(repo, 'sub'), ['advance'], 2, [/orchestrator start/]);
    assert.ok(!existsSync(join(repo, '.orchestrator')));
  });
});
