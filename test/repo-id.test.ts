// The repo id's URL normalization: every form of one repository's origin gives one id, and
// different repositories never share one. Also the registry's bound (pure functions).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { idFromRemote, normalizeRemoteUrl, withoutCredentials } from '../src/repos/repo-id.ts';
import { MAX_REPOS, withRepoSeen, type Registry } from '../src/repos/registry.ts';

const SAME_REPO: Record<string, string[]> = {
  'github.com/owner/repo': [
    'https://github.com/owner/repo',
    'https://github.com/owner/repo.git',
    'https://github.com/owner/repo/',
    'https://github.com/owner/repo.git/',
    'https://GitHub.COM/Owner/Repo.git',
    'http://github.com/owner/repo',
    'https://github.com:443/owner/repo',
    'https://user:ghp_secret@github.com/owner/repo.git',
    'https://x-access-token:abc@github.com/owner/repo',
    'git@github.com:owner/repo.git',
    'git@github.com:/owner/repo.git',
    'github.com:owner/repo',
    'ssh://git@github.com/owner/repo.git',
    'ssh://git@github.com:22/owner/repo',
    'ssh://git@github.com:2222/owner/repo',
    'git+ssh://git@github.com/owner/repo',
    'git://github.com/owner/repo.git',
    'https://github.com//owner//repo',
    '  https://github.com/owner/repo.git\n',
    // Claude Code on the web: a local proxy on a new port every session.
    'http://local_proxy@127.0.0.1:48052/git/owner/repo',
    'http://local_proxy@127.0.0.1:39717/git/Owner/Repo',
  ],
  'gitlab.example.com/Group/Sub/Repo': [
    'https://gitlab.example.com/Group/Sub/Repo.git',
    'git@gitlab.example.com:Group/Sub/Repo.git',
    'ssh://git@GITLAB.example.com:2222/Group/Sub/Repo',
  ],
  'git.example.com:8443/team/app': ['https://git.example.com:8443/team/app.git', 'https://token@git.example.com:8443/team/app'],
  '127.0.0.1:8123/repo': ['http://127.0.0.1:8123/repo.git'],
  '[::1]:9000/x/y': ['http://[::1]:9000/x/y.git'],
  'host.example/~user/repo': ['ssh://user@host.example/~user/repo.git', 'user@host.example:~user/repo.git'],
  'file:/srv/git/repo': ['/srv/git/repo.git', '/srv/git/repo/', 'file:///srv/git/repo.git'],
  'file:../sibling': ['../sibling.git', '../sibling'],
};

describe('normalizeRemoteUrl', () => {
  for (const [normal, forms] of Object.entries(SAME_REPO)) {
    test(normal, () => {
      for (const url of forms) assert.equal(normalizeRemoteUrl(url), normal, url);
      const ids = new Set(forms.map(idFromRemote));
      assert.equal(ids.size, 1, `one id for every form of ${normal}`);
      assert.match([...ids][0]!, /^r_[0-9a-f]{16}$/);
    });
  }

  test('different repositories get different ids', () => {
    const ids = Object.values(SAME_REPO).map((forms) => idFromRemote(forms[0]!));
    assert.equal(new Set(ids).size, ids.length);
    // Path case matters outside github.com; different owners, ports or hosts are different repos.
    const distinct = [
      'https://gitlab.example.com/group/sub/repo',
      'https://gitlab.example.com/Group/Sub/Repo',
      'https://github.com/owner/repo2',
      'https://github.com/other/repo',
      'https://git.example.com:8444/team/app',
      'https://gitlab.com/owner/repo',
      'http://127.0.0.1:8124/repo.git',
      // A loopback URL without the proxy's /git/OWNER/REPO shape stays what it is.
      'http://127.0.0.1:48052/owner/repo',
    ];
    assert.equal(new Set(distinct.map(normalizeRemoteUrl)).size, distinct.length);
    assert.ok(!distinct.map(normalizeRemoteUrl).includes('github.com/owner/repo'));
  });

  test('no URL, no id', () => {
    assert.equal(normalizeRemoteUrl(''), null);
    assert.equal(normalizeRemoteUrl('   '), null);
    assert.equal(idFromRemote(''), null);
  });

  test('credentials never reach a file', () => {
    assert.equal(withoutCredentials('https://user:ghp_secret@github.com/o/r.git'), 'https://github.com/o/r.git');
    assert.equal(withoutCredentials('http://local_proxy@127.0.0.1:1/git/o/r'), 'http://127.0.0.1:1/git/o/r');
    assert.equal(withoutCredentials('git@github.com:o/r.git'), 'git@github.com:o/r.git');
  });
});

describe('repos.json bound', () => {
  test(`keeps the ${MAX_REPOS} most recently seen repos; one entry per root; first_seen survives`, () => {
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
    let reg: Registry = { version: 1, repos: [] };
    for (let i = 0; i < MAX_REPOS; i++) reg = withRepoSeen(reg, { root: `/r/${i}`, repo_id: `r_${i}` }, at(i));
    assert.equal(reg.repos.length, MAX_REPOS);
    // /r/0 is seen again: it becomes the newest; then a new repo pushes out the oldest, /r/1.
    reg = withRepoSeen(reg, { root: '/r/0', repo_id: 'r_0' }, at(MAX_REPOS));
    reg = withRepoSeen(reg, { root: '/r/new', repo_id: 'r_new' }, at(MAX_REPOS + 1));
    assert.equal(reg.repos.length, MAX_REPOS);
    assert.deepEqual(reg.repos.slice(0, 2).map((r) => r.root), ['/r/new', '/r/0']);
    assert.equal(reg.repos.find((r) => r.root === '/r/0')!.first_seen, at(0));
    assert.ok(!reg.repos.some((r) => r.root === '/r/1'), 'the least recently seen repo was dropped');
    assert.ok(reg.repos.some((r) => r.root === '/r/2'));
    assert.equal(new Set(reg.repos.map((r) => r.root)).size, MAX_REPOS);
  });
});
