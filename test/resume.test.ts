// `checkpoint` and `resume`: checkpoints in the Python tool's format, a resume that brings back
// exactly the checkpointed state and is itself undone by resuming the automatic checkpoint it
// writes first; the Python tool's own checkpoint files restore too.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import {
  diffTrees,
  expectCode,
  git,
  makeRepo,
  ok,
  readJson,
  refuses,
  repoFromFixture,
  runCli,
  sessionDir,
  snapshotTree,
  tempDir,
  type CliOptions,
} from './helpers/cli.ts';

const PYTHON_FIELDS = [
  'checkpoint_id',
  'workflow_id',
  'phase_id',
  'item_id',
  'timestamp',
  'message',
  'context_summary',
  'key_decisions',
  'file_manifest',
  'workflow_state_snapshot',
  'parent_checkpoint_id',
];
const LONG_REASON = 'Docs-only change: there is no behaviour here that a test could meaningfully pin down.';
const SEALS = ['_checksum', '_updated_at', '_version'];

function json(cwd: string, args: string[], opts: CliOptions = {}): any {
  return JSON.parse(ok(cwd, [...args, '--json'], opts).stdout);
}

function commitAll(repo: string, message: string, env: Record<string, string> = {}): void {
  git(repo, ['add', '-A', '--', '.', ':!.orchestrator']);
  const r = runGit(repo, ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '-m', message], env);
  assert.equal(r, 0, `git commit ${message}`);
}

function runGit(cwd: string, args: string[], env: Record<string, string>): number | null {
  return spawnSync('git', args, { cwd, env: { ...process.env, ...env }, stdio: 'ignore' }).status;
}

/** item id -> status, over every phase. */
function statuses(state: any): Record<string, string> {
  const out: Record<string, string> = {};
  for (const phase of Object.values<any>(state.phases)) for (const [id, it] of Object.entries<any>(phase.items)) out[id] = it.status;
  return out;
}

function withoutSeals(state: any): any {
  const copy = structuredClone(state);
  for (const k of SEALS) delete copy[k];
  return copy;
}

function checkpointFiles(dir: string): string[] {
  return readdirSync(join(dir, 'checkpoints')).filter((n) => n.endsWith('.json')).sort();
}

function logEvents(dir: string): any[] {
  return readFileSync(join(dir, 'log.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** The bundled default workflow, halfway: PLAN done, EXECUTE with write_tests skipped. */
function halfway(): { repo: string; dir: string } {
  const repo = makeRepo();
  ok(repo, ['start', 'Add a greeting endpoint']);
  ok(repo, ['complete', 'understand_task', '--notes', 'read the request and the router']);
  mkdirSync(join(repo, 'docs'));
  writeFileSync(join(repo, 'docs', 'plan.md'), '# Plan\n');
  ok(repo, ['complete', 'initial_plan']);
  ok(repo, ['approve-item', 'user_approval', '--notes', 'approved by the user']);
  ok(repo, ['advance']);
  ok(repo, ['skip', 'write_tests', '--reason', LONG_REASON]);
  return { repo, dir: sessionDir(repo) };
}

describe('checkpoint', () => {
  test('writes the Python format: its fields in order, the state snapshot, summary, decisions, id shape; logs checkpoint_created', () => {
    const { repo, dir } = halfway();
    const state = readJson(join(dir, 'state.json'));
    const out = json(repo, ['checkpoint', '-m', 'halfway through EXECUTE', '--decision', 'GET /greeting, no auth', '--decision', 'plain text body']);
    const id = out.checkpoint.id;
    const md5 = createHash('md5').update(state.workflow_id).digest('hex').slice(0, 4);
    assert.match(id, new RegExp(`^cp_\\d{8}_\\d{6}_\\d{6}_\\d{4}_${md5}$`));
    assert.deepEqual(checkpointFiles(dir), [`${id}.json`]);
    assert.equal(out.checkpoint.file, `.orchestrator/sessions/${basename(dir)}/checkpoints/${id}.json`);

    const cp = readJson(join(dir, 'checkpoints', `${id}.json`));
    assert.deepEqual(Object.keys(cp), PYTHON_FIELDS);
    assert.equal(cp.checkpoint_id, id);
    assert.equal(cp.workflow_id, state.workflow_id);
    assert.equal(cp.phase_id, 'EXECUTE');
    assert.equal(cp.item_id, null);
    assert.equal(cp.message, 'halfway through EXECUTE');
    assert.deepEqual(cp.key_decisions, ['GET /greeting, no auth', 'plain text body']);
    assert.equal(cp.context_summary, 'Task: Add a greeting endpoint; Current Phase: EXECUTE; Progress: 3/12 items completed, 1 skipped');
    assert.deepEqual(cp.workflow_state_snapshot, withoutSeals(state));
    assert.equal(cp.parent_checkpoint_id, null);
    assert.ok(!Number.isNaN(Date.parse(cp.timestamp)));
    // The id's date and time are the timestamp's, in UTC.
    const t = new Date(cp.timestamp).toISOString();
    assert.equal(id.slice(3, 18), `${t.slice(0, 4)}${t.slice(5, 7)}${t.slice(8, 10)}_${t.slice(11, 13)}${t.slice(14, 16)}${t.slice(17, 19)}`);

    const last = logEvents(dir).at(-1);
    assert.equal(last.event_type, 'checkpoint_created');
    assert.equal(last.details.checkpoint_id, id);
    assert.equal(last.details.auto, false);
    assert.deepEqual(readJson(join(dir, 'state.json')), state, 'checkpoint changes no state');

    // The next checkpoint chains to this one; checkpoints lists both.
    const second = json(repo, ['checkpoint']);
    assert.equal(second.checkpoint.parent_checkpoint_id, id);
    assert.equal(second.checkpoint.message, null);
    const listed = json(repo, ['checkpoints']).checkpoints.map((c: any) => c.id);
    assert.deepEqual(listed, [id, second.checkpoint.id]);
  });

  test('file_manifest: committed, staged, modified and untracked files since the start; not ignored ones, not .orchestrator/', () => {
    const repo = makeRepo();
    writeFileSync(join(repo, 'kept.txt'), 'same\n');
    writeFileSync(join(repo, 'edited.txt'), 'before\n');
    writeFileSync(join(repo, 'staged.txt'), 'before\n');
    commitAll(repo, 'before the workflow');
    const headAtStart = git(repo, ['rev-parse', 'HEAD']).trim();
    ok(repo, ['start', 'Touch some files']);
    const dir = sessionDir(repo);
    assert.equal(readJson(join(dir, 'state.json')).metadata.git_head_at_start, headAtStart);

    mkdirSync(join(repo, 'src'));
    writeFileSync(join(repo, 'src', 'committed.ts'), 'export {};\n');
    commitAll(repo, 'during the workflow');
    writeFileSync(join(repo, 'edited.txt'), 'after\n');
    writeFileSync(join(repo, 'staged.txt'), 'after\n');
    git(repo, ['add', 'staged.txt']);
    writeFileSync(join(repo, '.gitignore'), '*.log\n');
    writeFileSync(join(repo, 'debug.log'), 'ignored\n');
    writeFileSync(join(repo, 'new file.txt'), 'untracked, with a space\n');

    const out = json(repo, ['checkpoint']);
    const expected = ['.gitignore', 'edited.txt', 'new file.txt', 'src/committed.ts', 'staged.txt'];
    assert.deepEqual(out.checkpoint.file_manifest, expected);
    assert.deepEqual(out.checkpoint.file_manifest_base, { commit: headAtStart, from: 'recorded at start' });
    assert.deepEqual(readJson(join(dir, 'checkpoints', `${out.checkpoint.id}.json`)).file_manifest, expected);
    assert.equal(git(repo, ['status', '--porcelain', '--', 'staged.txt']).slice(0, 2), 'M ', 'the index is as it was');
  });

  test('file_manifest of a state that recorded no start commit (the Python tool\'s): the last commit before created_at', () => {
    const repo = makeRepo();
    ok(repo, ['start', 'Started by an older version']);
    const dir = sessionDir(repo);
    const state = readJson(join(dir, 'state.json'));
    delete state.metadata.git_head_at_start;
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state, null, 2));
    ok(repo, ['doctor', '--reseal']);
    const before = git(repo, ['rev-parse', 'HEAD']).trim();
    // A commit dated after the start (git dates have whole seconds; the test must not depend on the clock's).
    writeFileSync(join(repo, 'later.txt'), 'x\n');
    const later = new Date(Date.parse(state.created_at) + 60_000).toISOString();
    commitAll(repo, 'after the start', { GIT_COMMITTER_DATE: later, GIT_AUTHOR_DATE: later });
    const out = json(repo, ['checkpoint']);
    assert.deepEqual(out.checkpoint.file_manifest, ['later.txt']);
    assert.deepEqual(out.checkpoint.file_manifest_base, { commit: before, from: 'last commit before the start' });
  });

  test('without git the manifest is empty and the checkpoint is written', () => {
    const dir = tempDir('orch-nogit-');
    writeFileSync(join(dir, 'notes.txt'), 'x\n');
    ok(dir, ['start', 'No git here']);
    const out = json(dir, ['checkpoint', '-m', 'no git']);
    assert.deepEqual(out.checkpoint.file_manifest, []);
    assert.equal(out.checkpoint.file_manifest_base.from, 'no git');
  });

  test('bad input: empty -m or --decision, a state changed outside orchestrator; nothing is written', () => {
    const { repo, dir } = halfway();
    refuses(repo, ['checkpoint', '-m', ' '], 2, [/-m is empty/]);
    refuses(repo, ['checkpoint', '--decision', 'ok', '--decision', ''], 2, [/--decision is empty/]);
    refuses(repo, ['checkpoint', 'extra'], 2, [/usage: orchestrator checkpoint/]);
    const statePath = join(dir, 'state.json');
    writeFileSync(statePath, readFileSync(statePath, 'utf8').replace('Add a greeting endpoint', 'Edited by hand'));
    refuses(repo, ['checkpoint'], 2, [/state\.json: checksum mismatch/, /doctor --reseal/]);
  });
});

describe('resume', () => {
  test('brings back exactly the checkpointed statuses; resuming the automatic checkpoint undoes it; doctor stays clean', () => {
    const { repo, dir } = halfway();
    const cpId = json(repo, ['checkpoint', '-m', 'halfway', '--decision', 'GET /greeting']).checkpoint.id;
    const atCheckpoint = readJson(join(dir, 'state.json'));

    // The state moves on: EXECUTE done, REVIEW started and partly done.
    ok(repo, ['complete', 'implement', '--notes', 'added the route']);
    ok(repo, ['advance']);
    ok(repo, ['complete', 'self_review', '--notes', 'read the diff']);
    const moved = readJson(join(dir, 'state.json'));
    assert.notDeepEqual(statuses(moved), statuses(atCheckpoint));

    const r = json(repo, ['resume', cpId]);
    assert.equal(r.resumed.checkpoint_id, cpId);
    assert.deepEqual(r.resumed.key_decisions, ['GET /greeting']);
    const restored = readJson(join(dir, 'state.json'));
    assert.deepEqual(statuses(restored), statuses(atCheckpoint));
    assert.equal(restored.current_phase_id, 'EXECUTE');
    assert.deepEqual(withoutSeals(restored), withoutSeals(atCheckpoint), 'the whole state is the checkpointed one');
    assert.equal(r.status.next.command, 'orchestrator complete implement --notes "WHAT YOU DID"');
    // Sealed anew: status and doctor trust it (doctor would flag the log's item_completed events
    // for items that are pending again, were it not for the workflow_resumed event after them).
    ok(repo, ['status']);
    ok(repo, ['doctor']);

    // The automatic checkpoint holds the state the resume replaced.
    const autoId = r.previous_state_checkpoint.id;
    assert.notEqual(autoId, cpId);
    const auto = readJson(join(dir, 'checkpoints', `${autoId}.json`));
    assert.deepEqual(Object.keys(auto), PYTHON_FIELDS);
    assert.equal(auto.message, `Automatic checkpoint before resume to ${cpId}`);
    assert.equal(auto.parent_checkpoint_id, cpId);
    assert.deepEqual(auto.workflow_state_snapshot, withoutSeals(moved));
    const events = logEvents(dir).slice(-2);
    assert.deepEqual(events.map((e) => e.event_type), ['checkpoint_created', 'workflow_resumed']);
    assert.equal(events[0].details.auto, true);
    assert.deepEqual(
      { cp: events[1].details.checkpoint_id, prev: events[1].details.previous_state_checkpoint_id, from: events[1].details.from_phase_id, to: events[1].details.to_phase_id },
      { cp: cpId, prev: autoId, from: 'REVIEW', to: 'EXECUTE' },
    );

    // Undo: resume the automatic checkpoint. The prompt names the task, the phase, what is done, the next command.
    const undo = ok(repo, ['resume', autoId]);
    assert.deepEqual(withoutSeals(readJson(join(dir, 'state.json'))), withoutSeals(moved));
    assert.match(undo.stdout, /^# Resumed checkpoint cp_/);
    assert.match(undo.stdout, /Task: Add a greeting endpoint/);
    assert.match(undo.stdout, /Phase: REVIEW Review \(3 of 5\)/);
    assert.match(undo.stdout, /`implement` Implement the change: added the route/);
    assert.match(undo.stdout, /`write_tests` Write or update tests: Docs-only change/);
    assert.match(undo.stdout, /`orchestrator advance`/);
    const secondAuto = /undo with: orchestrator resume (cp_\S+)/.exec(undo.stdout)![1]!;
    assert.ok(checkpointFiles(dir).includes(`${secondAuto}.json`));

    // Without an ID: the newest checkpoint, which right after a resume is its automatic one.
    json(repo, ['resume']);
    assert.deepEqual(statuses(readJson(join(dir, 'state.json'))), statuses(atCheckpoint));
    ok(repo, ['doctor']);
    assert.equal(checkpointFiles(dir).length, 4);
  });

  test('bad input changes nothing: unknown or malformed id, corrupt file, no state in it, another workflow, no checkpoint at all', () => {
    const { repo, dir } = halfway();
    refuses(repo, ['resume'], 2, [/no checkpoint of workflow wf_[0-9a-f]+ in \.orchestrator\/sessions\/\w+\/checkpoints/, /orchestrator checkpoint -m/]);
    const cpId = json(repo, ['checkpoint']).checkpoint.id;
    refuses(repo, ['resume', 'cp_nosuch'], 2, [/no checkpoint "cp_nosuch"/, /orchestrator checkpoints/]);
    refuses(repo, ['resume', '../state'], 2, [/"\.\.\/state" is not a checkpoint id/]);
    refuses(repo, ['resume', 'a', 'b'], 2, [/usage: orchestrator resume/]);

    const cpDir = join(dir, 'checkpoints');
    writeFileSync(join(cpDir, 'cp_torn.json'), '{"checkpoint_id": "cp_to');
    refuses(repo, ['resume', 'cp_torn'], 2, [/checkpoints\/cp_torn\.json: not valid JSON/]);
    const good = readJson(join(cpDir, `${cpId}.json`));
    writeFileSync(join(cpDir, 'cp_nostate.json'), JSON.stringify({ ...good, checkpoint_id: 'cp_nostate', workflow_state_snapshot: { workflow_id: good.workflow_id } }));
    refuses(repo, ['resume', 'cp_nostate'], 2, [/cp_nostate\.json: its workflow_state_snapshot is not a workflow state/]);
    const other = { ...good, checkpoint_id: 'cp_other', workflow_id: 'wf_0ther000' };
    other.workflow_state_snapshot = { ...good.workflow_state_snapshot, workflow_id: 'wf_0ther000' };
    writeFileSync(join(cpDir, 'cp_other.json'), JSON.stringify(other));
    refuses(repo, ['resume', 'cp_other'], 3, [/cp_other\.json is a checkpoint of workflow wf_0ther000/, /orchestrator checkpoints/]);
    // --json: one document naming the error.
    const before = snapshotTree(repo);
    const j = expectCode(runCli(repo, ['resume', 'cp_torn', '--json']), 2);
    assert.equal(JSON.parse(j.stdout).error.code, 'CORRUPT_FILE');
    const u = expectCode(runCli(repo, ['resume', 'cp_nosuch', '--json']), 2);
    assert.equal(JSON.parse(u.stdout).error.code, 'UNKNOWN_CHECKPOINT');
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
  });

  test('a state changed outside orchestrator can be resumed away; the edited state is kept in the automatic checkpoint', () => {
    const { repo, dir } = halfway();
    const cpId = json(repo, ['checkpoint']).checkpoint.id;
    const statePath = join(dir, 'state.json');
    writeFileSync(statePath, readFileSync(statePath, 'utf8').replace('Add a greeting endpoint', 'Edited by hand'));
    expectCode(runCli(repo, ['status']), 1);
    const r = ok(repo, ['resume', cpId]);
    assert.match(r.stderr, /state\.json had been changed outside orchestrator \(checksum mismatch\); that state is kept in .*checkpoints\/cp_/);
    assert.equal(readJson(statePath).task_description, 'Add a greeting endpoint');
    ok(repo, ['status']);
    const autoId = /undo with: orchestrator resume (cp_\S+)/.exec(r.stdout)![1]!;
    assert.equal(readJson(join(dir, 'checkpoints', `${autoId}.json`)).workflow_state_snapshot.task_description, 'Edited by hand');
  });
});

describe("the Python tool's checkpoints", () => {
  test('v3 session: the fixture checkpoint restores, and its automatic checkpoint undoes that', () => {
    const repo = repoFromFixture('v3-sessions');
    const dir = sessionDir(repo);
    const [fixtureFile] = checkpointFiles(dir);
    const fixture = readJson(join(dir, 'checkpoints', fixtureFile!));
    ok(repo, ['complete', 'plan_validation', '--notes', 'validated the plan']);
    const moved = readJson(join(dir, 'state.json'));
    assert.equal(moved.phases.PLAN.items.plan_validation.status, 'completed');

    const r = json(repo, ['resume', fixture.checkpoint_id]);
    const restored = readJson(join(dir, 'state.json'));
    assert.deepEqual(statuses(restored), statuses(fixture.workflow_state_snapshot));
    assert.equal(restored.phases.PLAN.items.plan_validation.status, 'pending');
    assert.equal(restored.task_description, fixture.workflow_state_snapshot.task_description);
    ok(repo, ['status']);
    ok(repo, ['doctor']);
    assert.equal(r.resumed.message, 'Planning half done');

    json(repo, ['resume', r.previous_state_checkpoint.id]);
    assert.equal(readJson(join(dir, 'state.json')).phases.PLAN.items.plan_validation.status, 'completed');
    assert.equal(readJson(join(dir, 'state.json')).phases.PLAN.items.plan_validation.notes, 'validated the plan');
  });

  test('v2 legacy layout: resume and checkpoint refuse (exit 3) until migrated; with layout legacy they work in .workflow_checkpoints/', () => {
    const repo = repoFromFixture('v2-root');
    refuses(repo, ['resume', 'cp_20260106_053301_bddea0'], 3, [/legacy layout/, /orchestrator migrate --yes/]);
    refuses(repo, ['checkpoint', '-m', 'x'], 3, [/legacy layout/]);

    const legacy = { env: { ORCHESTRATOR_LAYOUT: 'legacy' } };
    // The fixture's checkpoints belong to an earlier workflow than its state.
    refuses(repo, ['resume', 'cp_20260106_053301_bddea0'], 3, [/is a checkpoint of workflow wf_e3bef6ab/, /session legacy runs workflow wf_94a0f102/], legacy);
    refuses(repo, ['resume'], 2, [/no checkpoint of workflow wf_94a0f102 in \.workflow_checkpoints/], legacy);

    const made = json(repo, ['checkpoint', '-m', 'in place'], legacy);
    assert.match(made.checkpoint.file, /^\.workflow_checkpoints\/cp_\d{8}_/);
    assert.equal(made.checkpoint.parent_checkpoint_id, null, 'the other workflow\'s checkpoints are not its parents');
    const r = json(repo, ['resume', made.checkpoint.id], legacy);
    assert.match(r.previous_state_checkpoint.file, /^\.workflow_checkpoints\//);
    assert.ok(!readdirSync(repo).includes('.orchestrator') || !readdirSync(join(repo, '.orchestrator')).includes('sessions'), 'no contained sessions were made');
  });
});
