// The layered configuration (CONTRACT §6): each layer beats the ones below it and says so; bad
// files warn and never stop a command; the Python tool's settings overrides keep working.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../src/config/load.ts';
import { RepoPaths } from '../src/store/paths.ts';
import { diffTrees, expectCode, makeRepo, ok, readJson, refuses, repoFromFixture, runCli, sessionDir, snapshotTree, tempDir } from './helpers/cli.ts';

function write(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

describe('layers', () => {
  test('the same key in every layer: the highest layer wins and is named as the origin', () => {
    const home = tempDir('orch-home-');
    const orchHome = tempDir('orch-global-');
    const repo = makeRepo();
    const paths = new RepoPaths(repo);
    const env: NodeJS.ProcessEnv = { HOME: home, ORCHESTRATOR_HOME: orchHome };
    // Lowest first: each row adds one layer that must beat everything before it.
    const layers: { name: string; add: () => void; origin: string | RegExp }[] = [
      { name: 'default', add: () => {}, origin: 'default' },
      { name: "the Python tool's ~/.orchestrator/config.yaml", add: () => write(join(home, '.orchestrator', 'config.yaml'), 'lock:\n  timeout: 1\n'), origin: `${home}/.orchestrator/config.yaml:2` },
      { name: "the Python tool's ~/.config/orchestrator/config.yaml", add: () => write(join(home, '.config', 'orchestrator', 'config.yaml'), 'lock.timeout: 2\n'), origin: `${home}/.config/orchestrator/config.yaml:1` },
      { name: 'global config.yaml ($ORCHESTRATOR_HOME)', add: () => write(join(orchHome, 'config.yaml'), '# global\nlock:\n  timeout: 3\n'), origin: `${orchHome}/config.yaml:3` },
      { name: "the repo's legacy .orchestrator.yaml", add: () => write(join(repo, '.orchestrator.yaml'), 'test_command: pytest\nlock.timeout: 4\n'), origin: '.orchestrator.yaml:2' },
      { name: 'repo .orchestrator/config.yaml', add: () => write(join(repo, '.orchestrator', 'config.yaml'), 'lock:\n  timeout: 5\n'), origin: '.orchestrator/config.yaml:2' },
      { name: 'ORCHESTRATOR_LOCK_TIMEOUT', add: () => (env.ORCHESTRATOR_LOCK_TIMEOUT = '6'), origin: 'ORCHESTRATOR_LOCK_TIMEOUT' },
    ];
    for (const [i, layer] of layers.entries()) {
      layer.add();
      const c = loadConfig(paths, env);
      assert.deepEqual(c.warnings, [], layer.name);
      const v = c.values.get('lock.timeout')!;
      assert.equal(v.value, i === 0 ? 30 : i, `${layer.name}: value`);
      assert.equal(v.origin, layer.origin, `${layer.name}: origin`);
    }
    const flagged = loadConfig(paths, env, { 'lock.timeout': 7 }).values.get('lock.timeout')!;
    assert.deepEqual(flagged, { value: 7, origin: 'flag', layer: 'flag' });
  });

  test('XDG_CONFIG_HOME places the global file; without ORCHESTRATOR_HOME ~/.config/orchestrator is the global file itself', () => {
    const home = tempDir('orch-home-');
    const xdg = tempDir('orch-xdg-');
    write(join(xdg, 'orchestrator', 'config.yaml'), 'state:\n  branch: from-xdg\n');
    write(join(home, '.config', 'orchestrator', 'config.yaml'), 'state:\n  branch: from-home\n');
    assert.equal(loadConfig(null, { HOME: home, XDG_CONFIG_HOME: xdg }).get('state.branch'), 'from-xdg');
    const c = loadConfig(null, { HOME: home });
    assert.equal(c.get('state.branch'), 'from-home');
    assert.deepEqual(c.files.map((f) => f.kind), ['global']);
  });

  test('an environment variable of the wrong type is refused (exit 2) naming the variable and a valid value', () => {
    const repo = makeRepo();
    for (const [name, raw, want] of [
      ['ORCHESTRATOR_LOCK_TIMEOUT', 'soon', /a number of seconds/],
      ['ORCHESTRATOR_MIGRATE_AUTO', 'maybe', /true or false/],
      ['ORCHESTRATOR_LAYOUT', 'flat', /contained or legacy/],
    ] as const) {
      assert.throws(() => loadConfig(new RepoPaths(repo), { HOME: repo, [name]: raw }), (e: Error) => e.message.includes(`${name}="${raw}"`) && want.test(e.message));
      refuses(repo, ['status'], 2, [new RegExp(`${name}="${raw}"`), want], { env: { [name]: raw } });
    }
  });
});

describe('files that are wrong', () => {
  test('unknown keys, wrong types and broken YAML are warnings naming file, line and key; the command still works', () => {
    const repo = makeRepo();
    ok(repo, ['start', 'Config warnings']);
    write(join(repo, '.orchestrator', 'config.yaml'), 'layout: contained\nlock:\n  timeout: soon\n  spin: 3\nsettings:\n  deep: {a: 1}\n');
    const before = snapshotTree(repo);
    const r = expectCode(runCli(repo, ['status']), 0, 'status with a bad config');
    assert.match(r.stderr, /\.orchestrator\/config\.yaml:3: lock\.timeout cannot be "soon", it takes a number of seconds, e\.g\. 30; it stays 30 \(from default\)/);
    assert.match(r.stderr, /\.orchestrator\/config\.yaml:4: unknown key "lock\.spin"/);
    assert.match(r.stderr, /\.orchestrator\/config\.yaml:6: setting deep must be a single value/);
    assert.equal(r.stderr.trimEnd().split('\n').length, 3, r.stderr);
    write(join(repo, '.orchestrator', 'config.yaml'), 'layout: [contained\n');
    const y = expectCode(runCli(repo, ['status', '--json']), 0, 'status with broken YAML');
    assert.match(y.stderr, /\.orchestrator\/config\.yaml:\d+: not valid YAML/);
    JSON.parse(y.stdout);
    write(join(repo, '.orchestrator', 'config.yaml'), 'layout: contained\nlock:\n  timeout: soon\n  spin: 3\nsettings:\n  deep: {a: 1}\n');
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), [], 'reading the config changed files');
  });
});

describe('settings overrides ({{var}} values)', () => {
  const workflow = [
    'name: Settings',
    'settings:',
    '  test_command: "false"',
    'phases:',
    '  - id: TEST',
    '    name: Test',
    '    items:',
    '      - id: run_tests',
    '        name: Run the tests',
    '        verification:',
    '          type: command',
    '          command: "{{test_command}}"',
    '',
  ].join('\n');

  for (const [where, file, text] of [
    ['.orchestrator/config.yaml settings:', join('.orchestrator', 'config.yaml'), 'settings:\n  test_command: "true"\n'],
    ['a config.yaml migrated from .orchestrator.yaml', join('.orchestrator', 'config.yaml'), 'test_command: "true"\nbuild_command: "true"\n'],
  ] as const) {
    test(`${where} overrides the workflow's settings`, () => {
      const repo = makeRepo();
      writeFileSync(join(repo, 'workflow.yaml'), workflow);
      ok(repo, ['start', 'Override']);
      refuses(repo, ['complete', 'run_tests'], 1, [/run_tests/]);
      write(join(repo, file), text);
      const r = ok(repo, ['complete', 'run_tests']);
      assert.equal(r.stderr.includes('warning'), false, r.stderr);
      // The override applies when checks run; the state keeps the workflow's own settings.
      assert.equal(readJson(join(sessionDir(repo), 'state.json')).workflow_definition.settings.test_command, 'false');
    });
  }
});

test("the Python tool's .orchestrator.yaml is read as settings overrides, our keys in it as config", () => {
  const repo = makeRepo();
  writeFileSync(join(repo, '.orchestrator.yaml'), '# Override test command\ntest_command: "true"\nbuild_command: make\nlayout: legacy\n');
  const c = loadConfig(new RepoPaths(repo), { HOME: repo });
  assert.deepEqual(c.warnings, []);
  assert.deepEqual(c.settings.get('test_command'), { value: 'true', origin: '.orchestrator.yaml:2', layer: 'legacy-repo' });
  assert.equal(c.settings.get('build_command')?.value, 'make');
  assert.deepEqual(c.values.get('layout'), { value: 'legacy', origin: '.orchestrator.yaml:4', layer: 'legacy-repo' });
});

describe('migrate.auto and layout from config files', () => {
  test('migrate: {auto: true} in the global config migrates a legacy repo before a write', () => {
    const repo = repoFromFixture('v2-root-small');
    const orchHome = tempDir('orch-global-');
    write(join(orchHome, 'config.yaml'), 'migrate:\n  auto: true\n');
    const r = ok(repo, ['skip', 'risk_analysis', '--reason', 'not needed for this change'], { env: { ORCHESTRATOR_HOME: orchHome } });
    assert.match(r.stderr, /migrate\.auto \(.*config\.yaml:2\): migrated 2 legacy files/);
    assert.equal(readJson(join(repo, '.orchestrator', 'migration.json')).status, 'done');
    assert.equal(readJson(join(sessionDir(repo), 'state.json')).phases.PLAN.items.risk_analysis.status, 'skipped');
  });

  test('layout: legacy in the global config keeps writing the legacy files in place', () => {
    const repo = repoFromFixture('v2-root-small');
    const orchHome = tempDir('orch-global-');
    write(join(orchHome, 'config.yaml'), 'layout: legacy\n');
    ok(repo, ['skip', 'risk_analysis', '--reason', 'not needed for this change'], { env: { ORCHESTRATOR_HOME: orchHome } });
    assert.equal(readJson(join(repo, '.workflow_state.json')).phases.PLAN.items.risk_analysis.status, 'skipped');
    assert.equal(existsSync(join(repo, '.orchestrator', 'sessions')), false);
  });
});
