// init --template: a template from a folder, a name under the global templates/, or a git URL
// served by a real git smart-HTTP server on 127.0.0.1. Variables are filled in, nothing leaves
// the repo, nothing existing is overwritten without --force, and a refusal writes nothing.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseGitTemplateUrl, resolveTemplateSource } from '../src/templates/source.ts';
import { startGitHttpServer, type GitHttpServer } from './helpers/git-http-server.ts';
import { diffTrees, expectCode, git, makeRepo, ok, refuses, runCliAsync, snapshotTree, tempDir, type CliOptions } from './helpers/cli.ts';

// ---- the SRC grammar --------------------------------------------------------------------------------

describe('template source grammar', () => {
  const table: [string, { url: string; ref: string | null; subdir: string | null }][] = [
    ['https://h.example/org/repo.git', { url: 'https://h.example/org/repo.git', ref: null, subdir: null }],
    ['https://h.example/org/repo.git#v1', { url: 'https://h.example/org/repo.git', ref: 'v1', subdir: null }],
    ['https://h.example/org/repo.git:templates/py', { url: 'https://h.example/org/repo.git', ref: null, subdir: 'templates/py' }],
    ['https://h.example/org/repo.git#release/2.0:templates/py/', { url: 'https://h.example/org/repo.git', ref: 'release/2.0', subdir: 'templates/py' }],
    // The port's ":" belongs to the host, not to :SUBDIR.
    ['http://127.0.0.1:8080/tpl.git#main:sub', { url: 'http://127.0.0.1:8080/tpl.git', ref: 'main', subdir: 'sub' }],
    ['http://127.0.0.1:8080/tpl.git', { url: 'http://127.0.0.1:8080/tpl.git', ref: null, subdir: null }],
    ['https://user:tok@h.example:443/org/repo#dev:a/./b', { url: 'https://user:tok@h.example:443/org/repo', ref: 'dev', subdir: 'a/b' }],
  ];
  for (const [src, want] of table) {
    test(`parses ${src}`, () => assert.deepEqual(parseGitTemplateUrl(src), want));
  }

  const bad: [string, RegExp][] = [
    ['https://h.example', /no repository path/],
    ['https://h.example/', /no repository path/],
    ['https://h.example/r.git#', /empty #REF/],
    ['https://h.example/r.git#:sub', /empty #REF/],
    ['https://h.example/r.git#v1:', /empty :SUBDIR/],
    ['https://h.example/r.git:sub#v1', /#REF goes before :SUBDIR/],
    ['https://h.example/r.git#v1:../up', /leaves the repository/],
    ['https://h.example/r.git#v1:/abs', /relative folder/],
    ['https://h.example/r.git#v1:.git/hooks', /into \.git/],
    ['https://h.example/r.git#a..b', /not a branch or tag/],
    ['https://h.example/r.git#-x', /not a branch or tag/],
  ];
  for (const [src, re] of bad) {
    test(`refuses ${src}`, () => assert.throws(() => parseGitTemplateUrl(src), (e: Error & { exitCode?: number }) => re.test(e.message) && e.exitCode === 2));
  }

  test('folders, global names, and what is refused', () => {
    const env = { HOME: '/home/u', ORCHESTRATOR_HOME: '/g' };
    assert.deepEqual(resolveTemplateSource('./tpl', '/w', env), { kind: 'folder', dir: '/w/tpl', shown: './tpl' });
    assert.deepEqual(resolveTemplateSource('a/b', '/w', env), { kind: 'folder', dir: '/w/a/b', shown: 'a/b' });
    assert.deepEqual(resolveTemplateSource('~/t', '/w', env), { kind: 'folder', dir: '/home/u/t', shown: '~/t' });
    assert.deepEqual(resolveTemplateSource('/abs/t', '/w', env), { kind: 'folder', dir: '/abs/t', shown: '/abs/t' });
    assert.deepEqual(resolveTemplateSource('python', '/w', env), { kind: 'global', dir: '/g/templates/python', shown: 'python' });
    const masked = resolveTemplateSource('https://u:secret@h.example/r.git', '/w', env);
    assert.equal(masked.shown, 'https://***@h.example/r.git');
    for (const src of ['git@github.com:org/repo.git', 'ssh://git@h/r.git', 'file:///tmp/r', 'bad name']) {
      assert.throws(() => resolveTemplateSource(src, '/w', env), (e: Error & { exitCode?: number }) => e.exitCode === 2 && !e.message.includes('secret'), src);
    }
  });
});

// ---- helpers ----------------------------------------------------------------------------------------

const WORKFLOW = `name: "{{project}} workflow"
version: "1.0"
settings:
  docs_dir: docs
phases:
  - id: BUILD
    name: Build {{project}}
    items:
      - id: plan
        name: Plan
        verification:
          type: file_exists
          path: "{{docs_dir}}/plan.md"
      - id: test
        name: Test
        verification:
          type: command
          command: "{{test_command}}"
`;

const MANIFEST = `description: Demo service
variables:
  - name: project
    description: the project's name
    required: true
  - name: test_command
    default: "true"
  - name: notes_dir
    default: notes
files:
  - from: extra/NOTES.md
    to: "{{notes_dir}}/NOTES.md"
  - from: extra/check.sh
    to: scripts/check.sh
`;

/** A template folder from a map of relative path -> content. */
function writeTemplate(dir: string, files: Record<string, string>): string {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

function demoTemplate(dir = tempDir('orch-tpl-')): string {
  writeTemplate(dir, {
    'workflow.yaml': WORKFLOW,
    'template.yaml': MANIFEST,
    'config.yaml': 'lock:\n  timeout: 45\nsettings:\n  docs_dir: "{{notes_dir}}"\n',
    'extra/NOTES.md': '# Notes for {{project}}\nKeep {{unknown}} as it is.\n',
    'extra/check.sh': '#!/bin/sh\necho {{project}}\n',
  });
  chmodSync(join(dir, 'extra', 'check.sh'), 0o755);
  return dir;
}

/** A template of just a workflow.yaml (plus what `extra` adds), e.g. to try an escape. */
function tinyTemplate(extra: Record<string, string> = {}): string {
  return writeTemplate(tempDir('orch-tpl-'), { 'workflow.yaml': 'name: Tiny\nphases:\n  - id: ONLY\n    name: Only\n    items:\n      - id: one\n        name: One\n', ...extra });
}

const read = (repo: string, rel: string) => readFileSync(join(repo, rel), 'utf8');
const json = (stdout: string) => JSON.parse(stdout);

// ---- local folders and global names ------------------------------------------------------------------

describe('init --template from a folder or a global name', () => {
  test('a local folder: variables filled in, config and extra files written, the workflow starts', () => {
    const tpl = demoTemplate();
    const tplBefore = snapshotTree(tpl);
    const repo = makeRepo();
    const r = json(ok(repo, ['init', '--template', tpl, '--var', 'project=Demo', '--var', 'notes_dir=doc/notes', '--json']).stdout);
    assert.equal(r.ok, true);
    assert.equal(r.wrote_workflow, true);
    assert.deepEqual(r.template, { source: tpl, kind: 'folder', ref: null, subdir: null, commit: null, description: 'Demo service' });
    assert.deepEqual(r.vars, { project: 'Demo', test_command: 'true', notes_dir: 'doc/notes' });
    assert.deepEqual(r.files, [
      { path: 'workflow.yaml', action: 'created' },
      { path: '.orchestrator/config.yaml', action: 'created' },
      { path: 'doc/notes/NOTES.md', action: 'created' },
      { path: 'scripts/check.sh', action: 'created' },
    ]);
    const wf = read(repo, 'workflow.yaml');
    assert.match(wf, /^name: "Demo workflow"$/m);
    assert.match(wf, /command: "true"/);
    // {{docs_dir}} is not a template variable: it stays for the workflow's settings at run time.
    assert.match(wf, /path: "\{\{docs_dir\}\}\/plan\.md"/);
    assert.equal(read(repo, '.orchestrator/config.yaml'), 'lock:\n  timeout: 45\nsettings:\n  docs_dir: "doc/notes"\n');
    assert.equal(read(repo, 'doc/notes/NOTES.md'), '# Notes for Demo\nKeep {{unknown}} as it is.\n');
    assert.equal(statSync(join(repo, 'scripts/check.sh')).mode & 0o777, 0o755, 'an executable stays executable');
    assert.equal(statSync(join(repo, 'doc/notes/NOTES.md')).mode & 0o111, 0);
    assert.equal(read(repo, '.orchestrator/.gitignore'), '*\n');
    assert.ok(existsSync(join(repo, '.orchestrator', 'meta.json')));
    assert.deepEqual(diffTrees(tplBefore, snapshotTree(tpl)), [], 'the template folder is only read');
    // The result is a working setup: the config is read, the workflow validates and starts.
    assert.match(ok(repo, ['validate']).stdout, /valid \(1 phases, 2 items\)/);
    ok(repo, ['start', 'Use the template']);
    assert.match(ok(repo, ['status']).stdout, /Demo workflow/);
    assert.match(ok(repo, ['complete', 'test']).stdout, /test/);
  });

  test('the text output lists each file and what happened to it', () => {
    const repo = makeRepo();
    const r = ok(repo, ['init', '--template', demoTemplate(), '--var', 'project=X']);
    assert.match(r.stdout, /from template .* \(folder\): Demo service/);
    assert.match(r.stdout, /^ {2}workflow\.yaml {2}\(created\)$/m);
    assert.match(r.stdout, /^ {2}notes\/NOTES\.md {2}\(created\)$/m);
    assert.match(r.stdout, /NEXT: orchestrator start/);
  });

  test('a relative folder path is read from the working directory; --portable still applies', () => {
    const repo = makeRepo();
    writeTemplate(join(repo, 'tpls', 'mine'), { 'workflow.yaml': 'name: Mine\nphases:\n  - id: A\n    name: A\n    items:\n      - id: a\n        name: A\n' });
    const r = json(ok(join(repo, 'tpls'), ['init', '--template', './mine', '--portable', '--root', repo, '--json']).stdout);
    assert.equal(r.template.kind, 'folder');
    assert.equal(r.portable, true);
    assert.match(read(repo, 'workflow.yaml'), /^name: Mine$/m);
    assert.doesNotMatch(read(repo, '.orchestrator/.gitignore'), /^\*$/m);
  });

  test('a name is the folder templates/NAME in the global directory ($ORCHESTRATOR_HOME)', () => {
    const home = tempDir('orch-ghome-');
    demoTemplate(join(home, 'templates', 'demo'));
    const repo = makeRepo();
    const env: CliOptions = { env: { ORCHESTRATOR_HOME: home } };
    const r = json(ok(repo, ['init', '--template', 'demo', '--var', 'project=Global', '--json'], env).stdout);
    assert.equal(r.template.kind, 'global');
    assert.equal(r.template.source, 'demo');
    assert.match(read(repo, 'workflow.yaml'), /Global workflow/);
    // $XDG_CONFIG_HOME/orchestrator when ORCHESTRATOR_HOME is not set.
    const xdg = tempDir('orch-xdg-');
    demoTemplate(join(xdg, 'orchestrator', 'templates', 'demo'));
    const other = makeRepo();
    ok(other, ['init', '--template', 'demo', '--var', 'project=Xdg'], { env: { XDG_CONFIG_HOME: xdg } });
    assert.match(read(other, 'workflow.yaml'), /Xdg workflow/);
    refuses(makeRepo(), ['init', '--template', 'nosuch'], 2, [/no template of that name in .*templates/, /--template \.\/nosuch/], env);
  });

  test('a missing folder, a folder without workflow.yaml, other URL schemes: exit 2, nothing written', () => {
    const repo = makeRepo();
    refuses(repo, ['init', '--template', './nope'], 2, [/--template \.\/nope: no such folder/]);
    refuses(repo, ['init', '--template', tempDir('orch-empty-')], 2, [/no workflow\.yaml/]);
    refuses(repo, ['init', '--template', 'git@github.com:org/repo.git'], 2, [/only http\(s\) git URLs/]);
    refuses(repo, ['init', '--template', 'ssh://git@example.com/r.git'], 2, [/only http\(s\) git URLs/]);
  });
});

// ---- variables --------------------------------------------------------------------------------------

describe('template variables', () => {
  test('a missing required variable names the --var that gives it', () => {
    refuses(makeRepo(), ['init', '--template', demoTemplate()], 2, [/needs a value: give --var project=VALUE \(the project's name\)/]);
  });

  test('an unknown variable, a malformed or repeated --var, a multi-line value, --var without --template', () => {
    const tpl = demoTemplate();
    const repo = makeRepo();
    refuses(repo, ['init', '--template', tpl, '--var', 'project=A', '--var', 'colour=red'], 2, [/--var colour: template .* declares no such variable \(it declares: project, test_command, notes_dir\)/]);
    refuses(repo, ['init', '--template', tpl, '--var', 'project'], 2, [/--var project: write it as --var name=value/]);
    refuses(repo, ['init', '--template', tpl, '--var', 'project=A', '--var', 'project=B'], 2, [/--var project is given twice/]);
    refuses(repo, ['init', '--template', tpl, '--var', 'project=A\nevil: 1'], 2, [/one-line value/]);
    refuses(repo, ['init', '--var', 'project=A'], 2, [/--var sets a variable of a template: give --template SRC/]);
    // A template without template.yaml declares nothing.
    refuses(repo, ['init', '--template', tinyTemplate(), '--var', 'x=1'], 2, [/declares no such variable \(it declares: none\)/]);
  });

  test('a bad template.yaml, a workflow invalid once filled in, a config with an unknown key: exit 2', () => {
    const repo = makeRepo();
    refuses(repo, ['init', '--template', tinyTemplate({ 'template.yaml': 'variables:\n  - name: x\n' })], 2, [/template\.yaml: variables\[0\] \(x\): needs a default or required: true/]);
    refuses(repo, ['init', '--template', tinyTemplate({ 'template.yaml': 'variables:\n  - name: x\n    default: a\n    requird: true\n' })], 2, [/template\.yaml: variables\[0\]/]);
    refuses(repo, ['init', '--template', tinyTemplate({ 'template.yaml': 'variables: [unclosed\n' })], 2, [/template\.yaml: not valid YAML/]);
    const broken = writeTemplate(tempDir('orch-tpl-'), {
      'workflow.yaml': 'name: X\nphases:\n  - id: A\n    name: A\n    items:\n      - id: a\n        name: A\n        verification:\n          type: {{kind}}\n',
      'template.yaml': 'variables:\n  - name: kind\n    default: none\n',
    });
    ok(makeRepo(), ['init', '--template', broken]);
    refuses(repo, ['init', '--template', broken, '--var', 'kind=teleport'], 2, [/workflow\.yaml:9:\d+: .*verification\.type/, /with the variables filled in/]);
    refuses(repo, ['init', '--template', tinyTemplate({ 'config.yaml': 'lock:\n  timeout: 5\nlok: 1\n' })], 2, [/config\.yaml:3: unknown key "lok"/]);
    refuses(repo, ['init', '--template', tinyTemplate({ 'config.yaml': 'lock:\n  timeout: soon\n' })], 2, [/config\.yaml:2: lock\.timeout cannot be "soon"/]);
  });
});

// ---- nothing leaves the repo ------------------------------------------------------------------------

describe('templates cannot write outside the repo', () => {
  /** Runs a refused init in a repo inside a parent folder, and checks the parent gained nothing either. */
  function refusedEscape(extra: Record<string, string>, args: string[], patterns: RegExp[], prepare?: (repo: string) => void) {
    const parent = tempDir('orch-parent-');
    const repo = join(parent, 'repo');
    mkdirSync(repo);
    git(repo, ['init', '-q', '-b', 'main']);
    prepare?.(repo);
    const parentBefore = snapshotTree(parent);
    const tpl = tinyTemplate(extra);
    refuses(repo, ['init', '--template', tpl, ...args], 2, patterns);
    assert.deepEqual(diffTrees(parentBefore, snapshotTree(parent)).filter((d) => !d.includes('.git/')), [], 'something was written beside the repo');
    assert.equal(existsSync(join(repo, '.orchestrator')), false);
    assert.equal(existsSync(join(repo, 'workflow.yaml')), false);
  }

  test('files[].to of ../x is refused before anything is written', () => {
    refusedEscape({ 'x.txt': 'escape\n', 'template.yaml': 'files:\n  - from: x.txt\n    to: ../x\n' }, [], [/files\[0\]: to \.\.\/x leaves the repo/, /nothing was written/]);
  });

  test('a path made to escape by a variable: to "{{dir}}/x" with --var dir=..', () => {
    refusedEscape(
      { 'x.txt': 'escape\n', 'template.yaml': 'variables:\n  - name: dir\n    default: docs\nfiles:\n  - from: x.txt\n    to: "{{dir}}/x"\n' },
      ['--var', 'dir=..'],
      [/to \.\.\/x \(from \{\{dir\}\}\/x\) leaves the repo/],
    );
  });

  test('absolute paths, paths into .git or .orchestrator/, a backslash', () => {
    const cases: [string, RegExp][] = [
      ['/tmp/orch-escape-abs', /is absolute/],
      ['.git/hooks/pre-commit', /points into \.git/],
      ['sub/.GIT/config', /points into \.git/],
      ['.orchestrator/sessions/x', /inside \.orchestrator\/, which the tool owns/],
      ['..\\\\x', /backslash/],
      ['workflow.yaml', /written twice \(also by workflow\.yaml\)/],
      ['docs/', /names a folder/],
    ];
    for (const [to, re] of cases) refusedEscape({ 'x.txt': 'x\n', 'template.yaml': `files:\n  - from: x.txt\n    to: "${to}"\n` }, [], [re]);
    assert.equal(existsSync('/tmp/orch-escape-abs'), false);
  });

  test('a template reading outside itself (from: ../x, or a symlink anywhere on the way) is refused', () => {
    refusedEscape({ 'template.yaml': 'files:\n  - from: ../outside.txt\n    to: x.txt\n' }, [], [/from \.\.\/outside\.txt leaves its folder/]);
    const linked = tinyTemplate({ 'template.yaml': 'files:\n  - from: docs/secret\n    to: x.txt\n' });
    const outside = tempDir('orch-outside-');
    writeFileSync(join(outside, 'secret'), 'secret\n');
    symlinkSync(outside, join(linked, 'docs'));
    refuses(makeRepo(), ['init', '--template', linked], 2, [/from docs\/secret goes through a symlink/]);
    const linkedWorkflow = tempDir('orch-tpl-');
    symlinkSync(join(tinyTemplate(), 'workflow.yaml'), join(linkedWorkflow, 'workflow.yaml'));
    refuses(makeRepo(), ['init', '--template', linkedWorkflow], 2, [/workflow\.yaml is a symlink/]);
  });

  test('a folder of the repo that is a symlink leading outside is not written through', () => {
    const outside = tempDir('orch-outside-');
    const outsideBefore = snapshotTree(outside);
    refusedEscape({ 'x.txt': 'x\n', 'template.yaml': 'files:\n  - from: x.txt\n    to: docs/x.txt\n' }, [], [/docs is a symlink leading outside the repo/], (repo) => symlinkSync(outside, join(repo, 'docs')));
    assert.deepEqual(diffTrees(outsideBefore, snapshotTree(outside)), []);
    // A symlink that stays inside the repo is fine.
    const repo = makeRepo();
    mkdirSync(join(repo, 'real'));
    symlinkSync('real', join(repo, 'docs'));
    ok(repo, ['init', '--template', tinyTemplate({ 'x.txt': 'x\n', 'template.yaml': 'files:\n  - from: x.txt\n    to: docs/x.txt\n' })]);
    assert.equal(read(repo, 'real/x.txt'), 'x\n');
  });
});

// ---- existing files ---------------------------------------------------------------------------------

describe('existing files', () => {
  test('an existing workflow.yaml is kept without --force (exit 3, nothing written), replaced with it', () => {
    const repo = makeRepo();
    const mine = 'name: Mine\nphases:\n  - id: A\n    name: A\n    items:\n      - id: a\n        name: A\n';
    writeFileSync(join(repo, 'workflow.yaml'), mine);
    const tpl = demoTemplate();
    refuses(repo, ['init', '--template', tpl, '--var', 'project=P'], 3, [/^orchestrator: error: workflow\.yaml already exists and differs from template .*; rerun with --force/]);
    assert.equal(read(repo, 'workflow.yaml'), mine);
    assert.equal(existsSync(join(repo, '.orchestrator')), false);
    const forced = json(ok(repo, ['init', '--template', tpl, '--var', 'project=P', '--force', '--json']).stdout);
    assert.equal(forced.files[0].action, 'replaced');
    assert.match(read(repo, 'workflow.yaml'), /P workflow/);
    // The same template again changes nothing and needs no --force.
    const before = snapshotTree(repo);
    const again = json(ok(repo, ['init', '--template', tpl, '--var', 'project=P', '--json']).stdout);
    assert.deepEqual(again.files.map((f: { action: string }) => f.action), ['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    assert.equal(again.wrote_workflow, false);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)).filter((d) => !d.includes('locks/')), []);
    // Other values make every differing file a conflict, all named at once.
    refuses(repo, ['init', '--template', tpl, '--var', 'project=Q', '--var', 'notes_dir=other'], 3, [/: workflow\.yaml, \.orchestrator\/config\.yaml, scripts\/check\.sh already exist and differ/]);
  });

  test('a folder where a file goes is refused even with --force', () => {
    const repo = makeRepo();
    mkdirSync(join(repo, 'scripts', 'check.sh'), { recursive: true });
    refuses(repo, ['init', '--template', demoTemplate(), '--var', 'project=P', '--force'], 3, [/scripts\/check\.sh is a folder/]);
  });
});

// ---- git URLs ---------------------------------------------------------------------------------------

describe('init --template from a git URL (smart HTTP on 127.0.0.1)', () => {
  let server: GitHttpServer;
  let commits: { main: string; v1: string; dev: string };
  const TOKEN = { ORCHESTRATOR_GIT_TOKEN: 'test-token' };
  /** TMPDIR of the CLI: the temporary clone must be gone after every run. */
  let cliTmp: string;

  before(async () => {
    server = await startGitHttpServer();
    const bare = server.createRepo('tpl');
    const work = makeRepo({ commit: false });
    const commit = (msg: string) => {
      git(work, ['add', '-A']);
      git(work, ['-c', 'user.name=T', '-c', 'user.email=t@example.invalid', 'commit', '-q', '-m', msg]);
      return git(work, ['rev-parse', 'HEAD']).trim();
    };
    writeTemplate(work, { 'workflow.yaml': WORKFLOW.replace('"{{project}} workflow"', '"{{project}} at v1"'), 'template.yaml': 'variables:\n  - name: project\n    required: true\n  - name: test_command\n    default: "true"\n' });
    const v1 = commit('v1');
    git(work, ['tag', 'v1']);
    writeTemplate(work, { 'workflow.yaml': WORKFLOW.replace('"{{project}} workflow"', '"{{project}} at main"') });
    const main = commit('main');
    git(work, ['checkout', '-q', '-b', 'dev']);
    demoTemplate(join(work, 'templates', 'demo'));
    writeTemplate(work, { 'templates/escape/workflow.yaml': 'name: E\nphases:\n  - id: A\n    name: A\n    items:\n      - id: a\n        name: A\n', 'templates/escape/x.txt': 'x\n', 'templates/escape/template.yaml': 'files:\n  - from: x.txt\n    to: ../x\n' });
    const dev = commit('dev');
    git(work, ['push', '-q', bare, 'main', 'dev', 'v1']);
    commits = { main, v1, dev };
    cliTmp = tempDir('orch-clitmp-');
  });
  after(async () => {
    await server?.close();
  });

  const url = (suffix = '') => `${server.url}/tpl.git${suffix}`;
  const net = (cwd: string, args: string[], env: Record<string, string> = TOKEN) => runCliAsync(cwd, args, { env: { ...env, TMPDIR: cliTmp } });
  const noClonesLeft = () => assert.deepEqual(readdirSync(cliTmp), [], 'the temporary clone was not removed');

  /** Like refuses(), for a command that talks to the server in this process. */
  async function netRefuses(repo: string, args: string[], code: number, patterns: RegExp[], env?: Record<string, string>) {
    const before = snapshotTree(repo);
    const r = expectCode(await net(repo, args, env), code, `orchestrator ${args.join(' ')}`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    for (const p of patterns) assert.match(lines[0]!, p);
    assert.equal(r.stdout, '');
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
    noClonesLeft();
    return r;
  }

  test('the default branch, a tag (#v1) and a branch with a subfolder (#dev:templates/demo)', async () => {
    const a = makeRepo();
    const ra = json(expectCode(await net(a, ['init', '--template', url(), '--var', 'project=A', '--json']), 0).stdout);
    assert.deepEqual(ra.template, { source: url(), kind: 'git', ref: null, subdir: null, commit: commits.main, description: null });
    assert.match(read(a, 'workflow.yaml'), /"A at main"/);
    noClonesLeft();

    const b = makeRepo();
    const rb = json(expectCode(await net(b, ['init', '--template', url('#v1'), '--var', 'project=B', '--json']), 0).stdout);
    assert.equal(rb.template.ref, 'v1');
    assert.equal(rb.template.commit, commits.v1);
    assert.match(read(b, 'workflow.yaml'), /"B at v1"/);

    const c = makeRepo();
    const rc = json(expectCode(await net(c, ['init', '--template', url('#dev:templates/demo'), '--var', 'project=C', '--json']), 0).stdout);
    assert.equal(rc.template.subdir, 'templates/demo');
    assert.equal(rc.template.commit, commits.dev);
    assert.equal(rc.template.description, 'Demo service');
    assert.match(read(c, 'workflow.yaml'), /"C workflow"/);
    assert.equal(read(c, 'notes/NOTES.md'), '# Notes for C\nKeep {{unknown}} as it is.\n');
    assert.equal(statSync(join(c, 'scripts/check.sh')).mode & 0o111, 0o111, 'git keeps the executable bit');
    assert.ok(ok(c, ['validate']));
    noClonesLeft();
  });

  test('credentials in the URL are used and never shown', async () => {
    const repo = makeRepo();
    const withCreds = url('#v1').replace('http://', 'http://x-access-token:test-token@');
    const r = expectCode(await net(repo, ['init', '--template', withCreds, '--var', 'project=U', '--json'], {}), 0);
    assert.doesNotMatch(r.stdout + r.stderr, /test-token/);
    assert.equal(json(r.stdout).template.source, url('#v1').replace('http://', 'http://***@'));
    assert.match(read(repo, 'workflow.yaml'), /"U at v1"/);
    const bad = await netRefuses(makeRepo(), ['init', '--template', withCreds.replace('test-token', 'wrong-token')], 3, [/refused the credentials \(HTTP 401\)/, /ORCHESTRATOR_GIT_TOKEN/], {});
    assert.doesNotMatch(bad.stderr, /wrong-token/);
  });

  test('no token: exit 3 naming ORCHESTRATOR_GIT_TOKEN; unknown ref or folder: exit 2; nothing written', async () => {
    const repo = makeRepo();
    await netRefuses(repo, ['init', '--template', url()], 3, [/asks for credentials \(HTTP 401\); set ORCHESTRATOR_GIT_TOKEN/], {});
    await netRefuses(repo, ['init', '--template', url('#nope'), '--var', 'project=N'], 2, [/no branch or tag "nope"; check the #REF part/]);
    await netRefuses(repo, ['init', '--template', url('#dev:templates/nope'), '--var', 'project=N'], 2, [/no folder templates\/nope at dev; check the :SUBDIR part/]);
    await netRefuses(repo, ['init', '--template', `${server.url}/missing.git`], 2, [/no git repository at that URL \(HTTP 404\)/]);
  });

  test('a template in git trying to write ../x is refused with nothing written', async () => {
    const parent = tempDir('orch-parent-');
    const repo = join(parent, 'repo');
    mkdirSync(repo);
    git(repo, ['init', '-q', '-b', 'main']);
    const before = snapshotTree(parent);
    await netRefuses(repo, ['init', '--template', url('#dev:templates/escape')], 2, [/files\[0\]: to \.\.\/x leaves the repo/]);
    assert.deepEqual(diffTrees(before, snapshotTree(parent)).filter((d) => !d.includes('.git/')), []);
  });

  test('an unreachable server: exit 4 with one line, nothing written', async () => {
    // A port that was just free: a server that is gone.
    const gone = await startGitHttpServer();
    const deadUrl = `${gone.url}/tpl.git`;
    await gone.close();
    await netRefuses(makeRepo(), ['init', '--template', deadUrl], 4, [/cannot reach the server \(.*ECONNREFUSED.*\); check the network/]);
  });
});
