// `hooks install|uninstall|status|session-start`, driven through the built CLI in real git repos:
// the user's .claude/settings.json keeps every other key and hook, a second install changes no
// byte, a file we cannot read is refused untouched, and session-start never fails a session.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BIN, cliEnv, diffTrees, expectCode, makeRepo, ok, readJson, refuses, runCli, snapshotTree } from './helpers/cli.ts';

const OURS = 'orchestrator hooks session-start';
const ourGroup = (command = OURS) => ({ matcher: 'startup|resume', hooks: [{ type: 'command', command }] });

const settingsOf = (repo: string) => join(repo, '.claude', 'settings.json');

function writeSettings(repo: string, text: string): void {
  mkdirSync(join(repo, '.claude'), { recursive: true });
  writeFileSync(settingsOf(repo), text);
}

/** A settings.json as users have them: other keys, another SessionStart hook, a PreToolUse hook. */
const USER_SETTINGS = {
  permissions: { allow: ['Bash(npm test:*)'], deny: [] },
  env: { FOO: '1' },
  hooks: {
    PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: './scripts/check-bash.sh' }] }],
    SessionStart: [{ matcher: 'startup', hooks: [{ type: 'command', command: 'echo hello' }] }],
  },
  model: 'opus',
};

const json = (repo: string, args: string[]) => JSON.parse(ok(repo, [...args, '--json']).stdout);

describe('hooks install', () => {
  test('creates .claude/settings.json with our hook, 2-space JSON, trailing newline, mode 0644', () => {
    const repo = makeRepo();
    const r = json(repo, ['hooks', 'install']);
    assert.deepEqual(r, { ok: true, file: '.claude/settings.json', changed: true, installed: true, command: OURS, replaced: null });
    const text = readFileSync(settingsOf(repo), 'utf8');
    assert.equal(text, JSON.stringify({ hooks: { SessionStart: [ourGroup()] } }, null, 2) + '\n');
    assert.equal(statSync(settingsOf(repo)).mode & 0o777, 0o644);
  });

  test('merges: every other key and hook is kept, ours is appended', () => {
    const repo = makeRepo();
    writeSettings(repo, JSON.stringify(USER_SETTINGS, null, 2) + '\n');
    ok(repo, ['hooks', 'install']);
    const after = readJson(settingsOf(repo));
    const { hooks, ...rest } = after;
    const { hooks: userHooks, ...userRest } = USER_SETTINGS;
    assert.deepEqual(rest, userRest);
    assert.deepEqual(hooks.PreToolUse, userHooks.PreToolUse);
    assert.deepEqual(hooks.SessionStart, [...userHooks.SessionStart, ourGroup()]);
  });

  test('a second install changes no byte', () => {
    const repo = makeRepo();
    writeSettings(repo, JSON.stringify(USER_SETTINGS, null, 2) + '\n');
    ok(repo, ['hooks', 'install']);
    const before = snapshotTree(repo);
    const r = json(repo, ['hooks', 'install']);
    assert.equal(r.changed, false);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
  });

  test('a different --command replaces ours in place: still one entry', () => {
    const repo = makeRepo();
    writeSettings(repo, JSON.stringify(USER_SETTINGS, null, 2) + '\n');
    ok(repo, ['hooks', 'install']);
    const r = json(repo, ['hooks', 'install', '--command', 'npx orchestrator']);
    assert.equal(r.command, 'npx orchestrator hooks session-start');
    assert.equal(r.replaced, OURS);
    const groups = readJson(settingsOf(repo)).hooks.SessionStart;
    assert.deepEqual(groups, [...USER_SETTINGS.hooks.SessionStart, ourGroup('npx orchestrator hooks session-start')]);
  });

  test('the default command: node on a bundle inside the repo, else bootstrap.sh, else orchestrator', () => {
    const repo = makeRepo();
    mkdirSync(join(repo, 'tools'));
    copyFileSync(BIN, join(repo, 'tools', 'orchestrator.js'));
    const copy = spawnSync(process.execPath, ['tools/orchestrator.js', 'hooks', 'install', '--json'], { cwd: repo, env: cliEnv(), encoding: 'utf8' });
    assert.equal(copy.status, 0, copy.stderr);
    assert.equal(JSON.parse(copy.stdout).command, 'node "$CLAUDE_PROJECT_DIR/tools/orchestrator.js" hooks session-start');

    const other = makeRepo();
    const base = 'https://example.com/orchestrator/v0.1.0';
    const r = JSON.parse(ok(other, ['hooks', 'install', '--json'], { env: { ORCHESTRATOR_BASE_URL: base } }).stdout);
    assert.equal(r.command, `curl -fsSL ${base}/bootstrap.sh | ORCHESTRATOR_BASE_URL=${base} sh -s -- hooks session-start`);
  });

  test('a corrupt settings.json is refused (exit 2), naming the file, changing nothing', () => {
    const repo = makeRepo();
    writeSettings(repo, '{"hooks": [');
    refuses(repo, ['hooks', 'install'], 2, [/\.claude\/settings\.json/, /not valid JSON/]);
    refuses(repo, ['hooks', 'uninstall'], 2, [/\.claude\/settings\.json/]);
  });

  test('hooks.SessionStart as an object (or hooks as an array) is refused unchanged', () => {
    const repo = makeRepo();
    writeSettings(repo, JSON.stringify({ hooks: { SessionStart: { matcher: 'startup', hooks: [] } } }, null, 2) + '\n');
    refuses(repo, ['hooks', 'install'], 2, [/\.claude\/settings\.json/, /hooks\.SessionStart.+not an array/]);
    writeSettings(repo, '{"hooks": []}\n');
    refuses(repo, ['hooks', 'install'], 2, [/\.claude\/settings\.json/, /"hooks" is not an object/]);
  });

  test('an empty --command is a usage error', () => {
    const repo = makeRepo();
    refuses(repo, ['hooks', 'install', '--command', ' '], 2, [/--command/]);
  });
});

describe('hooks uninstall and status', () => {
  test('uninstall removes only ours; the other hooks stay deep-equal', () => {
    const repo = makeRepo();
    writeSettings(repo, JSON.stringify(USER_SETTINGS, null, 2) + '\n');
    ok(repo, ['hooks', 'install']);
    const r = json(repo, ['hooks', 'uninstall']);
    assert.deepEqual(r, { ok: true, file: '.claude/settings.json', changed: true, removed: [OURS] });
    assert.deepEqual(readJson(settingsOf(repo)), USER_SETTINGS);

    const before = snapshotTree(repo);
    const again = json(repo, ['hooks', 'uninstall']);
    assert.equal(again.changed, false);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
  });

  test('uninstall drops a SessionStart array and hooks object left empty', () => {
    const repo = makeRepo();
    writeSettings(repo, '{\n  "model": "opus"\n}\n');
    ok(repo, ['hooks', 'install']);
    ok(repo, ['hooks', 'uninstall']);
    assert.deepEqual(readJson(settingsOf(repo)), { model: 'opus' });
  });

  test('uninstall without a settings file: exit 0, nothing created', () => {
    const repo = makeRepo();
    const before = snapshotTree(repo);
    assert.equal(json(repo, ['hooks', 'uninstall']).changed, false);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
  });

  test('status --json before and after install', () => {
    const repo = makeRepo();
    assert.deepEqual(json(repo, ['hooks', 'status']), { ok: true, file: '.claude/settings.json', exists: false, installed: false, command: null });
    ok(repo, ['hooks', 'install', '--command', 'node tools/o.js']);
    assert.deepEqual(json(repo, ['hooks', 'status']), {
      ok: true,
      file: '.claude/settings.json',
      exists: true,
      installed: true,
      command: 'node tools/o.js hooks session-start',
    });
    assert.match(ok(repo, ['hooks', 'status']).stdout, /^installed in \.claude\/settings\.json: node tools\/o\.js hooks session-start\n$/);
  });
});

describe('hooks session-start', () => {
  test('in a repo without orchestrator state: exit 0, no output, no file written', () => {
    const repo = makeRepo();
    const before = snapshotTree(repo);
    const r = expectCode(runCli(repo, ['hooks', 'session-start']), 0);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
  });

  test('after start: exit 0, the status with the task', () => {
    const repo = makeRepo();
    ok(repo, ['start', 'Wire the payment webhook']);
    const r = expectCode(runCli(repo, ['hooks', 'session-start']), 0);
    assert.match(r.stdout, /Wire the payment webhook/);
    assert.match(r.stdout, /^NEXT: /m);
    assert.equal(r.stderr, '');
  });

  test('restores .orchestrator/ from the state branch, then reports', () => {
    const repo = makeRepo();
    ok(repo, ['start', 'Saved elsewhere']);
    ok(repo, ['state', 'save']);
    rmSync(join(repo, '.orchestrator'), { recursive: true });
    const r = expectCode(runCli(repo, ['hooks', 'session-start']), 0);
    assert.match(r.stdout, /^Restored \d+ files of \.orchestrator\/ from the state branch/);
    assert.match(r.stdout, /Saved elsewhere/);
    assert.ok(existsSync(join(repo, '.orchestrator', 'current')));
  });

  test('a failing restore or status is a notice, never a failure', () => {
    const repo = makeRepo();
    ok(repo, ['start', 'Local work']);
    ok(repo, ['state', 'save']);
    ok(repo, ['complete', 'understand_task']); // changed here since the save: restore refuses
    const r = expectCode(runCli(repo, ['hooks', 'session-start']), 0);
    assert.match(r.stderr, /^orchestrator: state restore: .*state save/m);
    assert.match(r.stdout, /Local work/);

    const bare = makeRepo();
    ok(bare, ['init']); // .orchestrator/ but no workflow
    const s = expectCode(runCli(bare, ['hooks', 'session-start']), 0);
    assert.equal(s.stdout, '');
    assert.match(s.stderr, /^orchestrator: status: no workflow in this repo yet/);
  });
});
