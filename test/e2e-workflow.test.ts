// End to end: the BUILT CLI driven as a user would, in real temporary git repos. Every story here
// goes through the command line only; files are read afterwards to check what the tool promised
// (CONTRACT §1 files, §3 state and log, §4 commands, §5 exit codes).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_WORKFLOW_YAML } from '../src/engine/default-workflow.ts';
import {
  diffTrees,
  expectCode,
  git,
  makeRepo,
  readJson,
  repoFromFixture,
  runCli,
  sessionDir,
  snapshotTree,
  tempDir,
  type CliOptions,
  type CliResult,
} from './helpers/cli.ts';

// ---- small helpers -------------------------------------------------------------------------------

function run(cwd: string, args: string[], code: number, opts: CliOptions = {}): CliResult {
  return expectCode(runCli(cwd, args, opts), code, `orchestrator ${args.join(' ')}`);
}

function ok(cwd: string, args: string[], opts: CliOptions = {}): CliResult {
  return run(cwd, args, 0, opts);
}

function json(cwd: string, args: string[], code = 0, opts: CliOptions = {}): any {
  return JSON.parse(run(cwd, [...args, '--json'], code, opts).stdout);
}

function nextLine(r: CliResult): string {
  const line = r.stdout.split('\n').find((l) => l.startsWith('NEXT: '));
  assert.ok(line, `no NEXT: line in:\n${r.stdout}`);
  return line;
}

function logEvents(dir: string): any[] {
  return readFileSync(join(dir, 'log.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

function state(dir: string): any {
  return readJson(join(dir, 'state.json'));
}

function commit(repo: string, path: string, message: string): void {
  git(repo, ['add', '--', path]);
  git(repo, ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '-m', message]);
}

function porcelain(repo: string, all = false): string[] {
  return git(repo, ['status', '--porcelain', ...(all ? ['--untracked-files=all'] : [])])
    .split('\n')
    .filter(Boolean);
}

/** A command line for this very Node, safe for workflow.yaml (double quotes keep spaces together). */
function nodeCmd(script: string): string {
  return `"${process.execPath}" -e "${script.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** YAML single-quoted scalar. */
function yq(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** The Python tool's checksum, computed by Python itself when it exists (an independent implementation). */
function pythonChecksum(statePath: string): string | null {
  const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return null;
  const script = [
    'import json, sys, hashlib',
    's = json.load(open(sys.argv[1], encoding="utf-8"))',
    'for k in ("_checksum", "_updated_at", "_version"): s.pop(k, None)',
    'print(hashlib.sha256(json.dumps(s, sort_keys=True).encode("utf-8")).hexdigest()[:32])',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script, statePath], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

const LONG_REASON = 'Docs-only change: there is no behaviour here that a test could meaningfully pin down.';

/** Paths (relative, as snapshotTree names them) that changed between two snapshots. */
function changedPaths(before: Map<string, string>, after: Map<string, string>): string[] {
  return diffTrees(before, after).map((d) => d.replace(/^(changed|removed|added) /, ''));
}

// ---- the full story --------------------------------------------------------------------------------

describe('the default workflow, start to finish', () => {
  test('init, start, every phase, finish: status, NEXT, log, state, files', (t) => {
    const repo = makeRepo();
    const before = snapshotTree(repo);

    const init = ok(repo, ['init']);
    assert.match(init.stdout, /NEXT: orchestrator start "TASK"/);
    assert.equal(readFileSync(join(repo, 'workflow.yaml'), 'utf8'), DEFAULT_WORKFLOW_YAML);
    // The test command must exist and pass: this Node, without a shell.
    const yaml = DEFAULT_WORKFLOW_YAML.replace('test_command: "npm test"', `test_command: ${yq(nodeCmd('process.exit(0)'))}`);
    assert.notEqual(yaml, DEFAULT_WORKFLOW_YAML, 'the default workflow no longer has test_command: "npm test"');
    writeFileSync(join(repo, 'workflow.yaml'), yaml);
    ok(repo, ['validate']);

    const started = ok(repo, ['start', 'Add a greeting endpoint']);
    assert.match(started.stdout, /Started "Add a greeting endpoint" with workflow\.yaml/);
    assert.equal(nextLine(started), 'NEXT: orchestrator complete understand_task --notes "WHAT YOU DID"');
    const sdir = sessionDir(repo);
    const sid = readFileSync(join(repo, '.orchestrator', 'current'), 'utf8');

    let s = json(repo, ['status']);
    assert.equal(s.ok, true);
    assert.equal(s.task, 'Add a greeting endpoint');
    assert.equal(s.status, 'active');
    assert.equal(s.session_id, sid);
    assert.deepEqual(s.phase, { id: 'PLAN', name: 'Plan', number: 1, count: 5 });
    assert.deepEqual(s.progress, { phase_done: 0, phase_total: 3, done: 0, total: 12 });
    assert.deepEqual(
      s.items.map((i: any) => [i.id, i.status]),
      [['understand_task', 'pending'], ['initial_plan', 'pending'], ['user_approval', 'pending']],
    );
    assert.equal(s.next.command, 'orchestrator complete understand_task --notes "WHAT YOU DID"');

    // PLAN
    const c1 = ok(repo, ['complete', 'understand_task', '--notes', 'read the request and the router']);
    assert.equal(nextLine(c1), 'NEXT: orchestrator complete initial_plan --notes "WHAT YOU DID"');
    // The plan does not exist yet: the verification fails and nothing changes.
    const beforeFail = snapshotTree(repo);
    const noPlan = run(repo, ['complete', 'initial_plan'], 1);
    assert.match(noPlan.stderr, /docs\/plan\.md does not exist/);
    assert.deepEqual(diffTrees(beforeFail, snapshotTree(repo)), []);
    mkdirSync(join(repo, 'docs'));
    writeFileSync(join(repo, 'docs', 'plan.md'), '# Plan\n\nAdd GET /greeting.\n');
    commit(repo, 'docs/plan.md', 'plan');
    const c2 = ok(repo, ['complete', 'initial_plan']);
    assert.match(c2.stdout, /Completed initial_plan \(docs\/plan\.md exists\)/);
    assert.equal(nextLine(c2), 'NEXT: orchestrator approve-item user_approval');
    const a1 = ok(repo, ['approve-item', 'user_approval', '--notes', 'approved by the user']);
    assert.equal(nextLine(a1), 'NEXT: orchestrator advance');
    s = json(repo, ['status']);
    assert.deepEqual(s.progress, { phase_done: 3, phase_total: 3, done: 3, total: 12 });
    assert.deepEqual(s.blockers, []);

    const adv1 = json(repo, ['advance']);
    assert.equal(adv1.from, 'PLAN');
    assert.equal(adv1.to, 'EXECUTE');
    assert.equal(adv1.status.phase.number, 2);

    // EXECUTE: write_tests is a documented step (50+ chars), update_docs optional and left pending.
    ok(repo, ['skip', 'write_tests', '--reason', LONG_REASON]);
    const c3 = ok(repo, ['complete', 'implement']);
    assert.equal(nextLine(c3), 'NEXT: orchestrator advance');
    s = json(repo, ['status']);
    assert.deepEqual(s.progress, { phase_done: 2, phase_total: 3, done: 5, total: 12 });
    assert.equal(s.items.find((i: any) => i.id === 'update_docs').status, 'pending');
    assert.equal(s.items.find((i: any) => i.id === 'write_tests').skip_reason, LONG_REASON);
    ok(repo, ['advance']);

    // REVIEW
    ok(repo, ['complete', 'self_review']);
    ok(repo, ['skip', 'second_opinion', '--reason', 'no reviewer available today']);
    ok(repo, ['advance']);

    // VERIFY: the command item runs the (overridden) test command without a shell.
    s = json(repo, ['status']);
    assert.equal(s.phase.id, 'VERIFY');
    assert.equal(s.next.command, 'orchestrator complete run_tests --notes "WHAT YOU DID"');
    const rt = json(repo, ['complete', 'run_tests']);
    assert.equal(rt.verification_result.type, 'command');
    assert.equal(rt.verification_result.passed, true);
    assert.equal(rt.verification_result.exit_code, 0);
    assert.deepEqual(rt.verification_result.command, [process.execPath, '-e', 'process.exit(0)']);
    ok(repo, ['complete', 'check_acceptance']);
    ok(repo, ['advance']);

    // LEARN: propose_improvements is optional and stays pending.
    const c4 = ok(repo, ['complete', 'record_learnings']);
    assert.equal(nextLine(c4), 'NEXT: orchestrator finish');
    s = json(repo, ['status']);
    assert.deepEqual(s.phase, { id: 'LEARN', name: 'Learn', number: 5, count: 5 });
    assert.deepEqual(s.progress, { phase_done: 1, phase_total: 2, done: 10, total: 12 });
    assert.equal(s.next.command, 'orchestrator finish');
    // A finished LEARN has no next phase.
    const lastAdv = run(repo, ['advance'], 3);
    assert.match(lastAdv.stderr, /last phase.*orchestrator finish/);

    const fin = ok(repo, ['finish']);
    assert.match(fin.stdout, /Completed workflow "Add a greeting endpoint"/);
    assert.equal(nextLine(fin), 'NEXT: orchestrator start "NEXT TASK"');
    s = json(repo, ['status']);
    assert.equal(s.status, 'completed');

    // The log: Python event names, in order, in the Python line shape.
    const events = logEvents(sdir);
    assert.deepEqual(
      events.map((e) => [e.event_type, e.phase_id, e.item_id]),
      [
        ['workflow_started', null, null],
        ['phase_started', 'PLAN', null],
        ['item_completed', 'PLAN', 'understand_task'],
        ['verification_passed', 'PLAN', 'initial_plan'],
        ['item_completed', 'PLAN', 'initial_plan'],
        ['item_completed', 'PLAN', 'user_approval'],
        ['phase_completed', 'PLAN', null],
        ['phase_started', 'EXECUTE', null],
        ['item_skipped', 'EXECUTE', 'write_tests'],
        ['item_completed', 'EXECUTE', 'implement'],
        ['phase_completed', 'EXECUTE', null],
        ['phase_started', 'REVIEW', null],
        ['item_completed', 'REVIEW', 'self_review'],
        ['item_skipped', 'REVIEW', 'second_opinion'],
        ['phase_completed', 'REVIEW', null],
        ['phase_started', 'VERIFY', null],
        ['verification_passed', 'VERIFY', 'run_tests'],
        ['item_completed', 'VERIFY', 'run_tests'],
        ['item_completed', 'VERIFY', 'check_acceptance'],
        ['phase_completed', 'VERIFY', null],
        ['phase_started', 'LEARN', null],
        ['item_completed', 'LEARN', 'record_learnings'],
        ['phase_completed', 'LEARN', null],
        ['workflow_completed', null, null],
      ],
    );
    const wfId = state(sdir).workflow_id;
    for (const e of events) {
      assert.deepEqual(Object.keys(e).sort(), ['actor', 'details', 'event_type', 'item_id', 'message', 'phase_id', 'timestamp', 'workflow_id']);
      assert.equal(e.workflow_id, wfId);
      assert.ok(!Number.isNaN(Date.parse(e.timestamp)), e.timestamp);
    }
    const logOut = json(repo, ['log', '-n', '3']);
    assert.deepEqual(logOut.events.map((e: any) => e.event_type), ['item_completed', 'phase_completed', 'workflow_completed']);

    // The state: Python field names plus the three seals, checksum verifiable independently.
    const st = state(sdir);
    assert.equal(st._version, '3.0');
    assert.ok(!Number.isNaN(Date.parse(st._updated_at)), String(st._updated_at));
    assert.match(st._checksum, /^[0-9a-f]{32}$/);
    assert.equal(st.status, 'completed');
    assert.equal(st.task_description, 'Add a greeting endpoint');
    assert.equal(st.current_phase_id, 'LEARN');
    assert.equal(st.phases.PLAN.items.understand_task.notes, 'read the request and the router');
    assert.equal(st.phases.PLAN.items.user_approval.notes, 'approved by the user');
    assert.equal(st.phases.EXECUTE.items.write_tests.status, 'skipped');
    assert.equal(st.phases.EXECUTE.items.write_tests.skip_reason, LONG_REASON);
    assert.equal(st.phases.EXECUTE.items.update_docs.status, 'pending');
    assert.equal(st.phases.VERIFY.items.run_tests.verification_result.exit_code, 0);
    for (const p of ['PLAN', 'EXECUTE', 'REVIEW', 'VERIFY', 'LEARN']) assert.equal(st.phases[p].status, 'completed', p);
    const py = pythonChecksum(join(sdir, 'state.json'));
    if (py === null) t.diagnostic('python3 not available: checksum not cross-checked');
    else assert.equal(st._checksum, py);
    ok(repo, ['doctor']);

    // git sees only the committable workflow.yaml.
    assert.deepEqual(porcelain(repo), ['?? workflow.yaml']);
    assert.deepEqual(porcelain(repo, true), ['?? workflow.yaml']);

    // .orchestrator/ holds exactly the CONTRACT §1 layout.
    const tree = snapshotTree(join(repo, '.orchestrator'));
    assert.deepEqual(
      [...tree.keys()].sort(),
      [
        '.gitignore',
        // every state change, hash-chained
        'audit.jsonl',
        'cache/',
        `cache/state-${sid}.verified`,
        'current',
        // finish captured the workflow's feedback.
        'feedback/',
        'feedback/process.jsonl',
        'feedback/tool.jsonl',
        'locks/',
        'meta.json',
        'sessions/',
        `sessions/${sid}/`,
        `sessions/${sid}/log.jsonl`,
        `sessions/${sid}/meta.json`,
        `sessions/${sid}/state.json`,
      ].sort(),
    );
    assert.equal(readFileSync(join(repo, '.orchestrator', '.gitignore'), 'utf8'), '*\n');
    assert.match(sid, /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'current has no newline or other whitespace');
    const meta = readJson(join(repo, '.orchestrator', 'meta.json'));
    assert.match(meta.repo_id, /^r_[0-9a-f]+$/);
    assert.equal(meta.layout, 'contained-v1');
    assert.ok(!Number.isNaN(Date.parse(meta.created_at)));
    assert.match(meta.created_with, /^orchestrator /);
    assert.equal(meta.root_commit, git(repo, ['rev-list', '--max-parents=0', 'HEAD']).trim());
    const smeta = readJson(join(sdir, 'meta.json'));
    assert.equal(smeta.session_id, sid);
    assert.ok(typeof smeta.created_at === 'string' && typeof smeta.repo_root === 'string' && 'environment' in smeta);

    // Nothing outside .orchestrator/ was written except workflow.yaml (docs/ is the test's own).
    const outside = changedPaths(before, snapshotTree(repo)).filter((p) => !p.startsWith('.orchestrator/'));
    assert.deepEqual(outside.sort(), ['docs/', 'docs/plan.md', 'workflow.yaml']);
  });
});

// ---- init and start ----------------------------------------------------------------------------------

describe('init and start', () => {
  test('start works without init: bundled default, no workflow.yaml written', () => {
    const repo = makeRepo();
    const r = ok(repo, ['start', 'Fix the typo']);
    assert.match(r.stdout, /with \(bundled default\)/);
    assert.ok(!existsSync(join(repo, 'workflow.yaml')));
    const st = state(sessionDir(repo));
    assert.equal(st.metadata.workflow_yaml_path, '(bundled default)');
    assert.equal(st.current_phase_id, 'PLAN');
    assert.equal(readFileSync(join(repo, '.orchestrator', '.gitignore'), 'utf8'), '*\n');
    assert.deepEqual(porcelain(repo, true), []);
  });

  test('init keeps an existing workflow.yaml unless --force', () => {
    const repo = makeRepo();
    const mine = 'name: Mine\nphases:\n  - id: ONLY\n    name: Only\n    items:\n      - id: one\n        name: One\n';
    writeFileSync(join(repo, 'workflow.yaml'), mine);
    const r = ok(repo, ['init']);
    assert.match(r.stderr, /workflow\.yaml exists; kept it.*--force/);
    assert.equal(readFileSync(join(repo, 'workflow.yaml'), 'utf8'), mine);
    const again = json(repo, ['init']);
    assert.equal(again.wrote_workflow, false);
    assert.equal(readFileSync(join(repo, 'workflow.yaml'), 'utf8'), mine);
    const forced = json(repo, ['init', '--force']);
    assert.equal(forced.wrote_workflow, true);
    assert.equal(readFileSync(join(repo, 'workflow.yaml'), 'utf8'), DEFAULT_WORKFLOW_YAML);
  });

  test('init --portable leaves state committable; secrets, cache, locks, backups stay ignored', () => {
    const repo = makeRepo();
    ok(repo, ['init', '--portable']);
    const ignore = readFileSync(join(repo, '.orchestrator', '.gitignore'), 'utf8');
    assert.ok(!/^\*$/m.test(ignore), 'portable .gitignore must not ignore everything');
    ok(repo, ['start', 'Portable task']);
    const sid = readFileSync(join(repo, '.orchestrator', 'current'), 'utf8');
    for (const d of ['secrets', 'cache', 'locks', 'backups']) {
      mkdirSync(join(repo, '.orchestrator', d), { recursive: true });
      writeFileSync(join(repo, '.orchestrator', d, 'x.txt'), 'machine-local\n');
    }
    const listed = porcelain(repo, true).map((l) => l.slice(3));
    for (const p of ['.orchestrator/.gitignore', '.orchestrator/meta.json', '.orchestrator/current', `.orchestrator/sessions/${sid}/state.json`, `.orchestrator/sessions/${sid}/log.jsonl`, `.orchestrator/sessions/${sid}/meta.json`]) {
      assert.ok(listed.includes(p), `${p} should be committable; git lists ${listed.join(', ')}`);
    }
    for (const d of ['secrets', 'cache', 'locks', 'backups']) {
      assert.ok(!listed.some((p) => p.startsWith(`.orchestrator/${d}/`)), `${d}/ must stay ignored`);
    }
  });
});

// ---- verifications ---------------------------------------------------------------------------------

function writeWorkflow(repo: string, items: string): void {
  writeFileSync(join(repo, 'workflow.yaml'), `name: Checks\nversion: "1.0"\nphases:\n  - id: CHECK\n    name: Check\n    items:\n${items}`);
}

describe('command verifications', () => {
  test('a failing command: exit 1, output tail on stderr, no byte changed', () => {
    const repo = makeRepo();
    writeWorkflow(
      repo,
      `      - id: failing\n        name: Failing\n        verification:\n          type: command\n          command: ${yq(nodeCmd('console.log("boom-out-123"); process.exit(3)'))}\n`,
    );
    ok(repo, ['start', 'Check a failure']);
    const before = snapshotTree(repo);
    const r = run(repo, ['complete', 'failing'], 1);
    assert.match(r.stderr, /orchestrator: error: verification of failing failed: .* exited 3 \(expected 0\)/);
    assert.match(r.stderr, /boom-out-123/);
    assert.equal(r.stdout, '');
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
    // --json carries the same result for an agent.
    const j = json(repo, ['complete', 'failing'], 1);
    assert.equal(j.ok, false);
    assert.equal(j.error.code, 'VERIFICATION_FAILED');
    assert.equal(j.error.verification_result.exit_code, 3);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
  });

  test('a passing command records exit_code and output_tail', () => {
    const repo = makeRepo();
    writeWorkflow(
      repo,
      `      - id: passing\n        name: Passing\n        verification:\n          type: command\n          command: ${yq(nodeCmd('console.log("fine-out-456")'))}\n`,
    );
    ok(repo, ['start', 'Check a pass']);
    ok(repo, ['complete', 'passing']);
    const st = state(sessionDir(repo));
    const vr = st.phases.CHECK.items.passing.verification_result;
    assert.equal(vr.passed, true);
    assert.equal(vr.exit_code, 0);
    assert.match(vr.output_tail, /fine-out-456/);
    const ev = logEvents(sessionDir(repo)).find((e) => e.event_type === 'verification_passed');
    assert.equal(ev.item_id, 'passing');
    assert.equal(ev.details.exit_code, 0);
  });

  test('a command past its timeout fails with exit 1 within seconds', () => {
    const repo = makeRepo();
    writeWorkflow(
      repo,
      `      - id: slow\n        name: Slow\n        verification:\n          type: command\n          command: ${yq(nodeCmd('setTimeout(()=>{},60000)'))}\n          timeout: 1\n`,
    );
    ok(repo, ['start', 'Check a timeout']);
    const before = snapshotTree(repo);
    const t0 = Date.now();
    const r = run(repo, ['complete', 'slow'], 1, { timeoutMs: 30_000 });
    const took = Date.now() - t0;
    assert.ok(took < 10_000, `took ${took} ms`);
    assert.match(r.stderr, /timed out/);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
  });
});

// ---- item rules ----------------------------------------------------------------------------------

const RULES_YAML = `name: Rules
version: "1.0"
phases:
  - id: ONE
    name: One
    items:
      - id: gate_step
        name: A skippable gate
        step_type: gate
      - id: flex
        name: Flexible and optional
        required: false
      - id: extra
        name: Optional, left pending
        required: false
      - id: fixed
        name: Not skippable
        skippable: false
      - id: doc
        name: Documented
        step_type: documented
      - id: signoff
        name: Sign-off
        verification:
          type: manual_gate
  - id: TWO
    name: Two
    items:
      - id: later
        name: Later
`;

function rulesRepo(): string {
  const repo = makeRepo();
  writeFileSync(join(repo, 'workflow.yaml'), RULES_YAML);
  ok(repo, ['start', 'Exercise the rules']);
  return repo;
}

describe('item rules', () => {
  test('manual gate: complete refuses (3), approve-item works; approve-item on a non-gate refuses (2)', () => {
    const repo = makeRepo();
    ok(repo, ['start', 'Gate check']);
    const before = snapshotTree(repo);
    const c = run(repo, ['complete', 'user_approval'], 3);
    assert.match(c.stderr, /manual gate.*orchestrator approve-item user_approval/);
    const a = run(repo, ['approve-item', 'understand_task'], 2);
    assert.match(a.stderr, /not a manual gate.*orchestrator complete understand_task/);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
    ok(repo, ['approve-item', 'user_approval']);
    const item = state(sessionDir(repo)).phases.PLAN.items.user_approval;
    assert.equal(item.status, 'completed');
    const ev = logEvents(sessionDir(repo)).at(-1);
    assert.equal(ev.event_type, 'item_completed');
    assert.equal(ev.item_id, 'user_approval');
    assert.equal(ev.details.approved, true);
    // Approving twice is a conflict, not a second event.
    run(repo, ['approve-item', 'user_approval'], 3);
  });

  test('skip rules: not skippable, short reasons, gate steps need --force and 50+ chars', () => {
    const repo = rulesRepo();
    const before = snapshotTree(repo);
    const refusals: [string[], RegExp][] = [
      [['skip', 'fixed', '--reason', LONG_REASON], /"fixed" is required and cannot be skipped/],
      [['skip', 'flex', '--reason', 'too short'], /at least 10 characters, got 9/],
      [['skip', 'doc', '--reason', 'twenty characters ok'], /at least 50 characters/],
      [['skip', 'gate_step', '--reason', LONG_REASON], /gate step.*--force/],
      [['skip', 'gate_step', '--reason', 'forced but far too short', '--force'], /at least 50 characters/],
    ];
    for (const [args, why] of refusals) {
      const r = run(repo, args, 2);
      assert.match(r.stderr, why, args.join(' '));
    }
    // The default workflow: a required step and a non-skippable gate.
    const dflt = makeRepo();
    ok(dflt, ['start', 'Defaults']);
    run(dflt, ['skip', 'initial_plan', '--reason', LONG_REASON], 2);
    run(dflt, ['skip', 'user_approval', '--reason', LONG_REASON, '--force'], 2);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);

    ok(repo, ['skip', 'flex', '--reason', 'ten chars!']);
    ok(repo, ['skip', 'doc', '--reason', LONG_REASON]);
    ok(repo, ['skip', 'gate_step', '--reason', LONG_REASON, '--force']);
    const st = state(sessionDir(repo));
    assert.equal(st.phases.ONE.items.gate_step.status, 'skipped');
    assert.equal(st.phases.ONE.items.flex.skip_reason, 'ten chars!');
    const forced = logEvents(sessionDir(repo)).filter((e) => e.event_type === 'item_skipped');
    assert.deepEqual(forced.map((e) => [e.item_id, e.details.force_skipped]), [['flex', false], ['doc', false], ['gate_step', true]]);
  });

  test('advance with a required item open exits 3 naming it; optional items may stay pending', () => {
    const repo = rulesRepo();
    const before = snapshotTree(repo);
    const r = run(repo, ['advance'], 3);
    assert.match(r.stderr, /cannot advance: phase ONE still needs gate_step, fixed, doc, signoff/);
    assert.doesNotMatch(r.stderr, /flex|extra/);
    const j = json(repo, ['advance'], 3);
    assert.equal(j.error.code, 'PHASE_INCOMPLETE');
    assert.deepEqual(j.error.blockers.map((b: any) => b.item), ['gate_step', 'fixed', 'doc', 'signoff']);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);

    ok(repo, ['complete', 'gate_step']);
    ok(repo, ['complete', 'fixed']);
    ok(repo, ['complete', 'doc']);
    const still = run(repo, ['advance'], 3);
    assert.match(still.stderr, /still needs signoff;/);
    ok(repo, ['approve-item', 'signoff']);
    const adv = json(repo, ['advance']);
    assert.equal(adv.to, 'TWO');
    const st = state(sessionDir(repo));
    assert.equal(st.phases.ONE.items.flex.status, 'pending');
    assert.equal(st.phases.ONE.items.extra.status, 'pending');
    assert.equal(st.phases.ONE.status, 'completed');
  });

  test('finish before the last phase exits 3; finish --abandon works any time', () => {
    const repo = rulesRepo();
    for (const id of ['gate_step', 'fixed', 'doc']) ok(repo, ['complete', id]);
    ok(repo, ['approve-item', 'signoff']);
    const before = snapshotTree(repo);
    const r = run(repo, ['finish'], 3);
    assert.match(r.stderr, /cannot finish in phase ONE: TWO is the last phase; move on with: orchestrator advance/);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);

    const ab = json(repo, ['finish', '--abandon', '--reason', 'the requirement was dropped']);
    assert.equal(ab.status.status, 'abandoned');
    const last = logEvents(sessionDir(repo)).at(-1);
    assert.equal(last.event_type, 'workflow_abandoned');
    assert.equal(last.phase_id, 'ONE');
    assert.equal(last.details.reason, 'the requirement was dropped');
    assert.equal(state(sessionDir(repo)).status, 'abandoned');
    // Nothing more happens to an abandoned workflow; a new one can start.
    run(repo, ['complete', 'later'], 3);
    run(repo, ['finish', '--abandon'], 3);
    ok(repo, ['start', 'The next task']);

    // Abandon straight after start, too.
    const fresh = makeRepo();
    ok(fresh, ['start', 'Abandon me']);
    ok(fresh, ['finish', '--abandon']);
    assert.deepEqual(logEvents(sessionDir(fresh)).map((e) => e.event_type), ['workflow_started', 'phase_started', 'workflow_abandoned']);
  });
});

// ---- the Python tool's v3 layout -----------------------------------------------------------------

describe('Python v3 session layout', () => {
  test('read as is, byte for byte; then written in the Python-compatible way', (t) => {
    const repo = repoFromFixture('v3-sessions');
    const before = snapshotTree(repo);

    const st = ok(repo, ['status']);
    assert.match(st.stdout, /^Task: +Add user authentication$/m);
    assert.match(st.stdout, /^Phase: +PLAN\b/m);
    assert.match(st.stdout, /3 of 9 items done or skipped/);
    const j = json(repo, ['status']);
    assert.equal(j.ok, true);
    assert.equal(j.task, 'Add user authentication');
    assert.equal(j.phase.id, 'PLAN');
    assert.equal(j.progress.phase_done, 3);
    assert.equal(j.progress.phase_total, 9);
    assert.deepEqual(j.items.filter((i: any) => i.status === 'completed' || i.status === 'skipped').length, 3);
    const doc = ok(repo, ['doctor']);
    assert.match(doc.stdout, /checksum verified/);
    ok(repo, ['log']);
    ok(repo, ['session', 'list']);
    ok(repo, ['session', 'show']);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), [], 'reading changed files');
    // Refused writes change nothing either (the Python layout has no locks/ to create).
    run(repo, ['advance'], 3);
    run(repo, ['complete', 'user_approval'], 3);
    run(repo, ['skip', 'initial_plan', '--reason', LONG_REASON], 2);
    run(repo, ['start', 'Another task'], 3);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), [], 'a refused command changed files');

    const sdir = sessionDir(repo);
    const old = state(sdir);
    ok(repo, ['complete', 'plan_validation', '--notes', 'validated']);
    const after = state(sdir);
    assert.equal(after.phases.PLAN.items.plan_validation.status, 'completed');
    for (const k of Object.keys(old)) assert.ok(k in after, `field ${k} was dropped`);
    assert.equal(after.workflow_id, old.workflow_id);
    assert.equal(after._version, '3.0');
    const j2 = json(repo, ['status']);
    assert.equal(j2.progress.phase_done, 4);
    ok(repo, ['doctor']);
    const lastEvent = logEvents(sdir).at(-1);
    assert.equal(lastEvent.event_type, 'item_completed');
    assert.equal(lastEvent.item_id, 'plan_validation');

    const py = pythonChecksum(join(sdir, 'state.json'));
    if (py === null) {
      t.skip('python3 not available: checksum not recomputed independently');
      return;
    }
    assert.equal(after._checksum, py);
    // The fixture's own checksum was written by Python: the same recipe reproduces it.
    assert.equal(old._checksum, pythonChecksum(join(repoFromFixture('v3-sessions'), '.orchestrator', 'sessions', '505a6972', 'state.json')));
  });
});

// ---- sessions ------------------------------------------------------------------------------------

describe('sessions', () => {
  test('new, list, switch, show, end, --session and ORCHESTRATOR_SESSION; no interference', () => {
    const repo = makeRepo();
    const a = json(repo, ['start', 'First task']).started.session_id;
    const before = snapshotTree(repo);
    const busy = run(repo, ['start', 'Second task'], 3);
    assert.match(busy.stderr, new RegExp(`session ${a} already runs "First task"`));
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);

    const b = json(repo, ['session', 'new']).current;
    assert.notEqual(b, a);
    assert.equal(readFileSync(join(repo, '.orchestrator', 'current'), 'utf8'), b);
    let list = json(repo, ['session', 'list']);
    assert.equal(list.current, b);
    assert.deepEqual(
      list.sessions.map((s: any) => [s.session_id, s.current, s.task]).sort(),
      [[a, false, 'First task'], [b, true, null]].sort(),
    );
    // start uses the empty current session.
    assert.equal(json(repo, ['start', 'Second task']).started.session_id, b);

    // Work in B does not touch A.
    const aState = readFileSync(join(repo, '.orchestrator', 'sessions', a, 'state.json'));
    const aLog = readFileSync(join(repo, '.orchestrator', 'sessions', a, 'log.jsonl'));
    ok(repo, ['complete', 'understand_task']);
    assert.deepEqual(readFileSync(join(repo, '.orchestrator', 'sessions', a, 'state.json')), aState);
    assert.deepEqual(readFileSync(join(repo, '.orchestrator', 'sessions', a, 'log.jsonl')), aLog);
    assert.equal(json(repo, ['status', '--session', a]).progress.done, 0);
    assert.equal(json(repo, ['status']).progress.done, 1);

    // --session and ORCHESTRATOR_SESSION act on A without changing `current`.
    const bState = readFileSync(join(repo, '.orchestrator', 'sessions', b, 'state.json'));
    ok(repo, ['complete', 'understand_task', '--session', a]);
    mkdirSync(join(repo, 'docs'));
    writeFileSync(join(repo, 'docs', 'plan.md'), 'plan\n');
    ok(repo, ['complete', 'initial_plan'], { env: { ORCHESTRATOR_SESSION: a } });
    assert.deepEqual(readFileSync(join(repo, '.orchestrator', 'sessions', b, 'state.json')), bState);
    assert.equal(readFileSync(join(repo, '.orchestrator', 'current'), 'utf8'), b);
    assert.equal(json(repo, ['status', '--session', a]).progress.done, 2);
    assert.equal(json(repo, ['status'], 0, { env: { ORCHESTRATOR_SESSION: a } }).session_id, a);
    // The flag wins over the environment.
    assert.equal(json(repo, ['status', '--session', b], 0, { env: { ORCHESTRATOR_SESSION: a } }).session_id, b);
    assert.equal(json(repo, ['status']).progress.done, 1);

    // switch and show
    ok(repo, ['session', 'switch', a]);
    assert.equal(readFileSync(join(repo, '.orchestrator', 'current'), 'utf8'), a);
    let show = json(repo, ['session', 'show']);
    assert.equal(show.session.session_id, a);
    assert.equal(show.session.current, true);
    assert.equal(show.status.task, 'First task');
    show = json(repo, ['session', 'show', b]);
    assert.equal(show.session.current, false);
    assert.equal(show.session.task, 'Second task');
    assert.equal(show.meta.session_id, b);
    list = json(repo, ['session', 'list']);
    assert.deepEqual(list.sessions.filter((s: any) => s.current).map((s: any) => s.session_id), [a]);

    // end: no current session; both stay on disk and reachable by id.
    const ended = ok(repo, ['session', 'end']);
    assert.match(ended.stderr, /still active/);
    assert.ok(!existsSync(join(repo, '.orchestrator', 'current')));
    const none = run(repo, ['status'], 2);
    assert.match(none.stderr, /orchestrator start/);
    assert.equal(json(repo, ['status', '--session', a]).task, 'First task');
    assert.equal(json(repo, ['session', 'list']).current, null);
    // A new start with no current session gets a session of its own.
    const c = json(repo, ['start', 'Third task']).started.session_id;
    assert.ok(c !== a && c !== b);
    assert.deepEqual(readdirSync(join(repo, '.orchestrator', 'sessions')).sort(), [a, b, c].sort());
  });
});

// ---- repo root -----------------------------------------------------------------------------------

describe('repo root', () => {
  test('found from a subdirectory; --root and ORCHESTRATOR_ROOT override', () => {
    const repo = makeRepo();
    const deep = join(repo, 'src', 'deep');
    mkdirSync(deep, { recursive: true });
    const sid = json(deep, ['start', 'From below']).started.session_id;
    assert.ok(existsSync(join(repo, '.orchestrator', 'sessions', sid, 'state.json')));
    assert.ok(!existsSync(join(deep, '.orchestrator')));
    assert.ok(!existsSync(join(repo, 'src', '.orchestrator')));
    assert.equal(json(deep, ['status']).session_id, sid);

    const elsewhere = tempDir('orch-elsewhere-');
    const viaFlag = json(elsewhere, ['status', '--root', repo]);
    assert.equal(viaFlag.session_id, sid);
    const viaEnv = json(elsewhere, ['status'], 0, { env: { ORCHESTRATOR_ROOT: repo } });
    assert.equal(viaEnv.session_id, sid);
    ok(elsewhere, ['complete', 'understand_task', '--root', repo]);
    assert.deepEqual(readdirSync(elsewhere), []);

    // The override wins over the directory the command runs in.
    const other = makeRepo();
    ok(other, ['start', 'Other repo']);
    assert.equal(json(deep, ['status'], 0, { env: { ORCHESTRATOR_ROOT: other } }).task, 'Other repo');
    assert.equal(json(other, ['status', '--root', repo]).task, 'From below');
    // A root that does not exist is bad input.
    const missing = run(elsewhere, ['status', '--root', join(elsewhere, 'nope')], 2);
    assert.match(missing.stderr, /not a directory \(from --root\)/);
  });
});
