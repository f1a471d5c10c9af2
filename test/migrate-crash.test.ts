// A migration killed at any moment (CONTRACT §2, issue 4): the process dies by SIGKILL, the next
// command finishes or undoes what it left, and the repo is then wholly legacy or wholly contained,
// never a mix, with every byte of every file accounted for by sha256.
//   1. ORCHESTRATOR_FAULT_INJECT at every journal step of the v2-root fixture (and of a --prefer
//      old migration, for the displace step): the outcome each step must give, then a rollback.
//   2. External SIGKILLs at random moments while a large synthetic tree migrates.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BIN, cliEnv, expectCode, FIXTURES, makeRepo, readJson, repoFromFixture, runCli, snapshotTree, tempDir, type CliResult } from './helpers/cli.ts';
import { assertRolledBack, assertWholly, legacyFiles } from './fixtures/migrate-check.ts';

/** migrate --yes with a fault injected at `step`: it must die by SIGKILL there. */
function migrateKilledAt(repo: string, step: string): CliResult {
  const r = runCli(repo, ['migrate', '--yes'], { env: { ORCHESTRATOR_FAULT_INJECT: step } });
  assert.equal(r.signal, 'SIGKILL', `migrate with ORCHESTRATOR_FAULT_INJECT=${step} did not die by SIGKILL (exit ${r.code}): ${r.stderr}`);
  return r;
}

/** Every journal step a migration of `moves` moves passes, in order (src/migrate/execute.ts). */
function stepsOf(moves: number, displaced = 0): string[] {
  const each = (name: string, n: number) => Array.from({ length: n }, (_, i) => `${name}:${i}`);
  return ['staging', ...each('stage', moves), 'switching', ...each('displace', displaced), ...each('switch', moves), 'backing_up', ...each('backup', moves), 'done'];
}

/** Steps before `switching` leave the originals untouched and are undone; the rest are finished. */
function expectedOutcome(step: string): 'legacy' | 'contained' {
  return step === 'staging' || step.startsWith('stage:') ? 'legacy' : 'contained';
}

describe('fault injected at every step of migrating v2-root', () => {
  const probe = repoFromFixture('v2-root');
  const plan = JSON.parse(expectCode(runCli(probe, ['migrate', '--dry-run', '--json']), 0, 'migrate --dry-run --json').stdout);
  // state, log, checkpoints, secrets, config, prd state: one move each.
  assert.equal(plan.moves.length, 6);
  const steps = stepsOf(plan.moves.length);

  for (const step of steps) {
    test(step, () => {
      const repo = repoFromFixture('v2-root');
      const before = snapshotTree(repo);
      const originals = legacyFiles(repo);
      migrateKilledAt(repo, step);
      // Killed: the journal is left at the step's status (nothing ran after the kill).
      const journal = readJson(join(repo, '.orchestrator', 'migration.json'));
      const status = step === 'done' ? 'done' : expectedOutcome(step) === 'legacy' ? 'staging' : /^(backing_up|backup:)/.test(step) ? 'backing_up' : 'switching';
      assert.equal(journal.status, status, 'the journal records the step the kill interrupted');

      // The next command, whatever it is, settles the repo first; the workflow reads the same.
      const s = expectCode(runCli(repo, ['status', '--json']), 0, 'status after the kill');
      if (step !== 'done') assert.match(s.stderr, /an interrupted migration was (undone|finished)/);
      assert.equal(JSON.parse(s.stdout).workflow_id, 'wf_94a0f102');
      const outcome = assertWholly(repo, originals, before);
      assert.equal(outcome, expectedOutcome(step), `a kill at ${step} must leave the repo ${expectedOutcome(step)}`);
      if (outcome === 'legacy') {
        assert.match(s.stderr, /legacy layout.*orchestrator migrate/);
        assert.equal(readJson(join(repo, '.orchestrator', 'migration.json')).status, 'rolled_back');
        if (step !== 'staging') return;
        // Undone, so migrating again works (and rolls back like any other).
        expectCode(runCli(repo, ['migrate', '--yes']), 0, 'migrate --yes after an undone migration');
        assert.equal(assertWholly(repo, originals, before), 'contained');
      }
      const r = expectCode(runCli(repo, ['migrate', '--rollback']), 0, 'migrate --rollback');
      assert.match(r.stdout, /^Rolled back/);
      assertRolledBack(repo, before);
    });
  }
});

describe('fault injected at every step of a --prefer old migration (both layouts)', () => {
  const LEGACY_CONFIG = 'test_command: "true"\n';
  const CONTAINED_CONFIG = 'test_command: "make test"\n';
  const make = () => {
    const repo = repoFromFixture('v3-sessions');
    writeFileSync(join(repo, '.orchestrator', 'config.yaml'), CONTAINED_CONFIG);
    writeFileSync(join(repo, '.orchestrator.yaml'), LEGACY_CONFIG);
    return repo;
  };

  for (const step of stepsOf(1, 1)) {
    test(step, () => {
      const repo = make();
      const before = snapshotTree(repo);
      const r = runCli(repo, ['migrate', '--yes', '--prefer', 'old'], { env: { ORCHESTRATOR_FAULT_INJECT: step } });
      assert.equal(r.signal, 'SIGKILL', `exit ${r.code}: ${r.stderr}`);
      expectCode(runCli(repo, ['status']), 0, 'status after the kill');
      const config = readFileSync(join(repo, '.orchestrator', 'config.yaml'), 'utf8');
      if (expectedOutcome(step) === 'legacy') {
        // Undone: both files as they were, nothing else but housekeeping.
        assertRolledBack(repo, before);
        return;
      }
      // Finished: the legacy config won, the contained one is in the backup, the session untouched.
      assert.equal(config, LEGACY_CONFIG);
      assert.ok(!existsSync(join(repo, '.orchestrator.yaml')));
      const j = readJson(join(repo, '.orchestrator', 'migration.json'));
      assert.equal(j.status, 'done');
      assert.equal(readFileSync(join(repo, '.orchestrator', j.backup, '.orchestrator', 'config.yaml'), 'utf8'), CONTAINED_CONFIG);
      assert.equal(readFileSync(join(repo, '.orchestrator', j.backup, '.orchestrator.yaml'), 'utf8'), LEGACY_CONFIG);
      const sessions = [...before].filter(([k]) => k.startsWith('.orchestrator/sessions/'));
      const now = snapshotTree(repo);
      for (const [k, v] of sessions) assert.equal(now.get(k), v, `${k} is untouched`);
      expectCode(runCli(repo, ['migrate', '--rollback']), 0, 'migrate --rollback');
      assertRolledBack(repo, before);
    });
  }
});

/** Deterministic pseudo-random numbers (mulberry32), so a failing round can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A large legacy tree: the small fixture's state, a 30 MB log and 2,000 small checkpoints. */
function largeTemplate(): string {
  const dir = tempDir('orch-large-');
  cpSync(join(FIXTURES, 'v2-root-small', '.workflow_state.json'), join(dir, '.workflow_state.json'));
  cpSync(join(FIXTURES, 'v2-root', 'workflow.yaml'), join(dir, 'workflow.yaml'));
  const lines = readFileSync(join(FIXTURES, 'v2-root', '.workflow_log.jsonl'));
  const copies = Math.ceil((30 * 1024 * 1024) / lines.length);
  writeFileSync(join(dir, '.workflow_log.jsonl'), Buffer.concat(Array.from({ length: copies }, () => lines)));
  mkdirSync(join(dir, '.workflow_checkpoints'));
  for (let i = 0; i < 2000; i++) {
    const id = `cp_20260106_${String(i).padStart(6, '0')}_bddea0`;
    writeFileSync(join(dir, '.workflow_checkpoints', `${id}.json`), JSON.stringify({ checkpoint_id: id, workflow_id: 'wf_58ae39a9', phase_id: 'PLAN', message: `checkpoint ${i}` }));
  }
  return dir;
}

interface KillRun {
  killed: boolean;
  code: number | null;
  stderr: string;
  /** ms from the start until the journal first said `switching` (null: not seen). */
  switchingAt: number | null;
  ms: number;
}

/**
 * Starts migrate --yes and SIGKILLs it `delayMs` after the start, or, with `afterSwitching`, that
 * long after the journal first says `switching` (the renames are a sliver of the run: uniform
 * delays would almost never land in them). The journal is polled while the child runs.
 */
function migrateKilledAfter(repo: string, delayMs: number, afterSwitching = false, watch = afterSwitching): Promise<KillRun> {
  return new Promise((done) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [BIN, 'migrate', '--yes'], { cwd: repo, env: cliEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let switchingAt: number | null = null;
    let timer: NodeJS.Timeout | null = afterSwitching ? null : setTimeout(() => child.kill('SIGKILL'), delayMs);
    let exited = false;
    const journal = join(repo, '.orchestrator', 'migration.json');
    // Polled every 2 ms, not in a busy loop: the child needs the CPU more than the test does.
    const poll = () => {
      if (exited || !watch) return;
      if (switchingAt === null) {
        let text = '';
        try {
          text = readFileSync(journal, 'utf8');
        } catch {
          // not written yet
        }
        if (/"status": "(switching|backing_up|done)"/.test(text)) {
          switchingAt = Date.now() - t0;
          if (afterSwitching) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
        }
      }
      if (switchingAt === null) setTimeout(poll, 2);
    };
    poll();
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => {
      exited = true;
      if (timer) clearTimeout(timer);
      done({ killed: signal === 'SIGKILL', code, stderr, switchingAt, ms: Date.now() - t0 });
    });
  });
}

test('SIGKILL at random moments while a large tree migrates: wholly legacy or wholly contained, every byte kept', async (t) => {
  const template = largeTemplate();
  const seed = Number(process.env.MIGRATE_CRASH_SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`seed ${seed} (replay with MIGRATE_CRASH_SEED=${seed})`);
  const rand = random(seed);
  const fresh = () => {
    const repo = makeRepo();
    cpSync(template, repo, { recursive: true });
    return repo;
  };
  const probe = fresh();
  const originals = legacyFiles(probe);
  assert.equal(originals.size, 2002);
  const before = snapshotTree(probe);

  // One uninterrupted run: how long a migration and its rename phase take here, so the kills
  // land inside one. (Measured only to aim; nothing asserts on time.)
  const full = await migrateKilledAfter(probe, 600_000, false, true);
  assert.equal(full.code, 0, full.stderr);
  assert.equal(assertWholly(probe, originals, before), 'contained');
  const span = full.ms;
  const tail = Math.max(5, full.ms - (full.switchingAt ?? full.ms));

  const started = Date.now();
  const outcomes: string[] = [];
  // Bounded to ~20 s of rounds, at least 4: every other one aims at the rename phase.
  for (let round = 0; round < 4 || Date.now() - started < 20_000 - span; round++) {
    const repo = fresh();
    const late = round % 2 === 1;
    const delay = Math.round(late ? tail * rand() : span * (0.05 + 0.95 * rand()));
    const r = await migrateKilledAfter(repo, delay, late);
    assert.ok(r.killed || r.code === 0, `migrate failed on its own: exit ${r.code}: ${r.stderr}`);
    // One command, whatever it is, settles the repo.
    expectCode(runCli(repo, ['status']), 0, `status after a kill at ${delay} ms`);
    const outcome = assertWholly(repo, originals, before);
    outcomes.push(`${late ? 'switching+' : ''}${delay} ms: ${r.killed ? 'killed' : 'finished'}, ${outcome}`);
  }
  t.diagnostic(`one migration took ${span} ms (renames ${tail} ms); rounds: ${outcomes.join('; ')}`);
  assert.ok(outcomes.some((o) => o.includes('killed')), 'at least one round was killed part way');
});
