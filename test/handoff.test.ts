// `handoff`: the brief for the next agent names every done item with its notes, every skip with its
// reason, what is left with its check, the last events, the last checkpoint and the next command;
// it stays compact and reads only.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { diffTrees, expectCode, makeRepo, ok, refuses, repoFromFixture, runCli, sessionDir, snapshotTree } from './helpers/cli.ts';

/**
 * Tokens, estimated conservatively: one token per 3 characters. Tokenizers average about 4
 * characters per token on English prose and fewer on ids, paths and timestamps; 3 over-counts both.
 */
const estimateTokens = (text: string) => Math.ceil(text.length / 3);

// Realistic notes: a couple of sentences each, as agents write them.
const NOTES = {
  understand_task:
    'Read the request and src/routes.ts. Open question: should the greeting be localised? Recommended answer: no, English only for now. Assumption: no authentication is needed for this endpoint.',
  initial_plan: 'Wrote docs/plan.md: add GET /greeting in src/routes.ts returning text/plain, a unit test for the handler and an integration test through the router.',
  user_approval: 'The user approved the plan as written, asking only that the route name stays /greeting.',
  implement:
    'Added the handler in src/greeting.ts and registered it in src/routes.ts. Kept the response a plain string; no new dependencies. The router test needed a small fixture change.',
  self_review: 'Read the whole diff twice: removed a leftover console.log, renamed a variable, nothing else found.',
};
const SKIPS = {
  write_tests: 'Docs-only change: there is no behaviour here that a test could meaningfully pin down.',
  second_opinion: 'No reviewer is available today and the change is small and well covered by the review above.',
};

/** The bundled default workflow halfway: PLAN and EXECUTE done, REVIEW done, VERIFY open. */
function halfway(): string {
  const repo = makeRepo();
  ok(repo, ['start', 'Add a greeting endpoint']);
  ok(repo, ['complete', 'understand_task', '--notes', NOTES.understand_task]);
  mkdirSync(join(repo, 'docs'));
  writeFileSync(join(repo, 'docs', 'plan.md'), '# Plan\n');
  ok(repo, ['complete', 'initial_plan', '--notes', NOTES.initial_plan]);
  ok(repo, ['approve-item', 'user_approval', '--notes', NOTES.user_approval]);
  ok(repo, ['advance']);
  ok(repo, ['skip', 'write_tests', '--reason', SKIPS.write_tests]);
  ok(repo, ['complete', 'implement', '--notes', NOTES.implement]);
  ok(repo, ['advance']);
  ok(repo, ['complete', 'self_review', '--notes', NOTES.self_review]);
  ok(repo, ['skip', 'second_opinion', '--reason', SKIPS.second_opinion]);
  ok(repo, ['advance']);
  ok(repo, ['checkpoint', '-m', 'review done, verifying next', '--decision', 'plain text body, no JSON']);
  return repo;
}

describe('handoff', () => {
  test('names every done item with its notes, every skip reason, what is left with its check, the last checkpoint and the next command; under 2,000 tokens', (t) => {
    const repo = halfway();
    const before = snapshotTree(repo);
    const r = ok(repo, ['handoff']);
    const md = r.stdout;
    const next = JSON.parse(ok(repo, ['status', '--json']).stdout).next.command;
    assert.equal(next, 'orchestrator complete run_tests --notes "WHAT YOU DID"');

    assert.match(md, /^# Handoff: Add a greeting endpoint\n/);
    assert.match(md, /Phase VERIFY Verify \(4 of 5\)/);
    assert.match(md, /7 of 12 overall/);
    for (const [id, notes] of Object.entries(NOTES)) {
      const line = md.split('\n').find((l) => l.includes(`\`${id}\``));
      assert.ok(line, `done item ${id} is not named:\n${md}`);
      assert.ok(line.includes(notes), `the notes of ${id} are missing:\n${line}`);
    }
    for (const [id, reason] of Object.entries(SKIPS)) {
      const line = md.split('\n').find((l) => l.includes(`\`${id}\``));
      assert.ok(line?.includes(reason), `the skip reason of ${id} is missing:\n${md}`);
    }
    const section = (title: string) => md.split(/\n(?=## )/).find((s) => s.startsWith(`## ${title}`)) ?? '';
    const left = section('Left');
    assert.match(left, /^## Left \(4\)/);
    assert.match(left, /VERIFY `run_tests` Run the test suite \(command: `npm test`\)/);
    assert.match(left, /VERIFY `check_acceptance`/);
    assert.match(left, /LEARN `record_learnings`/);
    assert.match(left, /LEARN `propose_improvements` Propose follow-ups \[optional\]/);
    assert.doesNotMatch(left, /update_docs/, "an earlier phase's open optional item is not left to do");
    assert.match(section('Last checkpoint'), /`cp_\d{8}_\d{6}_\d{6}_\d{4}_[0-9a-f]{4}` \(.+\): review done, verifying next/);
    assert.match(section('Last checkpoint'), /- decision: plain text body, no JSON/);
    const events = section('Recent events').split('\n').filter((l) => l.startsWith('- '));
    assert.equal(events.length, 10);
    assert.match(events.at(-1)!, /checkpoint_created VERIFY: Created checkpoint cp_/);
    assert.ok(section('Next').includes(`\`${next}\``), section('Next'));

    const tokens = estimateTokens(md);
    t.diagnostic(`handoff: ${md.length} characters, ~${tokens} tokens (chars/3)`);
    assert.ok(tokens < 2000, `handoff is ~${tokens} tokens (${md.length} characters)`);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), [], 'handoff changed files');
  });

  test('--json: the same content, structured', () => {
    const repo = halfway();
    const j = JSON.parse(ok(repo, ['handoff', '--json']).stdout);
    assert.equal(j.ok, true);
    assert.equal(j.task, 'Add a greeting endpoint');
    assert.deepEqual(j.phase, { id: 'VERIFY', name: 'Verify', number: 4, count: 5 });
    assert.deepEqual(
      j.done.map((d: any) => [d.phase, d.id, d.notes]),
      Object.entries(NOTES).map(([id, notes]) => [id === 'implement' ? 'EXECUTE' : id === 'self_review' ? 'REVIEW' : 'PLAN', id, notes]),
    );
    assert.deepEqual(j.skipped.map((s: any) => [s.id, s.reason]), Object.entries(SKIPS));
    assert.deepEqual(
      j.left.map((l: any) => [l.id, l.required, l.verification]),
      [
        ['run_tests', true, { type: 'command', check: 'npm test' }],
        ['check_acceptance', true, { type: 'none', check: null }],
        ['record_learnings', true, { type: 'none', check: null }],
        ['propose_improvements', false, { type: 'none', check: null }],
      ],
    );
    assert.equal(j.recent_events.length, 10);
    assert.equal(j.recent_events.at(-1).event_type, 'checkpoint_created');
    assert.equal(j.last_checkpoint.message, 'review done, verifying next');
    assert.deepEqual(j.last_checkpoint.key_decisions, ['plain text body, no JSON']);
    assert.equal(j.last_checkpoint.auto, false);
    assert.equal(j.next.command, 'orchestrator complete run_tests --notes "WHAT YOU DID"');
  });

  test('long notes are cut in the Markdown and whole in --json', () => {
    const repo = makeRepo();
    ok(repo, ['start', 'Long notes']);
    const long = Array.from({ length: 60 }, (_, i) => `step ${i} done;`).join(' ');
    ok(repo, ['complete', 'understand_task', '--notes', long]);
    const line = ok(repo, ['handoff']).stdout.split('\n').find((l) => l.includes('`understand_task`'))!;
    assert.ok(line.endsWith('…'), line);
    assert.ok(line.length < 320, `${line.length} characters`);
    assert.ok(long.startsWith(line.slice(line.indexOf(': ') + 2, -1)), line);
    assert.equal(JSON.parse(ok(repo, ['handoff', '--json']).stdout).done[0].notes, long);
  });

  test("the Python tool's legacy files, read in place: this workflow's events only, nothing written", () => {
    const repo = repoFromFixture('v2-root');
    const before = snapshotTree(repo);
    const state = JSON.parse(readFileSync(join(repo, '.workflow_state.json'), 'utf8'));
    const r = ok(repo, ['handoff', '--json']);
    assert.match(r.stderr, /legacy layout/);
    const j = JSON.parse(r.stdout);
    assert.equal(j.task, state.task_description);
    assert.equal(j.session_id, 'legacy');
    const log = readFileSync(join(repo, '.workflow_log.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.ok(new Set(log.map((e) => e.workflow_id)).size > 1, 'the fixture log holds several workflows');
    const ours = log.filter((e) => e.workflow_id === state.workflow_id).slice(-10);
    assert.deepEqual(j.recent_events.map((e: any) => [e.timestamp, e.event_type]), ours.map((e) => [e.timestamp, e.event_type]));
    const skippedInState = Object.values<any>(state.phases).flatMap((p) => Object.values<any>(p.items)).filter((i) => i.status === 'skipped');
    assert.deepEqual(j.skipped.map((s: any) => s.reason).sort(), skippedInState.map((i) => i.skip_reason).sort());
    assert.equal(j.next.command, 'orchestrator start "NEXT TASK"');
    const md = ok(repo, ['handoff']).stdout;
    for (const s of j.skipped) assert.ok(md.includes(s.id), s.id);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
  });

  test('a state changed outside orchestrator: exit 1, the problem, and doctor as the next command; no workflow: exit 2', () => {
    const repo = makeRepo();
    refuses(repo, ['handoff'], 2, [/no workflow in this repo yet/]);
    ok(repo, ['start', 'Tampered']);
    const statePath = join(sessionDir(repo), 'state.json');
    writeFileSync(statePath, readFileSync(statePath, 'utf8').replace('Tampered', 'Edited by hand'));
    const r = expectCode(runCli(repo, ['handoff']), 1);
    assert.match(r.stdout, /## Problems\n- .*state\.json: checksum mismatch/);
    assert.match(r.stdout, /## Next\n`orchestrator doctor`/);
    const j = JSON.parse(expectCode(runCli(repo, ['handoff', '--json']), 1).stdout);
    assert.equal(j.ok, false);
    assert.equal(j.problems.length, 1);
  });
});
