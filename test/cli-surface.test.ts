// The command line surface as scripts and agents rely on it (CONTRACT §4): --version, --help for
// every command of the spec table, --json giving exactly one JSON document on stdout (failures
// included), errors on stderr, no colour codes, and no prompt waiting on a non-TTY stdin.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { COMMANDS, type CommandSpec } from '../src/cli/command-specs.ts';
import { expectCode, makeRepo, PROJECT_ROOT, runCli, type CliOptions, type CliResult } from './helpers/cli.ts';

// No NO_COLOR here: colour must stay off because stdout is not a TTY, not because we asked.
const PLAIN: CliOptions = { env: { NO_COLOR: undefined, CI: undefined, FORCE_COLOR: undefined }, input: '', timeoutMs: 20_000 };
const ANSI = /\x1b\[|\x1b\]|\x9b/;

function cli(cwd: string, args: string[]): CliResult {
  const r = runCli(cwd, args, PLAIN);
  assert.equal(r.signal, null, `orchestrator ${args.join(' ')} was killed (${r.signal}): did it wait for input?`);
  assert.doesNotMatch(r.stdout, ANSI, `colour codes on stdout of orchestrator ${args.join(' ')}`);
  assert.doesNotMatch(r.stderr, ANSI, `colour codes on stderr of orchestrator ${args.join(' ')}`);
  return r;
}

function ok(cwd: string, args: string[]): CliResult {
  return expectCode(cli(cwd, args), 0, `orchestrator ${args.join(' ')}`);
}

/** The whole of stdout must be one JSON document. */
function oneJson(r: CliResult, what: string): any {
  try {
    return JSON.parse(r.stdout);
  } catch (err) {
    assert.fail(`${what}: stdout is not exactly one JSON document (${(err as Error).message}):\n${r.stdout}`);
  }
}

const nameOf = (s: CommandSpec) => s.name.join(' ');

describe('version and help', () => {
  test('--version prints package.json version', () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));
    const dir = makeRepo();
    for (const flag of ['--version', '-V']) {
      const r = ok(dir, [flag]);
      assert.equal(r.stdout, `${pkg.version}\n`);
      assert.equal(r.stderr, '');
    }
  });

  test('--help lists every command of the spec table', () => {
    const dir = makeRepo();
    for (const args of [['--help'], ['-h'], []]) {
      const r = ok(dir, args);
      assert.match(r.stdout, /^orchestrator \S+: /);
      assert.match(r.stdout, /Usage: orchestrator COMMAND/);
      for (const spec of COMMANDS) {
        assert.ok(r.stdout.includes(`  ${spec.usage}`), `global help lacks "${spec.usage}"`);
        assert.ok(r.stdout.includes(spec.summary), `global help lacks the summary of ${nameOf(spec)}`);
      }
    }
  });

  test('every command has --help: exit 0, starts with "Usage: orchestrator", lists its flags', () => {
    const dir = makeRepo();
    for (const spec of COMMANDS) {
      for (const args of [[...spec.name, '--help'], ['help', ...spec.name]]) {
        const r = ok(dir, args);
        assert.ok(r.stdout.startsWith(`Usage: orchestrator ${spec.name.join(' ')}`), `${args.join(' ')}:\n${r.stdout}`);
        for (const flag of Object.keys(spec.flags)) assert.ok(r.stdout.includes(`--${flag}`), `${args.join(' ')} lacks --${flag}`);
        assert.equal(r.stderr, '');
      }
    }
    assert.ok(ok(dir, ['complete', '-h']).stdout.startsWith('Usage: orchestrator complete ITEM'));
    // Help writes nothing: the repo stays without .orchestrator/.
    assert.deepEqual(readdirSync(dir), ['.git']);
  });
});

// ---- --json on every command that takes it ---------------------------------------------------------

interface JsonCase {
  /** Fails in a repo with a freshly started default workflow, changing nothing. */
  fail: string[];
  failCode: string;
  failExit: number;
  /** Makes `ok` succeed (runs after `fail`). */
  setup?: (repo: string, sid: string) => void;
  /** Null for a command whose success needs the test git server: the named test parses its --json. */
  ok: ((sid: string) => string[]) | null;
  okCoveredBy?: string;
}

const LONG = 'Not applicable: the request is fully specified and there is nothing to clarify here.';

const CASES: Record<string, JsonCase> = {
  init: { fail: ['init', 'extra'], failCode: 'USAGE', failExit: 2, ok: () => ['init'] },
  start: {
    fail: ['start', 'Second task'],
    failCode: 'WORKFLOW_STATE_CONFLICT',
    failExit: 3,
    setup: (repo) => ok(repo, ['finish', '--abandon']),
    ok: () => ['start', 'Second task'],
  },
  status: { fail: ['status', '--session', 'nosuch'], failCode: 'UNKNOWN_SESSION', failExit: 2, ok: () => ['status'] },
  complete: { fail: ['complete', 'no_such_item'], failCode: 'UNKNOWN_ITEM', failExit: 2, ok: () => ['complete', 'understand_task'] },
  skip: {
    fail: ['skip', 'initial_plan', '--reason', LONG],
    failCode: 'SKIP_REFUSED',
    failExit: 2,
    ok: () => ['skip', 'understand_task', '--reason', LONG],
  },
  'approve-item': {
    fail: ['approve-item', 'understand_task'],
    failCode: 'USAGE',
    failExit: 2,
    ok: () => ['approve-item', 'user_approval'],
  },
  advance: {
    fail: ['advance'],
    failCode: 'PHASE_INCOMPLETE',
    failExit: 3,
    setup: (repo) => {
      mkdirSync(join(repo, 'docs'), { recursive: true });
      writeFileSync(join(repo, 'docs', 'plan.md'), 'plan\n');
      ok(repo, ['complete', 'understand_task']);
      ok(repo, ['complete', 'initial_plan']);
      ok(repo, ['approve-item', 'user_approval']);
    },
    ok: () => ['advance'],
  },
  finish: { fail: ['finish'], failCode: 'PHASE_INCOMPLETE', failExit: 3, ok: () => ['finish', '--abandon'] },
  validate: {
    fail: ['validate'],
    failCode: 'NO_WORKFLOW',
    failExit: 2,
    setup: (repo) => ok(repo, ['init']),
    ok: () => ['validate'],
  },
  log: { fail: ['log', '-n', '0'], failCode: 'USAGE', failExit: 2, ok: () => ['log', '-n', '5'] },
  checkpoints: { fail: ['checkpoints', 'extra'], failCode: 'USAGE', failExit: 2, ok: () => ['checkpoints'] },
  checkpoint: { fail: ['checkpoint', '-m', ''], failCode: 'USAGE', failExit: 2, ok: () => ['checkpoint', '-m', 'surface', '--decision', 'keep it'] },
  resume: {
    fail: ['resume', 'cp_nosuch'],
    failCode: 'UNKNOWN_CHECKPOINT',
    failExit: 2,
    setup: (repo) => ok(repo, ['checkpoint']),
    ok: () => ['resume'],
  },
  handoff: { fail: ['handoff', 'extra'], failCode: 'USAGE', failExit: 2, ok: () => ['handoff'] },
  env: { fail: ['env', 'extra'], failCode: 'USAGE', failExit: 2, ok: () => ['env'] },
  'state save': { fail: ['state', 'save', 'extra'], failCode: 'USAGE', failExit: 2, ok: () => ['state', 'save'] },
  'state restore': {
    fail: ['state', 'restore', 'extra'],
    failCode: 'USAGE',
    failExit: 2,
    setup: (repo) => ok(repo, ['state', 'save']),
    ok: () => ['state', 'restore'],
  },
  'state log': { fail: ['state', 'log', '-n', 'x'], failCode: 'USAGE', failExit: 2, ok: () => ['state', 'log'] },
  'state status': { fail: ['state', 'status', 'extra'], failCode: 'USAGE', failExit: 2, ok: () => ['state', 'status'] },
  'snapshot export': { fail: ['snapshot', 'export', '--include-secrets'], failCode: 'USAGE', failExit: 2, ok: () => ['snapshot', 'export', 'snap.tar.gz'] },
  'snapshot import': {
    fail: ['snapshot', 'import', 'no-such.tar.gz'],
    failCode: 'USAGE',
    failExit: 2,
    setup: (repo) => ok(repo, ['snapshot', 'export', 'snap.tar.gz']),
    ok: () => ['snapshot', 'import', 'snap.tar.gz'],
  },
  'state push': {
    fail: ['state', 'push'],
    failCode: 'USAGE',
    failExit: 2,
    ok: null,
    okCoveredBy: 'state-remote.test.ts: push, then pull + restore on another machine',
  },
  'state pull': {
    fail: ['state', 'pull'],
    failCode: 'USAGE',
    failExit: 2,
    ok: null,
    okCoveredBy: 'state-remote.test.ts: push, then pull + restore on another machine',
  },
  'session list': { fail: ['session', 'list', 'extra'], failCode: 'USAGE', failExit: 2, ok: () => ['session', 'list'] },
  'session show': { fail: ['session', 'show', 'nosuch'], failCode: 'UNKNOWN_SESSION', failExit: 2, ok: (sid) => ['session', 'show', sid] },
  'session switch': { fail: ['session', 'switch', 'nosuch'], failCode: 'UNKNOWN_SESSION', failExit: 2, ok: (sid) => ['session', 'switch', sid] },
  'session new': { fail: ['session', 'new', 'extra'], failCode: 'USAGE', failExit: 2, ok: () => ['session', 'new'] },
  'session end': { fail: ['session', 'end', 'nosuch'], failCode: 'UNKNOWN_SESSION', failExit: 2, ok: (sid) => ['session', 'end', sid] },
  doctor: { fail: ['doctor', '--reseal', '--session', 'nosuch'], failCode: 'UNKNOWN_SESSION', failExit: 2, ok: () => ['doctor'] },
  'hooks install': { fail: ['hooks', 'install', '--command', ''], failCode: 'USAGE', failExit: 2, ok: () => ['hooks', 'install'] },
  'hooks uninstall': { fail: ['hooks', 'uninstall', 'extra'], failCode: 'USAGE', failExit: 2, ok: () => ['hooks', 'uninstall'] },
  'hooks status': { fail: ['hooks', 'status', 'extra'], failCode: 'USAGE', failExit: 2, ok: () => ['hooks', 'status'] },
  'secrets list': { fail: ['secrets', 'list', 'extra'], failCode: 'USAGE', failExit: 2, ok: () => ['secrets', 'list'] },
  'secrets sources': { fail: ['secrets', 'sources', 'not-a-name'], failCode: 'USAGE', failExit: 2, ok: () => ['secrets', 'sources'] },
  'secrets doctor': { fail: ['secrets', 'doctor', 'extra'], failCode: 'USAGE', failExit: 2, ok: () => ['secrets', 'doctor'] },
  'config get': { fail: ['config', 'get', 'no.such.key'], failCode: 'USAGE', failExit: 2, ok: () => ['config', 'get', 'lock.timeout'] },
  'config set': { fail: ['config', 'set', 'lock.timeout', 'soon'], failCode: 'USAGE', failExit: 2, ok: () => ['config', 'set', 'lock.timeout', '12'] },
  'config unset': { fail: ['config', 'unset', 'no.such.key'], failCode: 'USAGE', failExit: 2, ok: () => ['config', 'unset', 'lock.timeout'] },
  'config show': { fail: ['config', 'show', 'extra'], failCode: 'USAGE', failExit: 2, ok: () => ['config', 'show', '--effective', '--origin'] },
  migrate: {
    fail: ['migrate', '--prefer', 'both'],
    failCode: 'USAGE',
    failExit: 2,
    ok: () => ['migrate', '--dry-run'],
  },
  'repos list': { fail: ['repos', 'list', 'extra'], failCode: 'USAGE', failExit: 2, ok: () => ['repos', 'list'] },
  'repos status': { fail: ['repos', 'status', 'extra'], failCode: 'USAGE', failExit: 2, ok: () => ['repos', 'status'] },
  'feedback capture': {
    fail: ['feedback', 'capture', '--session', 'nosuch'],
    failCode: 'UNKNOWN_SESSION',
    failExit: 2,
    ok: () => ['feedback', 'capture'],
  },
  'feedback review': {
    fail: ['feedback', 'review', 'extra'],
    failCode: 'USAGE',
    failExit: 2,
    setup: (repo) => ok(repo, ['feedback', 'capture']),
    ok: () => ['feedback', 'review'],
  },
};

function startedRepo(): { repo: string; sid: string } {
  const repo = makeRepo();
  const r = ok(repo, ['start', 'Surface check', '--json']);
  return { repo, sid: oneJson(r, 'start --json').started.session_id };
}

describe('--json: exactly one JSON document on stdout', () => {
  test('every --json command has a case here', () => {
    const withJson = COMMANDS.filter((s) => s.json).map(nameOf).sort();
    assert.deepEqual(Object.keys(CASES).sort(), withJson);
    for (const s of COMMANDS.filter((c) => c.json)) assert.ok('json' in s.flags, `${nameOf(s)} says json but has no --json flag`);
  });

  for (const spec of COMMANDS.filter((s) => s.json)) {
    const name = nameOf(spec);
    test(name, () => {
      const c = CASES[name];
      assert.ok(c, `no case for ${name}`);
      const { repo, sid } = startedRepo();

      // Failure without --json: nothing on stdout, one error line on stderr.
      const plain = expectCode(cli(repo, c.fail), c.failExit, c.fail.join(' '));
      assert.equal(plain.stdout, '', `${c.fail.join(' ')} printed on stdout`);
      assert.match(plain.stderr, /^orchestrator: error: .+\n$/);

      // Failure with --json: one document, ok false, error.code; the message on stderr.
      const failed = expectCode(cli(repo, [...c.fail, '--json']), c.failExit, `${c.fail.join(' ')} --json`);
      const fj = oneJson(failed, `${c.fail.join(' ')} --json`);
      assert.equal(fj.ok, false);
      assert.equal(fj.error.code, c.failCode);
      assert.equal(fj.error.exit_code, c.failExit);
      assert.equal(typeof fj.error.message, 'string');
      assert.ok(failed.stderr.includes(fj.error.message), 'the human message goes to stderr');

      // An unknown flag is a usage error, in JSON too.
      const bad = expectCode(cli(repo, [...spec.name, '--no-such-flag', '--json']), 2, `${name} --no-such-flag --json`);
      const bj = oneJson(bad, `${name} --no-such-flag --json`);
      assert.equal(bj.ok, false);
      assert.equal(bj.error.code, 'USAGE');
      assert.match(bad.stderr, /unknown flag --no-such-flag/);

      // Success with --json.
      if (!c.ok) {
        assert.ok(c.okCoveredBy, `${name}: a case without ok must name the test that covers it`);
        return;
      }
      c.setup?.(repo, sid);
      const args = [...c.ok(sid), '--json'];
      const good = expectCode(cli(repo, args), 0, args.join(' '));
      const gj = oneJson(good, args.join(' '));
      assert.equal(gj.ok, true, `${args.join(' ')}: ${good.stdout}`);
      assert.doesNotMatch(good.stderr, /error:/);
    });
  }

  test('a JSON error on a read-only report also parses: status on a damaged state', () => {
    const { repo, sid } = startedRepo();
    writeFileSync(join(repo, '.orchestrator', 'sessions', sid, 'state.json'), 'not json\nat all\n');
    const r = expectCode(cli(repo, ['status', '--json']), 2, 'status --json');
    const j = oneJson(r, 'status --json');
    assert.equal(j.ok, false);
    assert.equal(j.error.code, 'CORRUPT_FILE');
    const d = expectCode(cli(repo, ['doctor', '--json']), 1, 'doctor --json');
    const dj = oneJson(d, 'doctor --json');
    assert.equal(dj.ok, false);
    assert.ok(dj.findings.some((f: any) => f.level === 'problem' && f.subject.endsWith('state.json')));
  });
});

describe('no prompt, no colour', () => {
  test('commands finish with an empty non-TTY stdin, also with CI set, without colour', () => {
    const { repo } = startedRepo();
    const runs: string[][] = [
      ['status'],
      ['init', '--force'],
      ['skip', 'understand_task', '--reason', LONG],
      ['finish', '--abandon'],
      ['log'],
      ['session', 'end'],
      ['doctor'],
    ];
    for (const args of runs) {
      const t0 = Date.now();
      ok(repo, args);
      assert.ok(Date.now() - t0 < 15_000, `${args.join(' ')} took too long`);
    }
    const ci = runCli(repo, ['start', 'Under CI'], { ...PLAIN, env: { ...PLAIN.env, CI: 'true' } });
    expectCode(ci, 0, 'start under CI');
    assert.doesNotMatch(ci.stdout + ci.stderr, ANSI);
  });
});
