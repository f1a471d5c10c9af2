// Repo identity and multi-repo work (issue 6 parts 4 and 5), through the built CLI in real temp
// repos: repos.json and `repos list|status`, items whose verification runs in another repo, and a
// .orchestrator/ copied from another repository.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { describe, test } from 'node:test';
import {
  diffTrees,
  expectCode,
  git,
  makeRepo,
  ok,
  readJson,
  refuses,
  runCli,
  sessionDir,
  snapshotTree,
  tempDir,
  type CliOptions,
} from './helpers/cli.ts';

/** Every test gets its own global directory, so repos.json holds only its repos. */
function home(): CliOptions {
  return { env: { ORCHESTRATOR_HOME: tempDir('orch-global-') } };
}

function json(cwd: string, args: string[], opts: CliOptions, code = 0): any {
  return JSON.parse(expectCode(runCli(cwd, [...args, '--json'], opts), code, `orchestrator ${args.join(' ')} --json`).stdout);
}

function logEvents(repo: string): any[] {
  return readFileSync(join(sessionDir(repo), 'log.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

function repoId(repo: string): string {
  return readJson(join(repo, '.orchestrator', 'meta.json')).repo_id;
}

/** A repo with its own history (makeRepo's root commits can be identical within one second). */
function distinctRepo(tag: string): string {
  const repo = makeRepo({ commit: false });
  git(repo, ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '--allow-empty', '-m', `root of ${tag} ${repo}`]);
  return repo;
}

const SHARED_WORKFLOW = `name: shared
phases:
  - id: BUILD
    name: Build
    items:
      - id: write_code
        name: Write the code
      - id: write_docs
        name: Write the docs
  - id: SHIP
    name: Ship
    items:
      - id: release
        name: Release
`;

describe('repos.json and repos list|status', () => {
  test('two repos with the same workflow: repos status --json reports both; a deleted one is flagged missing', () => {
    const opts = home();
    const a = distinctRepo('a');
    const b = distinctRepo('b');
    for (const r of [a, b]) writeFileSync(join(r, 'workflow.yaml'), SHARED_WORKFLOW);
    ok(a, ['start', 'Task in A'], opts);
    ok(b, ['start', 'Task in B'], opts);
    ok(b, ['complete', 'write_code'], opts);

    const st = json(a, ['repos', 'status'], opts);
    assert.equal(st.ok, true);
    assert.equal(st.repos.length, 2);
    const ra = st.repos.find((r: any) => r.root === a);
    const rb = st.repos.find((r: any) => r.root === b);
    assert.ok(ra && rb, JSON.stringify(st.repos));
    assert.equal(ra.task, 'Task in A');
    assert.equal(rb.task, 'Task in B');
    assert.equal(ra.current, true);
    assert.equal(rb.current, false);
    assert.deepEqual(ra.phase, { id: 'BUILD', name: 'Build', number: 1, count: 2 });
    assert.deepEqual(ra.progress, { done: 0, total: 3 });
    assert.deepEqual(rb.progress, { done: 1, total: 3 });
    assert.equal(ra.repo_id, repoId(a));
    assert.equal(rb.repo_id, repoId(b));
    assert.notEqual(ra.repo_id, rb.repo_id);
    for (const r of [ra, rb]) {
      assert.equal(r.workflow_status, 'active');
      assert.deepEqual(r.flags, []);
      assert.equal(r.problem, null);
      assert.ok(!Number.isNaN(Date.parse(r.last_activity)), `last_activity ${r.last_activity}`);
    }
    // Human output names both tasks.
    const text = ok(b, ['repos', 'status'], opts).stdout;
    assert.match(text, /"Task in A": active, phase BUILD \(1 of 2\), 0 of 3 items done/);
    assert.match(text, /"Task in B": active, phase BUILD \(1 of 2\), 1 of 3 items done/);

    // Reading other repos changes nothing in them.
    const before = [snapshotTree(a), snapshotTree(b)];
    json(a, ['repos', 'list'], opts);
    json(a, ['repos', 'status'], opts);
    assert.deepEqual(diffTrees(before[0]!, snapshotTree(a)), []);
    assert.deepEqual(diffTrees(before[1]!, snapshotTree(b)), []);

    rmSync(b, { recursive: true, force: true });
    const list = json(a, ['repos', 'list'], opts);
    assert.deepEqual(list.repos.find((r: any) => r.root === b).flags, ['missing']);
    assert.deepEqual(list.repos.find((r: any) => r.root === a).flags, []);
    const after = json(a, ['repos', 'status'], opts);
    assert.equal(after.repos.find((r: any) => r.root === a).task, 'Task in A');
    assert.equal(after.repos.find((r: any) => r.root === b).task, null);
    assert.match(ok(a, ['repos', 'list'], opts).stdout, /\[missing: the directory no longer exists\]/);
  });

  test('a repo moved to another directory is flagged moved, with where it went', () => {
    const opts = home();
    const repo = distinctRepo('moving');
    git(repo, ['remote', 'add', 'origin', 'https://example.com/team/moving.git']);
    ok(repo, ['start', 'Move me'], opts);
    const moved = join(tempDir('orch-moved-'), 'moving');
    renameSync(repo, moved);
    ok(moved, ['session', 'new'], opts);
    const list = json(moved, ['repos', 'list'], opts);
    const old = list.repos.find((r: any) => r.root === repo);
    assert.deepEqual(old.flags, ['missing', 'moved']);
    assert.equal(old.moved_to, moved);
    assert.deepEqual(list.repos.find((r: any) => r.root === moved).flags, []);
  });

  test('a root that now holds another repo (or none) is flagged changed', () => {
    const opts = home();
    const repo = distinctRepo('changed');
    ok(repo, ['start', 'Soon gone'], opts);
    rmSync(join(repo, '.orchestrator'), { recursive: true });
    const r = json(repo, ['repos', 'list'], opts).repos[0];
    assert.deepEqual(r.flags, ['changed']);
    assert.match(r.note, /meta\.json is gone/);
  });

  test('a repo whose state is corrupt shows its problem; the listing goes on', () => {
    const opts = home();
    const a = distinctRepo('good');
    const b = distinctRepo('corrupt');
    ok(a, ['start', 'Fine'], opts);
    ok(b, ['start', 'Broken'], opts);
    writeFileSync(join(sessionDir(b), 'state.json'), '{ not json');
    const st = json(a, ['repos', 'status'], opts);
    assert.equal(st.repos.find((r: any) => r.root === a).task, 'Fine');
    const bad = st.repos.find((r: any) => r.root === b);
    assert.equal(bad.task, null);
    assert.match(bad.problem, /state\.json: not valid JSON/);
    assert.match(ok(a, ['repos', 'status'], opts).stdout, /PROBLEM: .*state\.json: not valid JSON/);
  });

  test('repos.json is written at most once a minute per repo, and a corrupt one is reported, never overwritten', () => {
    const opts = home();
    const file = join(opts.env!.ORCHESTRATOR_HOME!, 'repos.json');
    const repo = distinctRepo('throttle');
    ok(repo, ['start', 'Throttled'], opts);
    const first = readFileSync(file, 'utf8');
    ok(repo, ['complete', 'understand_task'], opts);
    assert.equal(readFileSync(file, 'utf8'), first, 'seen seconds ago: not written again');

    writeFileSync(file, '{"version": 1, "repos": [');
    const r = expectCode(runCli(repo, ['repos', 'list', '--json'], opts), 2, 'repos list on a corrupt repos.json');
    assert.equal(JSON.parse(r.stdout).error.code, 'CORRUPT_FILE');
    assert.match(r.stderr, /repos\.json: not valid JSON .*delete it/);
    const other = distinctRepo('other');
    const w = ok(other, ['start', 'Still works'], opts);
    assert.match(w.stderr, /note: this repo is not recorded for orchestrator repos \(.*repos\.json: not valid JSON/);
    assert.equal(readFileSync(file, 'utf8'), '{"version": 1, "repos": [', 'a corrupt repos.json is left as it is');
  });

  test('an unwritable global directory never fails a command, and is mentioned once per repo', () => {
    const blocker = join(tempDir('orch-blocker-'), 'a-file');
    writeFileSync(blocker, 'not a directory\n');
    const opts: CliOptions = { env: { ORCHESTRATOR_HOME: join(blocker, 'orchestrator') } };
    const repo = distinctRepo('sandbox');
    const first = ok(repo, ['start', 'In a sandbox'], opts);
    assert.match(first.stderr, /note: this repo is not recorded for orchestrator repos .*set ORCHESTRATOR_HOME to a writable directory/);
    assert.equal(first.stderr.trimEnd().split('\n').length, 1, first.stderr);
    const second = ok(repo, ['complete', 'understand_task'], opts);
    assert.equal(second.stderr, '', 'said once');
    ok(repo, ['status'], opts);
    assert.equal(json(repo, ['repos', 'list'], opts).repos.length, 0);

    // No ORCHESTRATOR_HOME and a home directory that does not exist: nothing is created there.
    const noHome = join(tempDir('orch-nohome-'), 'missing-home');
    const repo2 = distinctRepo('nohome');
    const r = ok(repo2, ['start', 'Homeless'], { env: { HOME: noHome } });
    assert.match(r.stderr, /does not exist/);
    assert.equal(existsSync(noHome), false);
  });
});

describe('items that verify in another repo', () => {
  function crossRepoSetup(repoLine: (other: string, main: string) => string): { main: string; other: string; opts: CliOptions } {
    const opts = home();
    const main = distinctRepo('main');
    const other = distinctRepo('other');
    git(other, ['remote', 'add', 'origin', `git@example.com:team/${basename(other)}.git`]);
    writeFileSync(
      join(main, 'workflow.yaml'),
      `name: cross
phases:
  - id: BUILD
    name: Build
    items:
      - id: api_spec
        name: The API spec exists in the other repo
        ${repoLine(other, main)}
        verification: {type: file_exists, path: docs/spec.md}
      - id: other_root
        name: Runs in the other repo
        ${repoLine(other, main)}
        verification: {type: command, command: "git rev-parse --show-toplevel"}
`,
    );
    return { main, other, opts };
  }

  test('file_exists fails (exit 1) without the other repo\'s file and passes with it; the log records that repo\'s id', () => {
    const { main, other, opts } = crossRepoSetup((o, m) => `repo: ${relative(m, o)}`);
    ok(main, ['start', 'Cross-repo'], opts);
    // This repo has the file; the other does not: the check looks in the other one.
    mkdirSync(join(main, 'docs'));
    writeFileSync(join(main, 'docs', 'spec.md'), 'here, not there\n');
    refuses(main, ['complete', 'api_spec'], 1, [/docs\/spec\.md does not exist in /, new RegExp(other.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))], opts);

    mkdirSync(join(other, 'docs'));
    writeFileSync(join(other, 'docs', 'spec.md'), 'the spec\n');
    const before = snapshotTree(other);
    const done = ok(main, ['complete', 'api_spec'], opts);
    assert.match(done.stdout, /docs\/spec\.md exists in /);
    const ok2 = json(main, ['complete', 'other_root'], opts);
    assert.equal(ok2.verification_result.output_tail.trim(), other, 'the command ran with its cwd in the other repo');
    assert.deepEqual(diffTrees(before, snapshotTree(other)), [], 'nothing is written into the other repo');
    assert.equal(existsSync(join(other, '.orchestrator')), false);

    const passed = logEvents(main).filter((e) => e.event_type === 'verification_passed');
    assert.equal(passed.length, 2);
    // The other repo has no meta.json: its id is the one it gets when orchestrator first runs there.
    ok(other, ['init'], opts);
    for (const e of passed) {
      assert.equal(e.details.repo_id, repoId(other));
      assert.equal(e.details.repo_root, other);
    }
    assert.notEqual(repoId(other), repoId(main));
    const st = readJson(join(sessionDir(main), 'state.json'));
    assert.equal(st.phases.BUILD.items.api_spec.verification_result.repo_id, repoId(other));
  });

  test('a repos.aliases name from .orchestrator/config.yaml; validate reports an unknown alias', () => {
    const { main, other, opts } = crossRepoSetup(() => 'repo: specs');
    const v = expectCode(runCli(main, ['validate'], opts), 1, 'validate with an unknown alias');
    assert.match(v.stdout, /workflow\.yaml:\d+:\d+: phases\[0\]\.items\[0\]\.repo: names repo alias "specs", which is not configured/);
    ok(main, ['start', 'Aliased'], opts);
    refuses(main, ['complete', 'api_spec'], 2, [/item api_spec: repo alias "specs" is not configured/, /repos: \{aliases: \{specs: /], opts);

    writeFileSync(join(main, '.orchestrator', 'config.yaml'), `repos:\n  aliases:\n    specs: ${relative(main, other)}\n`);
    ok(main, ['validate'], opts);
    assert.equal(runCli(main, ['status'], opts).stderr, '', 'the aliases key is known: no config warning');
    refuses(main, ['complete', 'api_spec'], 1, [/docs\/spec\.md does not exist in /], opts);
    mkdirSync(join(other, 'docs'));
    writeFileSync(join(other, 'docs', 'spec.md'), 'spec\n');
    ok(main, ['complete', 'api_spec'], opts);
    const e = logEvents(main).find((x) => x.event_type === 'verification_passed');
    assert.equal(e.details.repo, 'specs');
    ok(other, ['init'], opts);
    assert.equal(e.details.repo_id, repoId(other));

    // ORCHESTRATOR_REPOS_ALIASES, the environment form, overrides the file.
    const elsewhere = distinctRepo('elsewhere');
    refuses(main, ['complete', 'other_root'], 2, [/repo alias "specs" \(.+, from ORCHESTRATOR_REPOS_ALIASES\) is .*does-not-exist, which does not exist/], {
      env: { ...opts.env, ORCHESTRATOR_REPOS_ALIASES: `specs=${join(elsewhere, 'does-not-exist')}` },
    });
  });

  test('a repo path that does not exist: exit 2 naming the item, the path and the fix; nothing changes', () => {
    const opts = home();
    const main = distinctRepo('main');
    writeFileSync(
      join(main, 'workflow.yaml'),
      'name: t\nphases:\n  - id: P\n    name: P\n    items:\n      - id: x\n        name: X\n        repo: ../no-such-repo-here\n        verification: {type: file_exists, path: a.txt}\n',
    );
    ok(main, ['validate'], opts);
    ok(main, ['start', 'Missing other'], opts);
    refuses(main, ['complete', 'x'], 2, [/workflow\.yaml: item x: repo "\.\.\/no-such-repo-here" is \/.*no-such-repo-here, which does not exist; clone or create that repo there, or change repo: of item x/], opts);
    const j = json(main, ['complete', 'x'], opts, 2);
    assert.equal(j.error.code, 'REPO_NOT_FOUND');
  });
});

describe('a .orchestrator/ copied from another repository', () => {
  test('status warns once on stderr, doctor reports it, doctor --fix-repo-id gives the repo its own id', () => {
    const opts = home();
    const source = distinctRepo('source');
    ok(source, ['start', 'Original work'], opts);
    const copy = distinctRepo('copy');
    cpSync(join(source, '.orchestrator'), join(copy, '.orchestrator'), { recursive: true });
    const copiedId = repoId(copy);

    const st = ok(copy, ['status'], opts);
    const warnings = st.stderr.trimEnd().split('\n');
    assert.equal(warnings.length, 1, st.stderr);
    assert.match(warnings[0]!, /^orchestrator: warning: \.orchestrator\/meta\.json: repo id r_\w+ comes from root commit \w+, which this repository does not contain: \.orchestrator\/ was copied from another repository; give this repo its own id with: orchestrator doctor --fix-repo-id$/);
    assert.match(runCli(copy, ['status', '--json'], opts).stderr, /copied from another repository/);
    // The original repo is fine.
    assert.equal(ok(source, ['status'], opts).stderr, '');

    const before = snapshotTree(copy);
    const d = json(copy, ['doctor'], opts, 1);
    assert.ok(d.findings.some((f: any) => f.level === 'problem' && f.subject === '.orchestrator/meta.json' && /--fix-repo-id/.test(f.message)));
    assert.deepEqual(diffTrees(before, snapshotTree(copy)), [], 'doctor reads only');

    const fixed = json(copy, ['doctor', '--fix-repo-id'], opts);
    assert.equal(fixed.ok, true);
    assert.equal(fixed.fixed_repo_id.from, copiedId);
    const meta = readJson(join(copy, '.orchestrator', 'meta.json'));
    assert.equal(fixed.fixed_repo_id.to, meta.repo_id);
    assert.notEqual(meta.repo_id, copiedId);
    assert.equal(meta.previous_repo_id, copiedId);
    assert.equal(meta.repo_id_source, 'root_commit');
    assert.equal(ok(copy, ['status'], opts).stderr, '', 'no warning once fixed');
    // Again: nothing to fix, nothing written.
    const again = snapshotTree(copy);
    assert.equal(json(copy, ['doctor', '--fix-repo-id'], opts).fixed_repo_id, null);
    assert.deepEqual(diffTrees(again, snapshotTree(copy)), []);
  });

  test('ids from the remote: another origin is foreign, another form of the same origin is not', () => {
    const opts = home();
    const source = distinctRepo('remote-source');
    git(source, ['remote', 'add', 'origin', 'git@github.com:Team/Service.git']);
    ok(source, ['start', 'Remote id'], opts);
    const meta = readJson(join(source, '.orchestrator', 'meta.json'));
    assert.equal(meta.repo_id_source, 'remote');
    assert.equal(meta.root_commit, null);

    // A clone elsewhere with the https form of the same origin: same repository.
    const clone = distinctRepo('clone');
    git(clone, ['remote', 'add', 'origin', 'https://token@github.com/team/service']);
    cpSync(join(source, '.orchestrator'), join(clone, '.orchestrator'), { recursive: true });
    assert.equal(ok(clone, ['status'], opts).stderr, '');
    expectCode(runCli(clone, ['doctor'], opts), 0, 'doctor in a clone of the same origin');
    // A fresh start in a clone gets the very same id.
    const fresh = distinctRepo('fresh-clone');
    git(fresh, ['remote', 'add', 'origin', 'ssh://git@github.com/team/service.git']);
    ok(fresh, ['init'], opts);
    assert.equal(repoId(fresh), meta.repo_id);

    const foreign = distinctRepo('foreign');
    git(foreign, ['remote', 'add', 'origin', 'https://github.com/team/other-service.git']);
    cpSync(join(source, '.orchestrator'), join(foreign, '.orchestrator'), { recursive: true });
    assert.match(ok(foreign, ['status'], opts).stderr, /repo id r_\w+ comes from origin git@github\.com:Team\/Service\.git, but this repo's origin is https:\/\/github\.com\/team\/other-service\.git/);
  });

  test('an id from the root commit stays valid when a remote is added later; meta.json from before repo_id_source is understood', () => {
    const opts = home();
    const repo = distinctRepo('later-remote');
    ok(repo, ['start', 'No remote yet'], opts);
    const meta = readJson(join(repo, '.orchestrator', 'meta.json'));
    assert.equal(meta.repo_id_source, 'root_commit');
    git(repo, ['remote', 'add', 'origin', 'https://github.com/team/later.git']);
    assert.equal(ok(repo, ['status'], opts).stderr, '');
    expectCode(runCli(repo, ['doctor'], opts), 0, 'doctor after adding a remote');
    ok(repo, ['complete', 'understand_task'], opts);
    assert.equal(repoId(repo), meta.repo_id, 'the id never changes silently');

    // A meta.json written before repo_id_source existed (its id came from the root commit).
    const { repo_id_source: _dropped, ...older } = meta;
    writeFileSync(join(repo, '.orchestrator', 'meta.json'), JSON.stringify(older, null, 2) + '\n');
    assert.equal(ok(repo, ['status'], opts).stderr, '');
    const elsewhere = distinctRepo('older-copy');
    cpSync(join(repo, '.orchestrator'), join(elsewhere, '.orchestrator'), { recursive: true });
    assert.match(ok(elsewhere, ['status'], opts).stderr, /comes from root commit/);

    // After `git gc` the root commit lives in a pack: still found, still this repo's.
    git(repo, ['gc', '-q']);
    assert.equal(ok(repo, ['status'], opts).stderr, '');
  });
});
