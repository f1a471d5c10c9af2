// state push / pull against a real git smart-HTTP server on 127.0.0.1 (git http-backend behind
// Basic auth): no remote is added to .git/config, fetches are never shallow, diverged saves are
// merged, concurrent pushers lose nothing, and a 403 says which settings change the branch.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startGitHttpServer, type GitHttpServer } from './helpers/git-http-server.ts';
import { diffTrees, expectCode, git, makeRepo, ok, runCliAsync, sessionDir, snapshotTree, type CliOptions } from './helpers/cli.ts';

let server: GitHttpServer;
before(async () => {
  server = await startGitHttpServer({ refuseRefs: /refs\/heads\/forbidden/ });
});
after(async () => {
  await server.close();
});

const TOKEN: CliOptions = { env: { ORCHESTRATOR_GIT_TOKEN: 'test-token' } };

/**
 * Network commands run asynchronously: the server lives in this process, and a spawnSync would
 * stop it from answering.
 */
async function net(cwd: string, args: string[], code = 0, opts: CliOptions = TOKEN) {
  return expectCode(await runCliAsync(cwd, args, opts), code, `orchestrator ${args.join(' ')}`);
}

/** A repo whose origin is a fresh bare repo on the server, with the workflow started. */
function repoWithRemote(name: string, task = 'Remote task'): string {
  server.createRepo(name);
  const repo = makeRepo();
  git(repo, ['remote', 'add', 'origin', `${server.url}/${name}.git`]);
  ok(repo, ['start', task]);
  return repo;
}

/** A second machine: an empty repo with the same origin (like a fresh clone of the code). */
function otherMachine(name: string): string {
  const repo = makeRepo();
  git(repo, ['remote', 'add', 'origin', `${server.url}/${name}.git`]);
  return repo;
}

const persisted = (dir: string) => new Map([...snapshotTree(join(dir, '.orchestrator'))].filter(([k]) => !/^(cache|locks|secrets|backups)\//.test(k)));
const configOf = (repo: string) => readFileSync(join(repo, '.git', 'config'), 'utf8');

describe('state push and pull', () => {
  test('push, then pull + restore on another machine gives an identical .orchestrator/; .git/config never changes', async () => {
    const a = repoWithRemote('roundtrip');
    const configA = configOf(a);
    ok(a, ['state', 'save']);
    const pushed = JSON.parse((await net(a, ['state', 'push', '--json'])).stdout);
    assert.equal(pushed.pushed, git(a, ['rev-parse', 'orchestrator-state']).trim());
    assert.equal(configOf(a), configA, 'push changed .git/config');
    assert.equal(existsSync(join(a, '.git', 'shallow')), false);
    assert.equal(git(a, ['for-each-ref', '--format=%(refname)', 'refs/remotes']).trim(), '', 'no remote-tracking branch in refs/remotes');

    const b = otherMachine('roundtrip');
    const configB = configOf(b);
    const pull = JSON.parse((await net(b, ['state', 'pull', '--json'])).stdout);
    assert.equal(pull.action, 'created');
    ok(b, ['state', 'restore']);
    assert.deepEqual(diffTrees(persisted(a), persisted(b)), []);
    assert.equal(configOf(b), configB, 'pull changed .git/config');
    assert.equal(existsSync(join(b, '.git', 'shallow')), false, 'a shallow fetch');
    const fsck = git(b, ['fsck', '--strict', '--no-dangling']);
    assert.equal(fsck.trim(), '');
    assert.match(ok(b, ['status']).stdout, /Remote task/);
  });

  test('diverged saves merge: both sessions survive, and a push after it is a fast-forward', async () => {
    const a = repoWithRemote('diverge', 'Task on A');
    ok(a, ['state', 'save']);
    await net(a, ['state', 'push']);
    const b = otherMachine('diverge');
    await net(b, ['state', 'pull']);
    ok(b, ['state', 'restore']);
    ok(b, ['session', 'new']);
    ok(b, ['start', 'Task on B']);
    ok(b, ['state', 'save']);
    await net(b, ['state', 'push']);
    // A saved meanwhile, without pulling: its push must fetch, merge and retry.
    ok(a, ['complete', 'understand_task']);
    ok(a, ['state', 'save']);
    const r = JSON.parse((await net(a, ['state', 'push', '--json'])).stdout);
    assert.equal(r.merged, true);
    const head = git(a, ['rev-parse', 'orchestrator-state']).trim();
    assert.equal(git(a, ['rev-list', '--parents', '-n', '1', head]).trim().split(' ').length, 3, 'a merge commit');
    const files = git(a, ['ls-tree', '-r', '--name-only', head]).split('\n');
    const sessions = new Set(files.filter((f) => f.startsWith('sessions/')).map((f) => f.split('/')[1]));
    assert.equal(sessions.size, 2, 'both sessions are on the branch');
    // Neither side changed the other's session: no revision had to be set aside.
    assert.deepEqual(files.filter((f) => f.includes('/merged/')), []);
    // Both restore the merge (neither changed anything since its last save) and hold both sessions.
    ok(a, ['state', 'restore']);
    await net(b, ['state', 'pull']);
    ok(b, ['state', 'restore']);
    assert.deepEqual(diffTrees(persisted(a), persisted(b)).filter((d) => !d.endsWith('current')), []);
  });

  test('HTTP 403 on the branch says which settings change it (exit 3); another branch name works', async () => {
    const a = repoWithRemote('refused');
    const env = { ...TOKEN.env, ORCHESTRATOR_STATE_BRANCH: 'forbidden' };
    ok(a, ['state', 'save'], { env });
    const before = snapshotTree(a);
    const r = await net(a, ['state', 'push'], 3, { env });
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    for (const p of [/HTTP 403/, /state\.branch/, /state\.remote/, /claude\//]) assert.match(r.stderr, p);
    assert.deepEqual(diffTrees(before, snapshotTree(a)), []);
    ok(a, ['state', 'save'], { env: { ...env, ORCHESTRATOR_STATE_BRANCH: 'claude/session-1' } });
    await net(a, ['state', 'push'], 0, { env: { ...env, ORCHESTRATOR_STATE_BRANCH: 'claude/session-1' } });
  });

  test('a wrong token is refused (exit 3) naming the variables to set; no server is exit 4', async () => {
    const a = repoWithRemote('badtoken');
    ok(a, ['state', 'save']);
    const r = await net(a, ['state', 'push'], 3, { env: { ORCHESTRATOR_GIT_TOKEN: 'wrong' } });
    assert.match(r.stderr, /HTTP 401/);
    assert.match(r.stderr, /ORCHESTRATOR_GIT_TOKEN/);
    assert.doesNotMatch(r.stderr, /wrong/, 'the token is never printed');
    const gone = makeRepo();
    git(gone, ['remote', 'add', 'origin', 'http://127.0.0.1:9/nothing.git']);
    ok(gone, ['start', 'Offline']);
    ok(gone, ['state', 'save']);
    await net(gone, ['state', 'push'], 4);
  });

  test('four clones saving and pushing 25 times each, all at once: every event of every clone is on the remote once', async () => {
    const name = 'race';
    server.createRepo(name);
    const clones = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const repo = otherMachine(name);
        ok(repo, ['start', `Clone ${i}`]);
        return repo;
      }),
    );
    const env = { ...TOKEN.env, ORCHESTRATOR_LOCK_TIMEOUT: '60' };
    await Promise.all(
      clones.map(async (repo, i) => {
        const log = join(sessionDir(repo), 'log.jsonl');
        for (let n = 0; n < 25; n++) {
          // One new event per round, as a command would append it.
          appendFileSync(log, JSON.stringify({ timestamp: new Date().toISOString(), event_type: 'test_event', workflow_id: null, phase_id: null, item_id: null, message: `clone ${i} event ${n}`, details: {}, actor: 'test' }) + '\n');
          expectCode(await runCliAsync(repo, ['state', 'save'], { env }), 0, `clone ${i} save ${n}`);
          expectCode(await runCliAsync(repo, ['state', 'push'], { env }), 0, `clone ${i} push ${n}`);
        }
      }),
    );
    const check = otherMachine(name);
    await net(check, ['state', 'pull']);
    ok(check, ['state', 'restore']);
    for (const [i, repo] of clones.entries()) {
      const sid = readFileSync(join(repo, '.orchestrator', 'current'), 'utf8').trim();
      const there = readFileSync(join(check, '.orchestrator', 'sessions', sid, 'log.jsonl'), 'utf8');
      assert.equal(there, readFileSync(join(repo, '.orchestrator', 'sessions', sid, 'log.jsonl'), 'utf8'), `clone ${i}'s log on the remote`);
      const events = there.split('\n').filter((l) => l.includes('test_event')).map((l) => JSON.parse(l).message);
      assert.deepEqual(events, Array.from({ length: 25 }, (_, n) => `clone ${i} event ${n}`), `clone ${i}: every event once, in order`);
    }
  });
});

describe('session start and automatic pushes', () => {
  test('hooks session-start on a new machine pulls, restores and shows the workflow', async () => {
    const a = repoWithRemote('hook', 'Task from yesterday');
    ok(a, ['state', 'save']);
    await net(a, ['state', 'push']);
    const b = otherMachine('hook');
    const r = await net(b, ['hooks', 'session-start']);
    assert.match(r.stdout, /Restored \d+ files/);
    assert.match(r.stdout, /Task from yesterday/);
    assert.equal(r.stderr, '');
    // Without a server the hook still exits 0, saying what failed, and still shows the workflow.
    git(b, ['remote', 'set-url', 'origin', 'http://127.0.0.1:9/gone.git']);
    const offline = await net(b, ['hooks', 'session-start']);
    assert.match(offline.stdout, /Task from yesterday/);
    assert.match(offline.stderr, /state pull: cannot reach/);
  });

  test('state.auto_push pushes after every write; a failed push is a notice that status repeats', async () => {
    const a = repoWithRemote('autopush', 'Auto push');
    const env = { ...TOKEN.env, ORCHESTRATOR_STATE_AUTO_SAVE: 'true', ORCHESTRATOR_STATE_AUTO_PUSH: 'true' };
    await net(a, ['complete', 'understand_task'], 0, { env });
    // Read the server's repository directly: a git client over HTTP would block this process's server.
    const remote = git(join(server.root, 'autopush.git'), ['rev-parse', 'orchestrator-state']).trim();
    assert.equal(remote, git(a, ['rev-parse', 'orchestrator-state']).trim(), 'the save reached the remote');
    git(a, ['remote', 'set-url', 'origin', 'http://127.0.0.1:9/gone.git']);
    const r = await net(a, ['approve-item', 'user_approval'], 0, { env });
    assert.match(r.stderr, /automatic push of the state branch failed/);
    const s = await net(a, ['status'], 0, { env: {} });
    assert.match(s.stderr, /the last automatic push of the state branch failed/);
  });
});
