// Feedback (issue 7): `finish` captures process and tool feedback, `feedback capture` does it by
// hand, `feedback review` finds patterns across workflows and sessions. Driven through the built CLI.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  diffTrees,
  expectCode,
  FIXTURES,
  git,
  makeRepo,
  ok,
  readJson,
  refuses,
  repoFromFixture,
  runCli,
  sessionDir,
  snapshotTree,
  type CliOptions,
} from './helpers/cli.ts';

function json(cwd: string, args: string[], code = 0, opts: CliOptions = {}): any {
  return JSON.parse(expectCode(runCli(cwd, [...args, '--json'], opts), code, `orchestrator ${args.join(' ')} --json`).stdout);
}

function lines(path: string): any[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

const processFile = (repo: string) => join(repo, '.orchestrator', 'feedback', 'process.jsonl');
const toolFile = (repo: string) => join(repo, '.orchestrator', 'feedback', 'tool.jsonl');

/** A command verification that passes once the file `ready` exists in the repo. */
const CHECK = `node -e "process.exit(require('fs').existsSync('ready') ? 0 : 3)"`;

function writeWorkflow(repo: string, m = { name: 'Checks', phase: 'BUILD', item: 'extra_step', file: 'notes.md' }): void {
  writeFileSync(
    join(repo, 'workflow.yaml'),
    [
      `name: "${m.name}"`,
      'version: "1.0"',
      'phases:',
      '  - id: PLAN',
      '    name: Plan',
      '    items:',
      '      - id: understand_task',
      '        name: Understand',
      '      - id: write_notes',
      '        name: Notes',
      '        verification:',
      '          type: file_exists',
      `          path: ${m.file}`,
      '      - id: update_docs',
      '        name: Docs',
      '        step_type: flexible',
      `  - id: ${m.phase}`,
      '    name: Build',
      '    items:',
      `      - id: ${m.item}`,
      '        name: Extra',
      '        step_type: flexible',
      '      - id: run_tests',
      '        name: Tests',
      '        verification:',
      '          type: command',
      `          command: ${JSON.stringify(CHECK)}`,
      '',
    ].join('\n'),
  );
}

/**
 * Appends a verification_failed event to the session log as the Python tool writes one (a real
 * line from the v2 fixture, addressed to this workflow): this tool's own failed `complete` changes
 * no file (CONTRACT §5), so only a log written by the Python tool, in the same repo, holds one.
 */
function pythonFailure(repo: string, item: string, phase: string, exitCode: number, stderr = 'npm error code ENOENT\n'): void {
  const fixtureLine = readFileSync(join(FIXTURES, 'v2-root', '.workflow_log.jsonl'), 'utf8')
    .split('\n')
    .find((l) => l.includes('"verification_failed"'))!;
  const e = JSON.parse(fixtureLine);
  const dir = sessionDir(repo);
  e.workflow_id = readJson(join(dir, 'state.json')).workflow_id;
  e.phase_id = phase;
  e.item_id = item;
  e.timestamp = new Date().toISOString();
  e.details.exit_code = exitCode;
  e.details.stderr = stderr;
  appendFileSync(join(dir, 'log.jsonl'), JSON.stringify(e) + '\n');
}

const REASON_DOCS = 'Docs unaffected: internal refactor only';
const REASON_EXTRA = 'Not needed for this change at all';

/** Runs the Checks workflow to its end: two skips, run_tests failing first (exit 3), then passing. */
function runChecksWorkflow(repo: string, task: string, opts: { pythonFailures?: number } = {}): void {
  ok(repo, ['start', task]);
  writeFileSync(join(repo, 'notes.md'), 'notes\n');
  ok(repo, ['complete', 'understand_task', '--notes', 'read the code']);
  ok(repo, ['complete', 'write_notes']);
  ok(repo, ['skip', 'update_docs', '--reason', REASON_DOCS]);
  ok(repo, ['advance']);
  ok(repo, ['skip', 'extra_step', '--reason', REASON_EXTRA]);
  expectCode(runCli(repo, ['complete', 'run_tests']), 1, 'run_tests before ready exists');
  for (let i = 0; i < (opts.pythonFailures ?? 0); i++) pythonFailure(repo, 'run_tests', 'BUILD', 254);
  writeFileSync(join(repo, 'ready'), '');
  ok(repo, ['complete', 'run_tests']);
}

describe('feedback capture', () => {
  test('finish appends one derived record to process.jsonl and one to tool.jsonl', () => {
    const repo = makeRepo();
    writeWorkflow(repo);
    runChecksWorkflow(repo, 'Add the export button');
    const sid = readFileSync(join(repo, '.orchestrator', 'current'), 'utf8');
    assert.equal(existsSync(processFile(repo)), false, 'nothing is captured before the workflow ends');
    const fin = ok(repo, ['finish']);
    assert.doesNotMatch(fin.stderr, /feedback/, 'auto capture is quiet');

    const [p, ...more] = lines(processFile(repo));
    assert.equal(more.length, 0);
    const st = readJson(join(sessionDir(repo), 'state.json'));
    assert.equal(p.schema, 'process/1');
    assert.equal(p.mode, 'auto');
    assert.equal(p.session_id, sid);
    assert.equal(p.workflow_id, st.workflow_id);
    assert.equal(p.workflow_name, 'Checks');
    assert.equal(p.task, 'Add the export button');
    assert.equal(p.status, 'completed');
    assert.equal(p.started_at, st.created_at);
    assert.equal(p.ended_at, st.completed_at);
    assert.equal(p.duration_seconds, Math.round((Date.parse(st.completed_at) - Date.parse(st.created_at)) / 1000));
    assert.deepEqual(Object.keys(p.phases), ['PLAN', 'BUILD']);
    assert.equal(p.phases.PLAN, Math.round((Date.parse(st.phases.PLAN.completed_at) - Date.parse(st.phases.PLAN.started_at)) / 1000));
    assert.equal(p.items_total, 5);
    assert.equal(p.items_completed, 3);
    assert.equal(p.items_skipped_count, 2);
    assert.deepEqual(p.items_skipped, ['update_docs', 'extra_step']);
    assert.deepEqual(p.skipped, [
      { phase: 'PLAN', item: 'update_docs', reason: REASON_DOCS, step_type: 'flexible', forced: false },
      { phase: 'BUILD', item: 'extra_step', reason: REASON_EXTRA, step_type: 'flexible', forced: false },
    ]);
    // The failed `complete run_tests` changed no file (CONTRACT §5), so no log or state holds it.
    assert.deepEqual(p.failed_verifications, []);
    assert.equal(p.retries, 0);

    const [t, ...moreTool] = lines(toolFile(repo));
    assert.equal(moreTool.length, 0);
    assert.equal(t.schema, 'tool/1');
    assert.equal(t.capture_id, p.capture_id);
    assert.equal(t.orchestrator_version, JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')).version);
    assert.equal(t.status, 'completed');
    assert.equal(t.workflow_source, 'custom');
    assert.equal(t.duration_seconds, p.duration_seconds);
    assert.equal(t.items_total, 5);
    assert.equal(t.items_skipped_count, 2);
    // Only ids the bundled default defines: PLAN and update_docs are, BUILD and extra_step are not.
    assert.deepEqual(Object.keys(t.phases), ['PLAN']);
    assert.deepEqual(t.items_skipped, ['update_docs']);
    assert.deepEqual(t.verification_types, { none: 3, file_exists: 1, command: 1, manual_gate: 0 });
    assert.equal(t.events.item_skipped, 2);
    assert.equal(t.events.verification_passed, 2);
  });

  test('failed verifications and retries come from the log: counts, last exit code, passed later', () => {
    const repo = makeRepo();
    writeWorkflow(repo);
    runChecksWorkflow(repo, 'Retry story', { pythonFailures: 2 });
    ok(repo, ['finish']);
    const [p] = lines(processFile(repo));
    assert.deepEqual(p.failed_verifications, [
      { phase: 'BUILD', item: 'run_tests', type: 'command', count: 2, last_exit_code: 254, timed_out: 0, passed_later: true },
    ]);
    assert.equal(p.retries, 2, 'two attempts came after a failed one');
    const [t] = lines(toolFile(repo));
    assert.equal(t.failed_verifications_count, 2);
    assert.equal(t.retries, 2);
    assert.deepEqual(t.exit_codes, { '254': 2 });
  });

  test('finish --abandon captures too; capturing again without a change writes nothing', () => {
    const repo = makeRepo();
    ok(repo, ['start', 'Abandoned task']);
    ok(repo, ['skip', 'understand_task', '--reason', 'Not applicable: the request is fully specified, nothing to clarify.']);
    const fin = json(repo, ['finish', '--abandon', '--reason', 'scope changed']);
    assert.equal(fin.ok, true, 'finish --json stays one document');
    const [p] = lines(processFile(repo));
    assert.equal(p.status, 'abandoned');
    const abandonedAt = lines(join(sessionDir(repo), 'log.jsonl')).find((e) => e.event_type === 'workflow_abandoned').timestamp;
    assert.equal(p.ended_at, abandonedAt);
    assert.deepEqual(p.phases, { PLAN: Math.round((Date.parse(abandonedAt) - Date.parse(p.started_at)) / 1000) });
    const [t] = lines(toolFile(repo));
    assert.equal(t.workflow_source, 'default', 'the bundled default workflow');
    assert.deepEqual(t.items_skipped, ['understand_task']);

    const before = snapshotTree(repo);
    const again = json(repo, ['feedback', 'capture']);
    assert.equal(again.outcome, 'unchanged');
    assert.deepEqual(again.written, []);
    assert.equal(again.process.capture_id, p.capture_id);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
    const text = ok(repo, ['feedback', 'capture']);
    assert.match(text.stdout, /already captured; nothing changed since, nothing written/);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
  });

  test('a capture cut short after the process line is completed by the next one', () => {
    const repo = makeRepo();
    ok(repo, ['start', 'Half captured']);
    const first = json(repo, ['feedback', 'capture']);
    assert.equal(first.outcome, 'captured');
    assert.deepEqual(first.written, ['.orchestrator/feedback/process.jsonl', '.orchestrator/feedback/tool.jsonl']);
    writeFileSync(toolFile(repo), '');
    const second = json(repo, ['feedback', 'capture']);
    assert.deepEqual(second.written, ['.orchestrator/feedback/tool.jsonl']);
    assert.equal(lines(processFile(repo)).length, 1);
    assert.equal(lines(toolFile(repo))[0].capture_id, first.tool.capture_id);
  });

  test('tool.jsonl carries no task text, notes, reasons, ids, file names, commands, paths or repo names', () => {
    const repo = makeRepo();
    git(repo, ['remote', 'add', 'origin', 'https://git.example.invalid/acme/zebrarepo.git']);
    const m = { name: 'QUOKKA flow', phase: 'WOMBATPHASE', item: 'platypus_item', file: 'axolotl-notes.md' };
    writeWorkflow(repo, m);
    const markers = ['MARMOSET task', 'NARWHAL note', 'PANGOLIN reason for skipping', 'OKAPI learned', 'TAPIR stderr', 'zebrarepo', 'acme', ...Object.values(m)];
    const reason = 'PANGOLIN reason for skipping';
    ok(repo, ['start', 'Fix the MARMOSET task']);
    writeFileSync(join(repo, m.file), 'x\n');
    ok(repo, ['complete', 'understand_task', '--notes', 'NARWHAL note and OKAPI learned']);
    ok(repo, ['complete', 'write_notes']);
    ok(repo, ['skip', 'update_docs', '--reason', reason]);
    ok(repo, ['advance']);
    ok(repo, ['skip', m.item, '--reason', reason]);
    pythonFailure(repo, 'run_tests', m.phase, 2, `TAPIR stderr in ${repo}\n`);
    writeFileSync(join(repo, 'ready'), '');
    ok(repo, ['complete', 'run_tests']);
    ok(repo, ['finish']);

    const process = readFileSync(processFile(repo), 'utf8');
    for (const s of ['MARMOSET task', 'PANGOLIN reason', m.item, m.phase]) assert.ok(process.includes(s), `process.jsonl should hold ${s}`);
    const tool = readFileSync(toolFile(repo), 'utf8');
    for (const s of [...markers, repo, 'run_tests', 'node -e', 'ready']) {
      assert.ok(!tool.toLowerCase().includes(s.toLowerCase()), `tool.jsonl leaks ${JSON.stringify(s)}:\n${tool}`);
    }
    // What it does hold: numbers and enums.
    const [t] = lines(toolFile(repo));
    assert.equal(t.items_skipped_count, 2);
    assert.equal(t.failed_verifications_count, 1);
  });

  test('ORCHESTRATOR_SKIP_FEEDBACK=1: finish writes only what it writes anyway; capture is a no-op with a notice', () => {
    const env = { ORCHESTRATOR_SKIP_FEEDBACK: '1' };
    // The same story twice: with capture on, finish's changes are those with it off plus feedback/.
    const changesOfFinish = (opts: CliOptions): { repo: string; changed: string[] } => {
      const repo = makeRepo();
      ok(repo, ['start', 'No feedback please']);
      ok(repo, ['skip', 'understand_task', '--reason', 'Not applicable: the request is fully specified, nothing to clarify.']);
      const before = snapshotTree(repo);
      ok(repo, ['finish', '--abandon'], opts);
      const sid = readFileSync(join(repo, '.orchestrator', 'current'), 'utf8');
      return { repo, changed: diffTrees(before, snapshotTree(repo)).map((c) => c.replace(sid, 'SID')).sort() };
    };
    const off = changesOfFinish({ env });
    const on = changesOfFinish({});
    assert.ok(off.changed.includes('changed .orchestrator/sessions/SID/state.json'), off.changed.join('\n'));
    assert.deepEqual(
      on.changed.filter((c) => !c.includes('.orchestrator/feedback')),
      off.changed,
    );
    assert.deepEqual(
      on.changed.filter((c) => c.includes('.orchestrator/feedback')),
      ['added .orchestrator/feedback/', 'added .orchestrator/feedback/process.jsonl', 'added .orchestrator/feedback/tool.jsonl'],
    );
    const repo = off.repo;
    assert.equal(existsSync(join(repo, '.orchestrator', 'feedback')), false);

    const after = snapshotTree(repo);
    const r = ok(repo, ['feedback', 'capture'], { env });
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^orchestrator: ORCHESTRATOR_SKIP_FEEDBACK is set: feedback capture is off; nothing was written\n$/);
    const j = json(repo, ['feedback', 'capture'], 0, { env });
    assert.equal(j.outcome, 'disabled');
    assert.equal(j.process, null);
    assert.deepEqual(diffTrees(after, snapshotTree(repo)), []);
    // "0" means capture stays on.
    assert.equal(json(repo, ['feedback', 'capture'], 0, { env: { ORCHESTRATOR_SKIP_FEEDBACK: '0' } }).outcome, 'captured');
  });

  test('a failing capture never fails finish: one notice, the workflow is finished', () => {
    const repo = makeRepo();
    ok(repo, ['start', 'Blocked feedback dir']);
    mkdirSync(join(repo, '.orchestrator'), { recursive: true });
    writeFileSync(join(repo, '.orchestrator', 'feedback'), 'a file where the directory should be\n');
    const r = expectCode(runCli(repo, ['finish', '--abandon', '--json']), 0, 'finish --abandon --json');
    assert.equal(JSON.parse(r.stdout).ok, true);
    assert.match(r.stderr, /^orchestrator: feedback was not captured \(.*\); the workflow is finished all the same; capture it with: orchestrator feedback capture\n$/);
    assert.equal(readJson(join(sessionDir(repo), 'state.json')).status, 'abandoned');
  });

  test('bad input: no workflow, unknown session, extra argument; --auto without a workflow is nothing to do', () => {
    const repo = makeRepo();
    refuses(repo, ['feedback', 'capture'], 2, [/no workflow in this repo yet; start one with: orchestrator start/]);
    refuses(repo, ['feedback', 'capture', '--session', 'nosuch'], 2, [/no session "nosuch"/]);
    refuses(repo, ['feedback', 'capture', 'extra'], 2, [/usage: orchestrator feedback capture/]);
    const before = snapshotTree(repo);
    const r = ok(repo, ['feedback', 'capture', '--auto']);
    assert.equal(r.stdout + r.stderr, '');
    assert.equal(json(repo, ['feedback', 'capture', '--auto']).outcome, 'no_workflow');
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
  });

  test("legacy layout: the Python tool's own workflow is captured into its root feedback files", () => {
    const repo = repoFromFixture('v2-root');
    const env = { ORCHESTRATOR_LAYOUT: 'legacy' };
    const j = json(repo, ['feedback', 'capture'], 0, { env });
    assert.deepEqual(j.written, ['.workflow_process_feedback.jsonl', '.workflow_tool_feedback.jsonl']);
    const [p] = lines(join(repo, '.workflow_process_feedback.jsonl'));
    assert.equal(p.workflow_id, 'wf_94a0f102');
    assert.equal(p.session_id, 'legacy');
    assert.equal(p.items_total, 24);
    assert.deepEqual(p.items_skipped, ['refactoring_assessment', 'visual_regression_test', 'update_knowledge_base']);
    assert.equal(p.skipped[1].reason, 'CLI tool only - no visual UI components');
    // The log holds 9 workflows' events; only this one's count.
    assert.equal(lines(join(repo, '.workflow_tool_feedback.jsonl'))[0].events.workflow_started, 1);
    assert.equal(existsSync(join(repo, '.orchestrator', 'feedback')), false);
  });
});

describe('feedback review', () => {
  test('two workflows in two sessions: the item skipped most and the check failing most', () => {
    const repo = makeRepo();
    writeWorkflow(repo);
    runChecksWorkflow(repo, 'First task', { pythonFailures: 2 });
    ok(repo, ['finish']);
    const first = readFileSync(join(repo, '.orchestrator', 'current'), 'utf8');
    ok(repo, ['start', 'Second task']);
    const second = readFileSync(join(repo, '.orchestrator', 'current'), 'utf8');
    assert.notEqual(second, first, 'start opened a new session');
    writeFileSync(join(repo, 'notes.md'), 'notes\n');
    ok(repo, ['complete', 'understand_task']);
    pythonFailure(repo, 'write_notes', 'PLAN', 1);
    ok(repo, ['complete', 'write_notes']);
    ok(repo, ['skip', 'update_docs', '--reason', REASON_DOCS]);
    ok(repo, ['advance']);
    ok(repo, ['complete', 'extra_step']);
    pythonFailure(repo, 'run_tests', 'BUILD', 254);
    ok(repo, ['complete', 'run_tests']);
    ok(repo, ['finish']);

    const before = snapshotTree(repo);
    const r = json(repo, ['feedback', 'review']);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), [], 'review changes nothing');
    assert.equal(r.ok, true);
    assert.equal(r.workflows, 2);
    assert.deepEqual(r.by_status, { completed: 2 });
    assert.equal(r.retries, 4, 'run_tests twice in the first, write_notes and run_tests once each in the second');
    assert.equal(r.skipped_most[0].item, 'update_docs');
    assert.equal(r.skipped_most[0].workflows, 2);
    assert.equal(r.skipped_most[0].share, 1);
    assert.deepEqual(r.skipped_most[0].reasons, [{ reason: REASON_DOCS, count: 2 }]);
    assert.deepEqual(
      r.skipped_most.map((s: any) => [s.item, s.workflows]),
      [
        ['update_docs', 2],
        ['extra_step', 1],
      ],
    );
    assert.deepEqual(r.failing_most[0], { item: 'run_tests', type: 'command', failures: 3, workflows: 2, passed_later: 2, exit_codes: { '254': 2 } });
    assert.equal(r.failing_most[1].item, 'write_notes');
    assert.equal(r.failing_most[1].failures, 1);
    assert.equal(r.bad_lines, 0);

    const text = ok(repo, ['feedback', 'review']).stdout;
    assert.match(text, /^Feedback from 2 workflows \(2 completed\); average duration \d+s; 4 retries\./);
    assert.match(text, /Items skipped most:\n {2}ITEM +SKIPPED IN +TOP REASONS\n {2}update_docs +2 of 2 \(100%\) +"Docs unaffected: internal refactor only" \(2\)/);
    assert.match(text, /Checks failing most:\n {2}ITEM +FAILURES +WORKFLOWS +PASSED LATER +LAST EXIT CODES\n {2}run_tests +3 +2 +2 of 2 +254 \(x2\)/);
  });

  test('a workflow captured twice counts once, as last captured', () => {
    const repo = makeRepo();
    ok(repo, ['start', 'Twice']);
    ok(repo, ['feedback', 'capture']);
    ok(repo, ['skip', 'understand_task', '--reason', 'Not applicable: the request is fully specified, nothing to clarify.']);
    ok(repo, ['finish', '--abandon']);
    assert.equal(lines(processFile(repo)).length, 2);
    const r = json(repo, ['feedback', 'review']);
    assert.equal(r.workflows, 1);
    assert.deepEqual(r.by_status, { abandoned: 1 });
    assert.equal(r.skipped_most[0].item, 'understand_task');
  });

  test('corrupt lines are skipped and named; the report is still complete (exit 2)', () => {
    const repo = makeRepo();
    ok(repo, ['start', 'Corrupt neighbour']);
    ok(repo, ['skip', 'understand_task', '--reason', 'Not applicable: the request is fully specified, nothing to clarify.']);
    ok(repo, ['finish', '--abandon']);
    appendFileSync(processFile(repo), '{"schema":"process/1","workflow_id": tor\n42\n');
    const before = snapshotTree(repo);
    const r = expectCode(runCli(repo, ['feedback', 'review', '--json']), 2, 'review with corrupt lines');
    const j = JSON.parse(r.stdout);
    assert.equal(j.ok, false);
    assert.equal(j.workflows, 1);
    assert.equal(j.skipped_most[0].item, 'understand_task');
    assert.equal(j.bad_lines, 2);
    assert.deepEqual(j.sources.find((s: any) => s.file === '.orchestrator/feedback/process.jsonl').bad_lines, [2, 3]);
    assert.match(r.stderr, /^orchestrator: \.orchestrator\/feedback\/process\.jsonl: lines 2, 3 are not a JSON record and were skipped; fix or delete them/);
    const human = expectCode(runCli(repo, ['feedback', 'review']), 2, 'human review');
    assert.match(human.stdout, /Feedback from 1 workflow \(1 abandoned\)/);
    assert.match(human.stdout, /process\.jsonl \(1 record, 2 bad lines skipped\)/);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
    // Capturing next to a corrupt line still appends whole lines.
    ok(repo, ['start', 'After corruption']);
    ok(repo, ['finish', '--abandon']);
    assert.equal(json(repo, ['feedback', 'review'], 2).workflows, 2);
  });

  test("the Python tool's feedback files, migrated into feedback/, are reviewed with ours", () => {
    const repo = makeRepo();
    // Its first format (one combined file) and the two-file format, as the Python tool wrote them.
    writeFileSync(
      join(repo, '.workflow_feedback.jsonl'),
      JSON.stringify({ timestamp: '2026-01-10T10:00:00Z', workflow_id: 'wf_old1', task: 'Old task', items_skipped: ['visual_tests', 'update_docs'], duration_seconds: 600 }) + '\n',
    );
    writeFileSync(
      join(repo, '.workflow_tool_feedback.jsonl'),
      JSON.stringify({ timestamp: '2026-01-11T10:00:00Z', workflow_id_hash: '0123456789abcdef', orchestrator_version: '2.7.0', items_skipped: ['visual_tests'], duration_seconds: 1200, mode: 'auto' }) + '\n',
    );
    writeFileSync(
      join(repo, '.workflow_process_feedback.jsonl'),
      JSON.stringify({ timestamp: '2026-01-11T10:00:00Z', workflow_id: 'wf_old2', task: 'Old task 2', learnings: 'text only', mode: 'auto' }) + '\n',
    );
    ok(repo, ['migrate', '--yes']);
    assert.ok(existsSync(join(repo, '.orchestrator', 'feedback', 'workflow.jsonl')));
    ok(repo, ['start', 'New task']);
    ok(repo, ['skip', 'understand_task', '--reason', 'Not applicable: the request is fully specified, nothing to clarify.']);
    ok(repo, ['finish', '--abandon']);
    const r = json(repo, ['feedback', 'review']);
    // Ours, the combined line and the tool line describe workflows; the text-only process line does not.
    assert.equal(r.workflows, 3);
    assert.deepEqual(r.by_status, { unknown: 2, abandoned: 1 });
    assert.deepEqual(
      r.skipped_most.map((s: any) => [s.item, s.workflows]),
      [
        ['visual_tests', 2],
        ['understand_task', 1],
        ['update_docs', 1],
      ],
    );
    const files = r.sources.map((s: any) => [s.file, s.records, s.used]);
    assert.deepEqual(files, [
      ['.orchestrator/feedback/process.jsonl', 2, 1],
      ['.orchestrator/feedback/tool.jsonl', 2, 1],
      ['.orchestrator/feedback/workflow.jsonl', 1, 1],
    ]);
  });

  test('nothing captured yet: an empty report, exit 0', () => {
    const repo = makeRepo();
    const r = ok(repo, ['feedback', 'review']);
    assert.match(r.stdout, /^No workflow feedback yet: it is captured when a workflow ends \(orchestrator finish\), or with: orchestrator feedback capture\n$/);
    const j = json(repo, ['feedback', 'review']);
    assert.equal(j.workflows, 0);
    assert.deepEqual(j.sources, []);
    assert.equal(existsSync(join(repo, '.orchestrator')), false, 'review creates nothing');
  });
});
