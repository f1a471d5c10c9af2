// The state branch, local side (CONTRACT §7): saves go straight into the object store and change
// nothing else in the repository; restore rebuilds .orchestrator/ and never overwrites newer work.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { diffTrees, expectCode, git, makeRepo, ok, refuses, runCli, sessionDir, snapshotTree, tempDir, type CliOptions } from './helpers/cli.ts';

/** No git identity anywhere: an empty HOME and no system config. */
const NO_IDENTITY: CliOptions = { env: { HOME: '/nonexistent-home', XDG_CONFIG_HOME: undefined, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: undefined, GIT_AUTHOR_EMAIL: undefined, GIT_COMMITTER_NAME: undefined, GIT_COMMITTER_EMAIL: undefined, EMAIL: undefined } };

function gitState(repo: string): string {
  const r = spawnSync('git', ['status', '--porcelain=v2', '--ignored', '--branch'], { cwd: repo, encoding: 'utf8' });
  return [r.stdout, git(repo, ['rev-parse', 'HEAD']), readFileSync(join(repo, '.git', 'index')).toString('base64'), readFileSync(join(repo, '.git', 'config'), 'utf8'), readFileSync(join(repo, '.git', 'HEAD'), 'utf8'), git(repo, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads/main', 'refs/tags'])].join('\n---\n');
}

function saveJson(repo: string, opts: CliOptions = NO_IDENTITY): any {
  return JSON.parse(ok(repo, ['state', 'save', '--json'], opts).stdout);
}

/** A started workflow in a repo with modified, staged and untracked files. */
function busyRepo(): string {
  const repo = makeRepo();
  writeFileSync(join(repo, 'tracked.txt'), 'one\n');
  git(repo, ['add', 'tracked.txt']);
  git(repo, ['-c', 'user.name=T', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'tracked']);
  ok(repo, ['start', 'State branch task']);
  writeFileSync(join(repo, 'tracked.txt'), 'two\n'); // modified
  writeFileSync(join(repo, 'staged.txt'), 'staged\n');
  git(repo, ['add', 'staged.txt']); // staged
  writeFileSync(join(repo, 'untracked.txt'), 'new\n'); // untracked
  return repo;
}

describe('state save', () => {
  test('with no git identity: working tree, index, HEAD, config and branches byte-identical; fsck clean; the saves chain', () => {
    const repo = busyRepo();
    const before = gitState(repo);
    const first = saveJson(repo);
    assert.equal(first.changed, true);
    assert.equal(first.parent, null);
    assert.equal(gitState(repo), before, 'state save changed the repository outside .orchestrator/');
    const again = saveJson(repo);
    assert.equal(again.changed, false, 'a save with nothing changed is a no-op');
    assert.equal(again.commit, first.commit);
    ok(repo, ['approve-item', 'user_approval'], NO_IDENTITY);
    const second = saveJson(repo);
    assert.equal(second.changed, true);
    assert.equal(second.parent, first.commit);
    ok(repo, ['complete', 'understand_task'], NO_IDENTITY);
    const third = saveJson(repo);
    assert.equal(third.parent, second.commit);
    assert.equal(gitState(repo), before, 'the repository outside .orchestrator/ is unchanged after three saves');
    const fsck = spawnSync('git', ['fsck', '--strict', '--no-dangling'], { cwd: repo, encoding: 'utf8' });
    assert.equal(fsck.status, 0, fsck.stderr + fsck.stdout);
    const chain = git(repo, ['log', '--format=%H %P|%an <%ae>', 'orchestrator-state']).trim().split('\n');
    assert.deepEqual(chain.map((l) => l.split('|')[0]), [`${third.commit} ${second.commit}`, `${second.commit} ${first.commit}`, `${first.commit} `]);
    assert.ok(chain.every((l) => l.endsWith('|orchestrator <orchestrator@users.noreply.github.com>')));
    const log = JSON.parse(ok(repo, ['state', 'log', '--json']).stdout);
    assert.deepEqual(log.saves.map((s: any) => s.commit), [third.commit, second.commit, first.commit]);
  });

  test('saves what persists and nothing else: no secrets/, cache/, locks/, backups/', () => {
    const repo = busyRepo();
    for (const d of ['secrets', 'cache', 'backups']) {
      mkdirSync(join(repo, '.orchestrator', d), { recursive: true });
      writeFileSync(join(repo, '.orchestrator', d, 'file'), `${d}\n`);
    }
    saveJson(repo);
    const files = git(repo, ['ls-tree', '-r', '--name-only', 'orchestrator-state']).trim().split('\n');
    assert.ok(files.includes('meta.json') && files.includes('current') && files.some((f) => f.endsWith('/state.json')), files.join(' '));
    assert.deepEqual(files.filter((f) => /^(secrets|cache|locks|backups)\//.test(f)), []);
  });

  test('a file that looks like a credential is refused by name (exit 2); nothing reaches the object store', () => {
    const repo = busyRepo();
    saveJson(repo);
    const objectsBefore = git(repo, ['count-objects', '-v']);
    const token = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
    mkdirSync(join(repo, '.orchestrator', 'feedback'), { recursive: true });
    writeFileSync(join(repo, '.orchestrator', 'feedback', 'tool.jsonl'), JSON.stringify({ note: `token ${token}` }) + '\n');
    refuses(repo, ['state', 'save'], 2, [/\.orchestrator\/feedback\/tool\.jsonl/, /GitHub token/, /orchestrator secrets/], NO_IDENTITY);
    assert.equal(git(repo, ['count-objects', '-v']), objectsBefore, 'a refused save wrote objects');
    // Every object the branch reaches is free of the token.
    const all = git(repo, ['rev-list', '--objects', 'orchestrator-state']).trim().split('\n').map((l) => l.split(' ')[0]!);
    for (const oid of all) assert.doesNotMatch(git(repo, ['cat-file', '-p', oid]), /ghp_/);
  });

  test('a big log is stored in segments: one new event stores only the last segment', () => {
    const repo = busyRepo();
    const log = join(sessionDir(repo), 'log.jsonl');
    const line = JSON.stringify({ timestamp: '2026-01-01T00:00:00Z', event_type: 'note', workflow_id: 'wf', phase_id: null, item_id: null, message: 'x'.repeat(200), details: {}, actor: 'test' }) + '\n';
    appendFileSync(log, line.repeat(Math.ceil((3.5 * (1 << 20)) / line.length)));
    saveJson(repo);
    ok(repo, ['complete', 'understand_task'], NO_IDENTITY);
    const before = new Set(git(repo, ['rev-list', '--objects', 'orchestrator-state']).trim().split('\n').map((l) => l.split(' ')[0]));
    const next = saveJson(repo);
    assert.ok(next.bytes_read < 2 * (1 << 20), `read ${next.bytes_read} bytes for one new event`);
    const added = git(repo, ['rev-list', '--objects', 'orchestrator-state']).trim().split('\n').map((l) => l.split(' ')).filter(([oid]) => !before.has(oid));
    const addedBlobs = added.filter(([oid]) => git(repo, ['cat-file', '-t', oid!]).trim() === 'blob');
    const blobBytes = addedBlobs.reduce((n, [oid]) => n + Number(git(repo, ['cat-file', '-s', oid!])), 0);
    assert.ok(blobBytes < 1.2 * (1 << 20), `one event stored ${blobBytes} new blob bytes`);
    // Restore joins the segments back byte for byte.
    const copy = join(tempDir('orch-clone-'), 'c');
    git(tempDir(), ['clone', '-q', repo, copy]);
    git(copy, ['fetch', '-q', 'origin', 'orchestrator-state:orchestrator-state']);
    ok(copy, ['state', 'restore']);
    assert.ok(readFileSync(join(sessionDir(copy), 'log.jsonl')).equals(readFileSync(log)), 'restored log differs');
  });

  test('in a linked worktree: objects and the branch go to the common git directory', () => {
    const repo = busyRepo();
    const wt = join(tempDir('orch-wt-'), 'wt');
    git(repo, ['worktree', 'add', '-q', wt]);
    ok(wt, ['start', 'Worktree task']);
    const s = saveJson(wt);
    assert.equal(git(repo, ['rev-parse', 'orchestrator-state']).trim(), s.commit);
    const fsck = spawnSync('git', ['fsck', '--strict', '--no-dangling'], { cwd: repo, encoding: 'utf8' });
    assert.equal(fsck.status, 0, fsck.stderr);
  });

  test('a branch being moved by someone else (its .lock exists) is a conflict (exit 3), nothing changed', () => {
    const repo = busyRepo();
    saveJson(repo);
    ok(repo, ['complete', 'understand_task'], NO_IDENTITY);
    writeFileSync(join(repo, '.git', 'refs', 'heads', 'orchestrator-state.lock'), '');
    const ref = git(repo, ['rev-parse', 'orchestrator-state']);
    const r = expectCode(runCli(repo, ['state', 'save'], NO_IDENTITY), 3, 'state save with a held ref lock');
    assert.match(r.stderr, /orchestrator-state is being updated by another process/);
    assert.equal(git(repo, ['rev-parse', 'orchestrator-state']), ref);
  });

  test('an invalid state.branch is refused (exit 2)', () => {
    const repo = busyRepo();
    refuses(repo, ['state', 'save'], 2, [/state\.branch "bad\.\.name"/], { env: { ORCHESTRATOR_STATE_BRANCH: 'bad..name' } });
  });
});

describe('state restore', () => {
  test('a fresh clone gets an identical .orchestrator/; newer local work is never overwritten', () => {
    const repo = busyRepo();
    ok(repo, ['approve-item', 'user_approval'], NO_IDENTITY);
    saveJson(repo);
    const copy = join(tempDir('orch-clone-'), 'c');
    git(tempDir(), ['clone', '-q', repo, copy]);
    git(copy, ['fetch', '-q', 'origin', 'orchestrator-state:orchestrator-state']);
    const r = JSON.parse(ok(copy, ['state', 'restore', '--json']).stdout);
    assert.equal(r.restored, true);
    const persisted = (dir: string) => new Map([...snapshotTree(join(dir, '.orchestrator'))].filter(([k]) => !/^(cache|locks|secrets|backups)\//.test(k)));
    assert.deepEqual(diffTrees(persisted(repo), persisted(copy)), []);
    assert.match(ok(copy, ['status']).stdout, /State branch task/);

    // The original moves on and saves; the clone works locally without saving: restore refuses.
    ok(repo, ['complete', 'understand_task'], NO_IDENTITY);
    saveJson(repo);
    git(copy, ['fetch', '-q', 'origin', '+orchestrator-state:orchestrator-state']);
    mkdirSync(join(copy, 'docs'));
    writeFileSync(join(copy, 'docs', 'plan.md'), '# plan\n');
    ok(copy, ['complete', 'initial_plan'], NO_IDENTITY);
    refuses(copy, ['state', 'restore'], 3, [/changed here since its last save/, /state save/]);
  });

  test('with nothing saved yet there is nothing to restore (exit 0, no change)', () => {
    const repo = busyRepo();
    const before = snapshotTree(repo);
    assert.match(ok(repo, ['state', 'restore']).stdout, /Nothing to restore/);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
  });
});

describe('env and automatic saves', () => {
  test('env names the machine and the strategy that follows', () => {
    const repo = busyRepo();
    git(repo, ['remote', 'add', 'origin', 'https://someone:secret-token@example.invalid/org/repo.git']);
    const cases: [Record<string, string>, string, string][] = [
      [{ CLAUDE_CODE_REMOTE: 'true' }, 'claude-code-web', 'contained + state branch'],
      [{ CLAUDE_CODE_WEB: '1' }, 'claude-code-web', 'contained + state branch'],
      [{ CODESPACES: 'true' }, 'codespaces', 'contained + state branch'],
      [{ GITPOD_WORKSPACE_ID: 'abc' }, 'gitpod', 'contained + state branch'],
      [{ GITHUB_ACTIONS: 'true', CI: 'true' }, 'github-actions', 'contained + state branch'],
      [{ CI: 'true' }, 'ci', 'contained + state branch'],
      [{}, 'local', 'contained'],
      [{ ORCHESTRATOR_STATE_AUTO_SAVE: 'true' }, 'local', 'contained + state branch'],
    ];
    for (const [env, kind, strategy] of cases) {
      const e = JSON.parse(ok(repo, ['env', '--json'], { env }).stdout);
      assert.equal(e.environment, kind, JSON.stringify(env));
      assert.equal(e.strategy, strategy, JSON.stringify(env));
    }
    const e = JSON.parse(ok(repo, ['env', '--json'], { env: { GITHUB_TOKEN: 'ghs_x', HOME: '/proc/1/nonexistent' } }).stdout);
    assert.equal(e.remote_url, 'https://***@example.invalid/org/repo.git', 'the token in the remote URL is masked');
    assert.deepEqual(e.token_sources, ['GITHUB_TOKEN']);
    assert.equal(e.home.writable, false);
    assert.equal(e.git.installed, true);
    const text = ok(repo, ['env']).stdout;
    assert.doesNotMatch(text, /secret-token|ghs_x/);
  });

  test('in an ephemeral environment every successful write ends with a save; a failed one does not', () => {
    const repo = busyRepo();
    const env = { CODESPACES: 'true' };
    ok(repo, ['complete', 'understand_task'], { env });
    const first = git(repo, ['rev-parse', 'orchestrator-state']).trim();
    assert.match(git(repo, ['show', 'orchestrator-state:current']), /^\w+$/);
    expectCode(runCli(repo, ['complete', 'initial_plan'], { env }), 1, 'a failing verification');
    assert.equal(git(repo, ['rev-parse', 'orchestrator-state']).trim(), first, 'a failed command saved');
    ok(repo, ['approve-item', 'user_approval'], { env });
    assert.equal(git(repo, ['rev-parse', 'orchestrator-state^']).trim(), first);
    assert.equal(JSON.parse(ok(repo, ['state', 'status', '--json']).stdout).unsaved, false);
    // Locally nothing is saved unless asked.
    const local = busyRepo();
    ok(local, ['complete', 'understand_task']);
    assert.equal(spawnSync('git', ['rev-parse', '--verify', '-q', 'orchestrator-state'], { cwd: local }).status, 1);
  });
});
