// `config get|set|unset|show` as a user runs them: every layer's winner and origin through the
// CLI, edits that keep the user's file, bad input refused with nothing changed, and the one-time
// notice about the Python tool's config files.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { expectCode, makeRepo, ok, refuses, runCli, snapshotTree, diffTrees, tempDir, type CliOptions } from './helpers/cli.ts';

function write(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

function json(repo: string, args: string[], opts: CliOptions = {}): any {
  return JSON.parse(ok(repo, [...args, '--json'], opts).stdout);
}

describe('config show and get: every layer through the CLI', () => {
  test('the same key set in each layer in turn: get and show --effective --origin name the winner', () => {
    const home = tempDir('orch-home-');
    const orchHome = tempDir('orch-global-');
    const repo = makeRepo();
    const env: Record<string, string> = { HOME: home, ORCHESTRATOR_HOME: orchHome };
    const layers: { add: () => void; value: unknown; origin: string; layer: string }[] = [
      { add: () => {}, value: 'orchestrator-state', origin: 'default', layer: 'default' },
      { add: () => write(join(home, '.orchestrator', 'config.yaml'), 'state:\n  branch: py-home\n'), value: 'py-home', origin: `${home}/.orchestrator/config.yaml:2`, layer: 'legacy-global' },
      { add: () => write(join(home, '.config', 'orchestrator', 'config.yaml'), 'state.branch: py-xdg\n'), value: 'py-xdg', origin: `${home}/.config/orchestrator/config.yaml:1`, layer: 'legacy-global' },
      { add: () => ok(repo, ['config', 'set', '--global', 'state.branch', 'global'], { env }), value: 'global', origin: `${orchHome}/config.yaml:2`, layer: 'global' },
      { add: () => write(join(repo, '.orchestrator.yaml'), 'state:\n  branch: py-repo\n'), value: 'py-repo', origin: '.orchestrator.yaml:2', layer: 'legacy-repo' },
      { add: () => write(join(repo, '.orchestrator', 'config.yaml'), '# repo\nstate:\n  branch: repo\n'), value: 'repo', origin: '.orchestrator/config.yaml:3', layer: 'repo' },
      { add: () => (env.ORCHESTRATOR_STATE_BRANCH = 'from-env'), value: 'from-env', origin: 'ORCHESTRATOR_STATE_BRANCH', layer: 'env' },
    ];
    for (const l of layers) {
      l.add();
      const got = json(repo, ['config', 'get', 'state.branch'], { env });
      assert.deepEqual({ value: got.value, origin: got.origin, layer: got.layer }, { value: l.value, origin: l.origin, layer: l.layer }, l.layer);
      const row = json(repo, ['config', 'show', '--effective', '--origin'], { env }).keys.find((k: any) => k.key === 'state.branch');
      assert.deepEqual({ value: row.value, origin: row.origin }, { value: l.value, origin: l.origin });
      const text = ok(repo, ['config', 'get', 'state.branch', '--origin'], { env }).stdout;
      assert.equal(text, `${l.value}\t(${l.origin})\n`);
    }
    const flagged = json(repo, ['config', 'get', 'state.branch', '-c', 'state.branch=from-flag'], { env });
    assert.deepEqual([flagged.value, flagged.origin, flagged.layer], ['from-flag', 'flag', 'flag']);
    refuses(repo, ['status', '-c', 'lock.timeout=soon'], 2, [/-c lock\.timeout=soon: lock\.timeout takes a number of seconds/], { env });
    refuses(repo, ['status', '--config', 'lock'], 2, [/give KEY=VALUE with a known key/], { env });
  });

  test('show lists what some layer sets; --effective every key with its description; --global only the global file', () => {
    const orchHome = tempDir('orch-global-');
    const repo = makeRepo();
    const env = { ORCHESTRATOR_HOME: orchHome };
    assert.match(ok(repo, ['config', 'show'], { env }).stdout, /every key has its default/);
    ok(repo, ['config', 'set', 'lock.timeout', '7'], { env });
    ok(repo, ['config', 'set', '--global', 'state.auto_push', 'yes'], { env });
    const shown = json(repo, ['config', 'show'], { env });
    assert.deepEqual(shown.keys.map((k: any) => [k.key, k.value]), [['lock.timeout', 7], ['state.auto_push', true]]);
    const all = json(repo, ['config', 'show', '--effective'], { env }).keys;
    assert.ok(all.length >= 9 && all.every((k: any) => typeof k.description === 'string' && k.description.length > 10));
    assert.deepEqual(json(repo, ['config', 'show', '--global'], { env }).keys.map((k: any) => k.key), ['state.auto_push']);
    const text = ok(repo, ['config', 'show', '--origin'], { env }).stdout;
    assert.match(text, /^lock\.timeout\s+7\s+\.orchestrator\/config\.yaml:2$/m);
    assert.match(text, /^state\.auto_push\s+true\s+.*config\.yaml:2$/m);
  });

  test('settings.NAME: get exits 1 when no file sets it; set and unset work like any key', () => {
    const repo = makeRepo();
    const r = expectCode(runCli(repo, ['config', 'get', 'settings.test_command']), 1, 'unset setting');
    assert.match(r.stderr, /settings\.test_command is not set in any layer/);
    ok(repo, ['config', 'set', 'settings.test_command', 'npm test -- --quiet']);
    assert.equal(ok(repo, ['config', 'get', 'settings.test_command']).stdout, 'npm test -- --quiet\n');
    ok(repo, ['config', 'unset', 'settings.test_command']);
    expectCode(runCli(repo, ['config', 'get', 'settings.test_command']), 1, 'after unset');
  });
});

describe('config set and unset edit one file and keep the rest of it', () => {
  test('one member of a map key (repos.aliases.NAME) is set, read and removed on its own', () => {
    const repo = makeRepo();
    const file = join(repo, '.orchestrator', 'config.yaml');
    ok(repo, ['config', 'set', 'repos.aliases.web', '../web']);
    ok(repo, ['config', 'set', 'repos.aliases.api.v2', '../api']);
    assert.equal(readFileSync(file, 'utf8'), 'repos:\n  aliases:\n    web: ../web\n    api.v2: ../api\n');
    assert.equal(ok(repo, ['config', 'get', 'repos.aliases.api.v2']).stdout, '../api\n');
    assert.deepEqual(json(repo, ['config', 'get', 'repos.aliases']).value, { web: '../web', 'api.v2': '../api' });
    ok(repo, ['config', 'unset', 'repos.aliases.web']);
    assert.equal(readFileSync(file, 'utf8'), 'repos:\n  aliases:\n    api.v2: ../api\n');
    expectCode(runCli(repo, ['config', 'get', 'repos.aliases.web']), 1, 'removed member');
    ok(repo, ['config', 'unset', 'repos.aliases.api.v2']);
    assert.equal(readFileSync(file, 'utf8'), '');
  });


  test('comments, order and other keys stay; flat and nested spellings are both found', () => {
    const repo = makeRepo();
    const file = join(repo, '.orchestrator', 'config.yaml');
    write(file, '# team settings\nlock.timeout: 3   # short waits\nstate:\n  # where state goes\n  branch: team-state\n');
    ok(repo, ['config', 'set', 'lock.timeout', '12']);
    ok(repo, ['config', 'set', 'state.auto_save', 'true']);
    assert.equal(
      readFileSync(file, 'utf8'),
      '# team settings\nlock.timeout: 12 # short waits\nstate:\n  # where state goes\n  branch: team-state\n  auto_save: true\n',
    );
    const unset = ok(repo, ['config', 'unset', 'state.branch']);
    assert.match(unset.stdout, /state\.branch removed from \.orchestrator\/config\.yaml; it is now orchestrator-state \(from default\)/);
    ok(repo, ['config', 'unset', 'state.auto_save']);
    assert.equal(readFileSync(file, 'utf8'), '# team settings\nlock.timeout: 12 # short waits\n');
    ok(repo, ['config', 'unset', 'lock.timeout']);
    assert.equal(readFileSync(file, 'utf8'), '');
    const again = ok(repo, ['config', 'unset', 'lock.timeout']);
    assert.match(again.stdout, /was not set in \.orchestrator\/config\.yaml; it is 30 \(from default\)/);
  });

  test("a config.yaml with the Python tool's settings at the top: they move under settings: and keep working", () => {
    const repo = makeRepo();
    const file = join(repo, '.orchestrator', 'config.yaml');
    write(file, 'test_command: pytest -q\ncoverage_threshold: 80\n');
    const r = ok(repo, ['config', 'set', 'lock.timeout', '5']);
    assert.match(r.stderr, /moved the Python tool's settings under settings:/);
    assert.equal(readFileSync(file, 'utf8'), 'settings:\n  test_command: pytest -q\n  coverage_threshold: 80\nlock:\n  timeout: 5\n');
    const after = ok(repo, ['config', 'show', '--json']);
    assert.equal(after.stderr, '', 'no unknown-key warnings after the edit');
    assert.deepEqual(JSON.parse(after.stdout).keys.map((k: any) => [k.key, k.value]), [['lock.timeout', 5], ['settings.test_command', 'pytest -q'], ['settings.coverage_threshold', 80]]);
  });

  test('set creates .orchestrator/ (ignored by git) in a repo that has none; --global creates the global file', () => {
    const repo = makeRepo({ commit: true });
    const orchHome = join(tempDir('orch-global-'), 'nested', 'orchestrator');
    ok(repo, ['config', 'set', 'migrate.auto', 'on'], { env: { ORCHESTRATOR_HOME: orchHome } });
    assert.equal(readFileSync(join(repo, '.orchestrator', 'config.yaml'), 'utf8'), 'migrate:\n  auto: true\n');
    assert.ok(existsSync(join(repo, '.orchestrator', 'meta.json')));
    assert.equal(runCli(repo, ['config', 'get', 'migrate.auto']).stdout, 'true\n');
    ok(repo, ['config', 'set', '--global', 'lock.timeout', '2.5'], { env: { ORCHESTRATOR_HOME: orchHome } });
    assert.equal(readFileSync(join(orchHome, 'config.yaml'), 'utf8'), 'lock:\n  timeout: 2.5\n');
  });

  test('an environment variable that still wins is named after set', () => {
    const repo = makeRepo();
    const r = ok(repo, ['config', 'set', 'lock.timeout', '5'], { env: { ORCHESTRATOR_LOCK_TIMEOUT: '9' } });
    assert.match(r.stderr, /lock\.timeout is 9 all the same: ORCHESTRATOR_LOCK_TIMEOUT overrides \.orchestrator\/config\.yaml/);
  });
});

describe('bad input: one line naming the fix, exit 2, every file unchanged', () => {
  test('unknown key, wrong type, missing value, broken YAML in the file being edited', () => {
    const repo = makeRepo();
    ok(repo, ['config', 'set', 'lock.timeout', '4']);
    refuses(repo, ['config', 'set', 'lock.timout', '3'], 2, [/unknown config key "lock\.timout"/, /lock\.timeout/, /config show --effective/]);
    refuses(repo, ['config', 'get', 'nope'], 2, [/unknown config key "nope"/]);
    refuses(repo, ['config', 'set', 'lock.timeout', 'soon'], 2, [/lock\.timeout cannot be "soon": it takes a number of seconds/]);
    refuses(repo, ['config', 'set', 'layout', 'flat'], 2, [/layout cannot be "flat": it takes contained or legacy/]);
    refuses(repo, ['config', 'set', 'state.auto_push', 'maybe'], 2, [/true or false/]);
    refuses(repo, ['config', 'set', 'lock.timeout'], 2, [/usage: orchestrator config set KEY VALUE/]);
    refuses(repo, ['config', 'set', 'settings.a b', 'x'], 2, [/unknown config key "settings\.a b"/]);
    write(join(repo, '.orchestrator', 'config.yaml'), 'lock:\n  timeout: [4\n');
    const before = snapshotTree(repo);
    const r = expectCode(runCli(repo, ['config', 'set', 'lock.timeout', '5']), 2, 'broken YAML');
    assert.match(r.stderr, /orchestrator: error: \.orchestrator\/config\.yaml:\d+: not valid YAML .*fix or delete that line/);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
    expectCode(runCli(repo, ['config', 'unset', 'lock.timeout']), 2, 'unset on broken YAML');
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
  });

  test('an unwritable global directory: set --global exits 4 naming it, nothing written', () => {
    const repo = makeRepo();
    const orchHome = join(tempDir('orch-global-'), 'config-is-a-file');
    writeFileSync(orchHome, 'not a directory');
    const r = expectCode(runCli(repo, ['config', 'set', '--global', 'lock.timeout', '3'], { env: { ORCHESTRATOR_HOME: orchHome } }), 4, 'global dir is a file');
    assert.match(r.stderr, /config-is-a-file/);
    assert.equal(readFileSync(orchHome, 'utf8'), 'not a directory');
  });
});

test("the Python tool's global config file is named once per repo, by a command that writes", () => {
  const home = tempDir('orch-home-');
  write(join(home, '.orchestrator', 'config.yaml'), 'test_command: make check\n');
  const repo = makeRepo();
  const env = { HOME: home };
  const notice = /notice: also reading the Python tool's .*\/\.orchestrator\/config\.yaml/;
  const before = snapshotTree(repo);
  assert.doesNotMatch(ok(repo, ['config', 'show'], { env }).stderr, notice, 'reading commands stay quiet');
  assert.deepEqual(diffTrees(before, snapshotTree(repo)), [], 'config show wrote something');
  assert.match(ok(repo, ['start', 'First'], { env }).stderr, notice);
  assert.doesNotMatch(ok(repo, ['status'], { env }).stderr, notice);
  assert.doesNotMatch(ok(repo, ['session', 'new'], { env }).stderr, notice);
  assert.equal(ok(repo, ['config', 'get', 'settings.test_command'], { env }).stdout, 'make check\n');
});
