// `migrate` through the BUILT CLI, on the Python tool's real files (CONTRACT §2, issue 4): every
// fixture there and back byte for byte, the migrated workflow equal to the legacy one, the plan of
// --dry-run, dual mode before migrating, both layouts, concurrent migrations, and bad input that
// must be refused with its CONTRACT §5 exit code before anything, .orchestrator/ included, changes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  BIN,
  cliEnv,
  diffTrees,
  expectCode,
  FIXTURES,
  makeRepo,
  readJson,
  repoFromFixture,
  runCli,
  runCliAsync,
  sessionDir,
  snapshotTree,
  tempDir,
  type CliOptions,
  type CliResult,
  ok,
  refuses,
} from './helpers/cli.ts';
import { assertRolledBack, assertWhollyContained, legacyFiles, sha256 } from './fixtures/migrate-check.ts';



/** A refused migrate: `refuses`, and it did not even create .orchestrator/ (when there was none). */
function refusesMigrate(repo: string, code: number, patterns: RegExp[], run = runCli): CliResult {
  const had = existsSync(join(repo, '.orchestrator'));
  const r = refuses(repo, ['migrate', '--yes'], code, patterns, {}, run);
  assert.equal(existsSync(join(repo, '.orchestrator')), had, 'a refused migrate creates no .orchestrator/');
  // The plan lists the same problem, with the same exit code, and changes nothing either.
  const before = snapshotTree(repo);
  const d = expectCode(run(repo, ['migrate', '--dry-run', '--json']), code, 'migrate --dry-run --json');
  const plan = JSON.parse(d.stdout);
  assert.equal(plan.ok, false);
  assert.ok(plan.problems.length >= 1);
  assert.equal(plan.problems[0].exitCode, code);
  assert.deepEqual(diffTrees(before, snapshotTree(repo)), [], 'migrate --dry-run changed files');
  return r;
}

/** Runs a read-only command that must exit `code` with exactly one stderr notice naming `orchestrator migrate`. */
function readsLegacy(repo: string, args: string[], code = 0): CliResult {
  const before = snapshotTree(repo);
  const r = expectCode(runCli(repo, args), code, `orchestrator ${args.join(' ')}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one stderr notice, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^orchestrator: .*orchestrator migrate/);
  assert.doesNotMatch(lines[0]!, /error/);
  assert.deepEqual(diffTrees(before, snapshotTree(repo)), [], `orchestrator ${args.join(' ')} changed files`);
  return r;
}

function migrate(repo: string, extra: string[] = [], opts: CliOptions = {}): CliResult {
  const r = ok(repo, ['migrate', '--yes', ...extra], opts);
  assert.match(r.stdout, /^Migrated \d+ files/);
  return r;
}

/** The Python tool's v3 layout from before sessions: `.orchestrator/state.json` + `log.jsonl`. */
function v3FlatRepo(): string {
  const repo = makeRepo();
  const s = join(FIXTURES, 'v3-sessions', '.orchestrator', 'sessions', '505a6972');
  mkdirSync(join(repo, '.orchestrator'));
  cpSync(join(s, 'state.json'), join(repo, '.orchestrator', 'state.json'));
  cpSync(join(s, 'log.jsonl'), join(repo, '.orchestrator', 'log.jsonl'));
  writeFileSync(join(repo, '.orchestrator', '.gitignore'), '*\n');
  chmodSync(join(repo, '.orchestrator', 'state.json'), 0o644);
  chmodSync(join(repo, '.orchestrator', 'log.jsonl'), 0o644);
  return repo;
}

interface LegacyCase {
  name: string;
  make: () => string;
  /** Repo-relative legacy state and log. */
  state: string;
  log: string;
  /** Distinct workflows in the log. */
  workflows: number;
  checkpoints: number;
}

const CASES: LegacyCase[] = [
  { name: 'v2-root', make: () => repoFromFixture('v2-root'), state: '.workflow_state.json', log: '.workflow_log.jsonl', workflows: 9, checkpoints: 2 },
  { name: 'v2-root-small', make: () => repoFromFixture('v2-root-small'), state: '.workflow_state.json', log: '.workflow_log.jsonl', workflows: 1, checkpoints: 0 },
  { name: 'v3 state.json + log.jsonl without sessions', make: v3FlatRepo, state: '.orchestrator/state.json', log: '.orchestrator/log.jsonl', workflows: 1, checkpoints: 0 },
];

function jsonLines(text: string): Record<string, unknown>[] {
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

/** `status --json` shows the legacy state: same workflow, task, phase and per-item statuses. */
function assertSameWorkflow(view: any, legacy: any): void {
  assert.equal(view.workflow_id, legacy.workflow_id);
  assert.equal(view.task, legacy.task_description);
  assert.equal(view.status, legacy.status);
  assert.equal(view.phase.id, legacy.current_phase_id);
  const phaseItems = legacy.phases[legacy.current_phase_id].items as Record<string, { status: string }>;
  assert.deepEqual(
    Object.fromEntries(view.items.map((i: any) => [i.id, i.status])),
    Object.fromEntries(Object.entries(phaseItems).map(([id, it]) => [id, it.status])),
  );
  const all = Object.values(legacy.phases as Record<string, { items: Record<string, { status: string }> }>).flatMap((p) => Object.values(p.items));
  assert.equal(view.progress.total, all.length);
  assert.equal(view.progress.done, all.filter((i) => i.status === 'completed' || i.status === 'skipped').length);
}

describe('every fixture migrates and rolls back byte for byte', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const repo = c.make();
      const before = snapshotTree(repo);
      const originals = legacyFiles(repo);
      assert.ok(originals.has(c.state) && originals.has(c.log), 'the fixture holds its legacy state and log');
      migrate(repo);
      assertWhollyContained(repo, originals);
      const r = ok(repo, ['migrate', '--rollback']);
      assert.match(r.stdout, /^Rolled back migration /);
      // Every byte is back, nothing the migration created is left (sessions, config.yaml, prd/,
      // secrets/, backups/, ...), and .orchestrator/ keeps at most .gitignore, meta.json, locks/
      // and the journal, which says rolled_back.
      assertRolledBack(repo, before);
      const left = readdirSync(join(repo, '.orchestrator')).filter((n) => !['.gitignore', 'meta.json', 'locks', 'migration.json'].includes(n));
      assert.deepEqual(left.filter((n) => !originals.has(`.orchestrator/${n}`)), []);
    });
  }

  test('v3-sessions is already contained: nothing to migrate, nothing changes', () => {
    const repo = repoFromFixture('v3-sessions');
    const before = snapshotTree(repo);
    const r = ok(repo, ['migrate', '--yes']);
    assert.match(r.stdout, /Nothing to migrate/);
    assert.equal(r.stderr, '');
    const d = JSON.parse(ok(repo, ['migrate', '--dry-run', '--json']).stdout);
    assert.deepEqual([d.moves, d.problems], [[], []]);
    // Only the (machine-local, empty) locks/ of the repo lock migrate took to look.
    assert.deepEqual(diffTrees(before, snapshotTree(repo)).filter((l) => l !== 'added .orchestrator/locks/'), []);
    // It is read as it is, with no notice.
    const s = ok(repo, ['status', '--json']);
    assert.equal(s.stderr, '');
    assertSameWorkflow(JSON.parse(s.stdout), readJson(join(repo, '.orchestrator', 'sessions', '505a6972', 'state.json')));
    // And there is nothing to roll back.
    refuses(repo, ['migrate', '--rollback'], 2, [/no finished migration to roll back/]);
  });
});

describe('fidelity: the migrated workflow is the legacy one', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const repo = c.make();
      const legacyState = readJson(join(repo, c.state));
      const logBytes = readFileSync(join(repo, c.log));
      const legacyEvents = jsonLines(logBytes.toString('utf8'));
      assert.equal(new Set(legacyEvents.map((e) => e.workflow_id)).size, c.workflows);
      const checkpoints = c.checkpoints ? legacyFiles(repo) : new Map<string, string>();

      // Before migrating: the read-only commands work from the legacy files, one notice each.
      assertSameWorkflow(JSON.parse(readsLegacy(repo, ['status', '--json']).stdout), legacyState);
      readsLegacy(repo, ['status']);
      const tail = readsLegacy(repo, ['log', '-n', '5']);
      assert.equal(tail.stdout.trimEnd().split('\n').length, Math.min(5, legacyEvents.length));
      assert.deepEqual(JSON.parse(readsLegacy(repo, ['log', '-n', '5', '--json']).stdout).events, legacyEvents.slice(-5));
      const doc = readsLegacy(repo, ['doctor']);
      assert.match(doc.stdout, /legacy layout/);
      const cpIds = (json: any) => json.checkpoints.map((cp: any) => [cp.id, cp.timestamp, cp.phase_id, cp.message]);
      const legacyCps = JSON.parse(readsLegacy(repo, ['checkpoints', '--json']).stdout);
      assert.equal(legacyCps.checkpoints.length, c.checkpoints);
      assert.ok(legacyCps.checkpoints.every((cp: any) => !cp.problem && cp.id.startsWith('cp_') && cp.timestamp && cp.message), 'every legacy checkpoint is read');
      if (c.checkpoints) assert.match(readsLegacy(repo, ['checkpoints']).stdout, new RegExp(legacyCps.checkpoints[0].id));

      migrate(repo);
      const sdir = sessionDir(repo);
      const s = ok(repo, ['status', '--json']);
      assert.equal(s.stderr, '', 'no legacy notice once migrated');
      assertSameWorkflow(JSON.parse(s.stdout), legacyState);
      // Every log line is kept, events of other workflows too, in order.
      assert.ok(readFileSync(join(sdir, 'log.jsonl')).equals(logBytes), 'log.jsonl is byte-identical to the legacy log');
      const all = JSON.parse(ok(repo, ['log', '-n', '100000', '--json']).stdout);
      assert.deepEqual(all.events, legacyEvents);
      // Every checkpoint is kept byte for byte.
      const cps = [...checkpoints].filter(([rel]) => rel.startsWith('.workflow_checkpoints/'));
      assert.equal(cps.length, c.checkpoints);
      for (const [rel, sha] of cps) assert.equal(sha256(join(sdir, 'checkpoints', rel.slice('.workflow_checkpoints/'.length))), sha, rel);
      if (c.checkpoints) assert.equal(readdirSync(join(sdir, 'checkpoints')).length, c.checkpoints);
      assert.deepEqual(cpIds(JSON.parse(ok(repo, ['checkpoints', '--json']).stdout)), cpIds(legacyCps), 'checkpoints lists the same checkpoints after the migration');
      ok(repo, ['doctor']);
    });
  }
});

describe('migrate --dry-run', () => {
  test('lists every move with files and bytes, and a total; changes nothing', () => {
    const repo = repoFromFixture('v2-root');
    const before = snapshotTree(repo);
    const text = ok(repo, ['migrate', '--dry-run']).stdout;
    const plan = JSON.parse(ok(repo, ['migrate', '--dry-run', '--json']).stdout);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), [], '--dry-run changed files');
    assert.ok(!existsSync(join(repo, '.orchestrator')), '--dry-run creates no .orchestrator/');
    assert.equal(plan.ok, true);
    assert.equal(plan.dry_run, true);
    assert.deepEqual(plan.problems, []);
    const sid = plan.sessionId as string;
    const moves = Object.fromEntries(plan.moves.map((m: any) => [m.from, m]));
    const size = (p: string) => readFileSync(join(repo, p)).length;
    const cps = readdirSync(join(repo, '.workflow_checkpoints'));
    const want: Record<string, [string, number, number]> = {
      '.workflow_state.json': [`sessions/${sid}/state.json`, 1, size('.workflow_state.json')],
      '.workflow_log.jsonl': [`sessions/${sid}/log.jsonl`, 1, size('.workflow_log.jsonl')],
      '.workflow_checkpoints': [`sessions/${sid}/checkpoints`, cps.length, cps.reduce((n, f) => n + size(`.workflow_checkpoints/${f}`), 0)],
      '.secrets.enc': ['secrets/secrets.enc', 1, size('.secrets.enc')],
      '.orchestrator.yaml': ['config.yaml', 1, size('.orchestrator.yaml')],
      '.claude/prd_state.json': ['prd/state.json', 1, size('.claude/prd_state.json')],
    };
    assert.deepEqual(
      Object.fromEntries(Object.entries(moves).map(([from, m]: [string, any]) => [from, [m.to, m.files, m.bytes]])),
      want,
    );
    assert.equal(plan.files, 5 + cps.length);
    assert.equal(plan.bytes, Object.values(want).reduce((n, w) => n + w[2], 0));
    // The text names every move old -> new and the total.
    for (const [from, [to, files]] of Object.entries(want)) {
      const line = text.split('\n').find((l) => l.trimStart().startsWith(from + ' '));
      assert.ok(line, `the plan shows ${from}`);
      assert.match(line!, new RegExp(`->\\s+\\.orchestrator/${to.replace(/[.]/g, '\\.').replace(sid, '[0-9a-f]+')}\\s+${files} files?`));
    }
    assert.match(text, new RegExp(`Total: ${plan.files} files`));
    assert.match(text, /Problems: none\./);
  });

  test('lists every problem with its path, and exits with the first one\'s code', () => {
    const repo = repoFromFixture('v2-root');
    writeFileSync(join(repo, '.workflow_state.json'), '{"workflow_id": ');
    appendFileSync(join(repo, '.workflow_log.jsonl'), '{"timestamp": "2026-01-07T07:40:00Z", "event_t');
    symlinkSync('/etc/hostname', join(repo, '.workflow_checkpoints', 'cp_x.json'));
    const before = snapshotTree(repo);
    const r = expectCode(runCli(repo, ['migrate', '--dry-run', '--json']), 2, 'migrate --dry-run --json');
    const plan = JSON.parse(r.stdout);
    assert.equal(plan.ok, false);
    const paths = plan.problems.map((p: any) => p.path).sort();
    assert.deepEqual(paths, ['.workflow_checkpoints/cp_x.json', '.workflow_log.jsonl:313', '.workflow_state.json']);
    assert.ok(plan.problems.every((p: any) => p.exitCode === 2 && typeof p.message === 'string' && p.message.length > 10));
    const text = expectCode(runCli(repo, ['migrate', '--dry-run']), 2, 'migrate --dry-run').stdout;
    assert.match(text, /Problems \(3\):/);
    for (const p of paths) assert.ok(text.includes(`  ${p}: `), `the text lists ${p}`);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
    assert.ok(!existsSync(join(repo, '.orchestrator')));
  });
});

describe('dual mode before migrating', () => {
  test('a writing command refuses with exit 3 naming orchestrator migrate, changing nothing', () => {
    const repo = repoFromFixture('v2-root-small');
    mkdirSync(join(repo, 'docs'));
    writeFileSync(join(repo, 'docs', 'plan.md'), '# plan\n');
    refuses(repo, ['complete', 'initial_plan'], 3, [/legacy layout/, /orchestrator migrate/, /ORCHESTRATOR_LAYOUT=legacy/]);
    refuses(repo, ['skip', 'risk_analysis', '--reason', 'not needed for this change'], 3, [/orchestrator migrate/]);
    refuses(repo, ['start', 'Another task'], 3, [/orchestrator migrate/]);
    refuses(repo, ['doctor', '--reseal'], 3, [/orchestrator migrate/]);
    assert.ok(!existsSync(join(repo, '.orchestrator')));
  });

  test('ORCHESTRATOR_AUTO_MIGRATE=1 migrates first, then the command works', () => {
    const repo = repoFromFixture('v2-root-small');
    const originals = legacyFiles(repo);
    const logBytes = readFileSync(join(repo, '.workflow_log.jsonl'));
    const r = ok(repo, ['skip', 'risk_analysis', '--reason', 'not needed for this change'], { env: { ORCHESTRATOR_AUTO_MIGRATE: '1' } });
    assert.match(r.stderr, /ORCHESTRATOR_AUTO_MIGRATE: migrated 2 legacy files/);
    for (const p of originals.keys()) assert.ok(!existsSync(join(repo, p)), `${p} moved`);
    const j = readJson(join(repo, '.orchestrator', 'migration.json'));
    assert.equal(j.status, 'done');
    for (const [rel, sha] of originals) assert.equal(sha256(join(repo, '.orchestrator', j.backup, rel)), sha, `backup of ${rel}`);
    const sdir = sessionDir(repo);
    assert.equal(readJson(join(sdir, 'state.json')).phases.PLAN.items.risk_analysis.status, 'skipped');
    const log = readFileSync(join(sdir, 'log.jsonl'));
    assert.ok(log.subarray(0, logBytes.length).equals(logBytes), 'the legacy log lines come first, unchanged');
    assert.ok(jsonLines(log.subarray(logBytes.length).toString('utf8')).some((e) => e.event_type === 'item_skipped' && e.item_id === 'risk_analysis'));
    const s = ok(repo, ['status', '--json']);
    assert.equal(s.stderr, '');
    assert.equal(JSON.parse(s.stdout).items.find((i: any) => i.id === 'risk_analysis').status, 'skipped');
  });

  test('ORCHESTRATOR_LAYOUT=legacy: complete and skip write .workflow_state.json and .workflow_log.jsonl in place', () => {
    const repo = repoFromFixture('v2-root-small');
    mkdirSync(join(repo, 'docs'));
    writeFileSync(join(repo, 'docs', 'plan.md'), '# plan\n');
    const logBytes = readFileSync(join(repo, '.workflow_log.jsonl'));
    const env = { ORCHESTRATOR_LAYOUT: 'legacy' };
    ok(repo, ['complete', 'initial_plan', '--notes', 'wrote docs/plan.md'], { env });
    ok(repo, ['skip', 'risk_analysis', '--reason', 'not needed for this change'], { env });
    const state = readJson(join(repo, '.workflow_state.json'));
    assert.equal(state.phases.PLAN.items.initial_plan.status, 'completed');
    assert.equal(state.phases.PLAN.items.initial_plan.notes, 'wrote docs/plan.md');
    assert.equal(state.phases.PLAN.items.risk_analysis.status, 'skipped');
    assert.equal(state.workflow_id, 'wf_58ae39a9');
    const log = readFileSync(join(repo, '.workflow_log.jsonl'));
    assert.ok(log.subarray(0, logBytes.length).equals(logBytes), 'the old lines are kept as they were');
    const added = jsonLines(log.subarray(logBytes.length).toString('utf8'));
    assert.deepEqual(
      added.filter((e) => e.event_type === 'item_completed' || e.event_type === 'item_skipped').map((e) => [e.event_type, e.item_id, e.workflow_id]),
      [
        ['item_completed', 'initial_plan', 'wf_58ae39a9'],
        ['item_skipped', 'risk_analysis', 'wf_58ae39a9'],
      ],
    );
    // Nothing was migrated: no session, no journal.
    assert.ok(!existsSync(join(repo, '.orchestrator', 'sessions')));
    assert.ok(!existsSync(join(repo, '.orchestrator', 'migration.json')));
    // And the dual-mode read sees the new state.
    const view = JSON.parse(readsLegacy(repo, ['status', '--json']).stdout);
    assert.equal(view.progress.done, 2);
  });
});

describe('migrate --yes and --rollback', () => {
  test('without --yes: exit 2 naming --yes, nothing changed; a second migrate says Already migrated', () => {
    const repo = repoFromFixture('v2-root');
    refuses(repo, ['migrate'], 2, [/--yes/, /--dry-run/]);
    assert.ok(!existsSync(join(repo, '.orchestrator')));
    refuses(repo, ['migrate', '--prefer', 'sideways'], 2, [/--prefer sideways/]);
    refuses(repo, ['migrate', '--rollback'], 2, [/no finished migration/]);
    migrate(repo);
    const before = snapshotTree(repo);
    const again = ok(repo, ['migrate', '--yes']);
    assert.match(again.stdout, /^Already migrated/);
    assert.match(ok(repo, ['migrate']).stdout, /^Already migrated/);
    assert.match(ok(repo, ['migrate', '--dry-run']).stdout, /^Already migrated/);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
    assert.equal(readdirSync(join(repo, '.orchestrator', 'backups')).length, 1);
  });

  test('rollback is refused (exit 3, naming the changed file) after a complete changed the migrated state', () => {
    const repo = repoFromFixture('v2-root-small');
    migrate(repo);
    const sid = readFileSync(join(repo, '.orchestrator', 'current'), 'utf8');
    mkdirSync(join(repo, 'docs'));
    writeFileSync(join(repo, 'docs', 'plan.md'), '# plan\n');
    ok(repo, ['complete', 'initial_plan', '--notes', 'wrote docs/plan.md']);
    refuses(repo, ['migrate', '--rollback'], 3, [/cannot roll back/, new RegExp(`sessions/${sid}/state\\.json \\(changed since the migration\\)`)]);
    // The migrated work is intact and the legacy files were not put back.
    assert.ok(!existsSync(join(repo, '.workflow_state.json')));
    assert.equal(readJson(join(repo, '.orchestrator', 'sessions', sid, 'state.json')).phases.PLAN.items.initial_plan.status, 'completed');
  });
});

test('rollback is not blocked by the temp file of a write the migration was killed in', () => {
  // What a SIGKILL between writing sessions/<id>/meta.json's temp file and renaming it leaves.
  const repo = repoFromFixture('v2-root-small');
  const before = snapshotTree(repo);
  migrate(repo);
  writeFileSync(join(sessionDir(repo), '.meta.json.tmp-4242-0a1b2c3d'), '{"session_id": ');
  ok(repo, ['migrate', '--rollback']);
  assertRolledBack(repo, before);
});

describe('both layouts', () => {
  const LEGACY_CONFIG = 'test_command: "true"\n';
  const CONTAINED_CONFIG = 'test_command: "make test"\n';

  function bothRepo(): string {
    const repo = repoFromFixture('v3-sessions');
    writeFileSync(join(repo, '.orchestrator', 'config.yaml'), CONTAINED_CONFIG);
    writeFileSync(join(repo, '.orchestrator.yaml'), LEGACY_CONFIG);
    return repo;
  }

  test('a differing file is refused with exit 3 naming --prefer; reads get a notice, writes exit 3', () => {
    const repo = bothRepo();
    refusesMigrate(repo, 3, [/\.orchestrator\.yaml/, /differs from the existing \.orchestrator\/config\.yaml/, /--prefer old/, /--prefer new/]);
    refuses(repo, ['complete', 'check_roadmap'], 3, [/both/, /--prefer/]);
    readsLegacy(repo, ['status']);
  });

  test('--prefer old: the legacy file wins, the contained one goes to the backup; rollback restores both', () => {
    const repo = bothRepo();
    const before = snapshotTree(repo);
    const sessionBefore = snapshotTree(join(repo, '.orchestrator', 'sessions'));
    migrate(repo, ['--prefer', 'old']);
    assert.equal(readFileSync(join(repo, '.orchestrator', 'config.yaml'), 'utf8'), LEGACY_CONFIG);
    assert.ok(!existsSync(join(repo, '.orchestrator.yaml')));
    const j = readJson(join(repo, '.orchestrator', 'migration.json'));
    const backup = join(repo, '.orchestrator', j.backup);
    assert.equal(readFileSync(join(backup, '.orchestrator.yaml'), 'utf8'), LEGACY_CONFIG);
    assert.equal(readFileSync(join(backup, '.orchestrator', 'config.yaml'), 'utf8'), CONTAINED_CONFIG);
    assert.deepEqual(diffTrees(sessionBefore, snapshotTree(join(repo, '.orchestrator', 'sessions'))), [], 'the sessions are untouched');
    assert.equal(ok(repo, ['status']).stderr, '', 'one layout now: no notice');
    ok(repo, ['migrate', '--rollback']);
    assertRolledBack(repo, before);
  });

  test('--prefer new: the contained file stays, the legacy one goes to the backup; rollback restores both', () => {
    const repo = bothRepo();
    const before = snapshotTree(repo);
    migrate(repo, ['--prefer', 'new']);
    assert.equal(readFileSync(join(repo, '.orchestrator', 'config.yaml'), 'utf8'), CONTAINED_CONFIG);
    assert.ok(!existsSync(join(repo, '.orchestrator.yaml')));
    const j = readJson(join(repo, '.orchestrator', 'migration.json'));
    assert.equal(readFileSync(join(repo, '.orchestrator', j.backup, '.orchestrator.yaml'), 'utf8'), LEGACY_CONFIG);
    assert.ok(!existsSync(join(repo, '.orchestrator', j.backup, '.orchestrator')), 'nothing contained was displaced');
    assert.deepEqual(
      diffTrees(before, snapshotTree(repo)).filter((d) => !/^added \.orchestrator\/(backups\/.*|migration\.json|meta\.json|locks\/.*)$/.test(d)),
      ['removed .orchestrator.yaml'],
    );
    ok(repo, ['migrate', '--rollback']);
    assertRolledBack(repo, before);
  });
});

// Three rounds: a late starter that checks the files while the winner moves them is a matter of
// timing, and each round is another chance for it.
for (const round of [1, 2, 3]) test(`8 concurrent migrate --yes (round ${round}): all exit 0, one migrates, one backup, the state intact`, async () => {
  const repo = repoFromFixture('v2-root');
  const originals = legacyFiles(repo);
  const env = { ORCHESTRATOR_LOCK_TIMEOUT: '120' };
  const results = await Promise.all(Array.from({ length: 8 }, () => runCliAsync(repo, ['migrate', '--yes'], { env })));
  for (const r of results) expectCode(r, 0, 'a concurrent migrate --yes');
  const migrated = results.filter((r) => /^Migrated /.test(r.stdout));
  assert.equal(migrated.length, 1, `exactly one migrated:\n${results.map((r) => r.stdout + r.stderr).join('\n')}`);
  assert.ok(results.filter((r) => r !== migrated[0]).every((r) => /^Already migrated/.test(r.stdout)));
  assert.equal(readdirSync(join(repo, '.orchestrator', 'backups')).length, 1);
  assertWhollyContained(repo, originals);
  assert.equal(readdirSync(join(repo, '.orchestrator', 'sessions')).length, 1);
  assertSameWorkflow(JSON.parse(ok(repo, ['status', '--json']).stdout), readJson(join(FIXTURES, 'v2-root', '.workflow_state.json')));
});

describe('bad input: refused with its exit code, nothing changed, no .orchestrator/ created', () => {
  test('a corrupt .workflow_state.json (2)', () => {
    const repo = repoFromFixture('v2-root');
    writeFileSync(join(repo, '.workflow_state.json'), '{"workflow_id": "wf_94a0f102", ');
    refusesMigrate(repo, 2, [/\.workflow_state\.json: is not valid JSON/, /restore it/]);
  });

  test('a v3 state whose checksum does not match (2)', () => {
    const repo = v3FlatRepo();
    const p = join(repo, '.orchestrator', 'state.json');
    writeFileSync(p, readFileSync(p, 'utf8').replace('Add user authentication', 'Add user authorisation'));
    refusesMigrate(repo, 2, [/\.orchestrator\/state\.json: its _checksum does not match/]);
  });

  test('a truncated last log line (2)', () => {
    const repo = repoFromFixture('v2-root');
    const p = join(repo, '.workflow_log.jsonl');
    const text = readFileSync(p, 'utf8');
    writeFileSync(p, text.slice(0, text.trimEnd().length - 25));
    const lines = text.trimEnd().split('\n').length;
    refusesMigrate(repo, 2, [new RegExp(`\\.workflow_log\\.jsonl:${lines}: is not a complete JSON line`)]);
  });

  test('a symlink in the legacy tree pointing outside the repo (2)', () => {
    const repo = repoFromFixture('v2-root');
    symlinkSync('/etc/hostname', join(repo, '.workflow_checkpoints', 'cp_x.json'));
    refusesMigrate(repo, 2, [/\.workflow_checkpoints\/cp_x\.json: is a symlink/, /never follows links/]);
    // A legacy path that is itself a link.
    const other = repoFromFixture('v2-root');
    rmSync(join(other, '.secrets.enc'));
    symlinkSync('/etc/hostname', join(other, '.secrets.enc'));
    refusesMigrate(other, 2, [/\.secrets\.enc: is a symbolic link/]);
  });

  // Root ignores permission bits, and the tests run as root here and in CI: the CLI runs as
  // `nobody` for these, in a repo that user owns, so the kernel refuses it as it refuses a user.
  const asUser = unprivilegedRunner();
  const why = asUser ? false : 'running as root, and neither setpriv nor runuser can drop to an unprivileged user here';

  test('an unreadable file (4)', { skip: why }, () => {
    const repo = repoFromFixture('v2-root');
    const cp = readdirSync(join(repo, '.workflow_checkpoints'))[0]!;
    asUser!.own(repo);
    chmodSync(join(repo, '.workflow_checkpoints', cp), 0o000);
    refusesMigrate(repo, 4, [new RegExp(`\\.workflow_checkpoints/${cp.replace(/\./g, '\\.')}: cannot be read \\(EACCES\\)`), /chmod u\+r/], asUser!.run);
    // The same repo with the permission back migrates as that user: the refusal was the permission.
    chmodSync(join(repo, '.workflow_checkpoints', cp), 0o644);
    expectCode(asUser!.run(repo, ['migrate', '--yes']), 0, 'migrate --yes as an unprivileged user');
  });

  test('a read-only legacy directory and a read-only repo root (4)', { skip: why }, () => {
    const repo = repoFromFixture('v2-root');
    asUser!.own(repo);
    // Moving a directory to another parent rewrites its "..": it must be writable itself.
    chmodSync(join(repo, '.workflow_checkpoints'), 0o555);
    refusesMigrate(repo, 4, [/\.workflow_checkpoints: is not writable/, /chmod u\+w/], asUser!.run);
    chmodSync(join(repo, '.workflow_checkpoints'), 0o755);
    chmodSync(join(repo, '.claude'), 0o555);
    refusesMigrate(repo, 4, [/\.claude: is not writable/], asUser!.run);
    chmodSync(join(repo, '.claude'), 0o755);
    chmodSync(repo, 0o555);
    refusesMigrate(repo, 4, [new RegExp(`${repo.replace(/[.]/g, '\\.')}: is not writable`)], asUser!.run);
    chmodSync(repo, 0o755);
    expectCode(asUser!.run(repo, ['migrate', '--yes']), 0, 'migrate --yes as an unprivileged user');
  });
});

interface UserRunner {
  /** Gives the repo (and the path to it) to the unprivileged user. */
  own(repo: string): void;
  run(cwd: string, args: string[], opts?: CliOptions): CliResult;
}

/**
 * Runs the CLI as an unprivileged user: itself when not root, else `nobody` via setpriv or runuser,
 * from a copy of the bundle that user can read (a checkout may sit in a 0700 directory, as a clean
 * clone in CI does).
 */
function unprivilegedRunner(): UserRunner | null {
  const root = process.getuid?.() === 0;
  let bin = BIN;
  if (root) {
    const dir = tempDir('orch-bin-');
    chmodSync(dir, 0o755);
    bin = join(dir, 'orchestrator.js');
    copyFileSync(BIN, bin);
    chmodSync(bin, 0o644);
  }
  const spawnAs = (prefix: string[]) => (cwd: string, args: string[], opts: CliOptions = {}): CliResult => {
    const [cmd, ...pre] = prefix.length ? prefix : [process.execPath];
    const r = spawnSync(cmd!, [...pre, ...(prefix.length ? [process.execPath] : []), bin, ...args], {
      cwd,
      env: cliEnv(opts.env),
      input: '',
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  };
  if (!root) return { own: () => {}, run: spawnAs([]) };
  const candidates = [
    ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
    ['runuser', '-u', 'nobody', '--'],
  ];
  for (const prefix of candidates) {
    // The probe must run node as a non-root user that can read the bundle.
    const probe = spawnSync(prefix[0]!, [...prefix.slice(1), process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(bin)}); process.exit(process.getuid() === 0 ? 1 : 0)`]);
    if (probe.status === 0) {
      return {
        own: (repo) => {
          const r = spawnSync('chown', ['-R', '65534:65534', repo]);
          if (r.status !== 0) throw new Error(`chown ${repo}: ${r.stderr}`);
        },
        run: spawnAs(prefix),
      };
    }
  }
  return null;
}
