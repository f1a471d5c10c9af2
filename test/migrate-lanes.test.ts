// `migrate` of a tree with a big log and many small files (issue 4): the log (copied in chunks
// through the libuv pool, its lines checked in the worker thread) and the checkpoints (copied
// meanwhile on the main thread) are staged at the same time. The result must be the same as copying one file after the other:
// every byte arrives, and a refusal names the first bad file in move order, with its line.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ok, readJson, refuses, repoFromFixture, runCli, snapshotTree } from './helpers/cli.ts';
import { assertRolledBack, assertWhollyContained, legacyFiles, sha256 } from './fixtures/migrate-check.ts';

/** Big enough for the worker thread (execute.ts: 16 MiB) and several writeback rounds (64 MiB). */
const LOG_BYTES = 80 << 20;
const CHECKPOINTS = 400;

/** v2-root with its log repeated to LOG_BYTES and CHECKPOINTS more checkpoints; returns the log's line count. */
function bigTree(): { repo: string; lines: number } {
  const repo = repoFromFixture('v2-root');
  const log = join(repo, '.workflow_log.jsonl');
  const one = readFileSync(log);
  const copies = Math.ceil(LOG_BYTES / one.length);
  writeFileSync(log, Buffer.concat(Array.from({ length: copies }, () => one)));
  const perCopy = one.toString('utf8').split('\n').length - 1;
  for (let i = 0; i < CHECKPOINTS; i++) {
    const id = `cp_20260107_${String(i).padStart(6, '0')}_lanes0`;
    writeFileSync(join(repo, '.workflow_checkpoints', `${id}.json`), JSON.stringify({ checkpoint_id: id, workflow_id: 'wf_94a0f102', phase_id: 'PLAN', message: `checkpoint ${i}` }, null, 2));
  }
  return { repo, lines: copies * perCopy };
}

/** Overwrites bytes of `path` at `at` (the size stays). */
function poke(path: string, at: number, bytes: string): void {
  const b = readFileSync(path);
  b.write(bytes, at, 'latin1');
  writeFileSync(path, b);
}

/** A refused migrate that leaves every file as it was and creates no .orchestrator/. */
function refusedMigrate(repo: string, patterns: RegExp[]): void {
  refuses(repo, ['migrate', '--yes'], 2, patterns);
  assert.ok(!existsSync(join(repo, '.orchestrator')), 'a refused migrate creates no .orchestrator/');
}

describe('a big log and many checkpoints staged at once', () => {
  test('every file arrives byte for byte, the journal hashes match, rollback restores all', () => {
    const { repo } = bigTree();
    const originals = legacyFiles(repo);
    const before = snapshotTree(repo);
    ok(repo, ['migrate', '--yes']);
    const j = assertWhollyContained(repo, originals);
    const journal = readJson(join(repo, '.orchestrator', 'migration.json'));
    let hashed = 0;
    for (const m of journal.moves) {
      for (const [rel, hash] of Object.entries(m.hashes as Record<string, string>)) {
        assert.equal(sha256(join(repo, '.orchestrator', rel)), hash, `journal hash of ${rel}`);
        hashed++;
      }
    }
    assert.equal(hashed, originals.size, 'the journal has a hash for every file');
    assert.ok(j.session_id);
    ok(repo, ['migrate', '--rollback']);
    assertRolledBack(repo, before);
  });

  test('a bad line deep in the log is named with its number, though a later checkpoint is bad too', () => {
    const { repo, lines } = bigTree();
    const log = join(repo, '.workflow_log.jsonl');
    const text = readFileSync(log, 'latin1');
    // Break the line that starts at about 3/4 of the log: after many chunks went through the worker.
    const start = text.indexOf('\n', Math.floor(text.length * 0.75)) + 1;
    const lineNo = text.slice(0, start).split('\n').length;
    poke(log, start, '#');
    assert.ok(lineNo > 1000 && lineNo < lines);
    writeFileSync(join(repo, '.workflow_checkpoints', 'cp_20260107_000399_lanes0.json'), '{"checkpoint_id": ');
    refusedMigrate(repo, [new RegExp(`\\.workflow_log\\.jsonl:${lineNo}: is not a complete JSON line`)]);
  });

  test('a bad checkpoint is named while the big log is still being checked', () => {
    const { repo } = bigTree();
    writeFileSync(join(repo, '.workflow_checkpoints', 'cp_20260107_000007_lanes0.json'), '{"checkpoint_id": ');
    refusedMigrate(repo, [/\.workflow_checkpoints\/cp_20260107_000007_lanes0\.json: is not valid JSON/]);
    // Fixed, it migrates.
    writeFileSync(join(repo, '.workflow_checkpoints', 'cp_20260107_000007_lanes0.json'), '{}');
    const originals = legacyFiles(repo);
    assert.equal(runCli(repo, ['migrate', '--yes']).code, 0);
    assertWhollyContained(repo, originals);
  });

  test('big files found only inside a legacy directory are hashed and checked by workers started during the copy', () => {
    const repo = repoFromFixture('v2-root');
    // 20 MiB each: a checkpoint (one JSON document) and a feedback log (JSON Lines, in the root).
    const bigCheckpoint = join(repo, '.workflow_checkpoints', 'cp_20260107_000000_big000.json');
    writeFileSync(bigCheckpoint, JSON.stringify({ checkpoint_id: 'cp_20260107_000000_big000', notes: Array.from({ length: 200_000 }, (_, i) => `note ${i} ${'x'.repeat(90)}`) }));
    const line = JSON.stringify({ timestamp: '2024-01-08T09:00:00Z', event_type: 'feedback', message: 'y'.repeat(300) });
    writeFileSync(join(repo, '.workflow_feedback.jsonl'), `${line}\n`.repeat(Math.ceil((20 << 20) / (line.length + 1))));
    const originals = legacyFiles(repo);
    ok(repo, ['migrate', '--yes']);
    assertWhollyContained(repo, originals);
    const journal = readJson(join(repo, '.orchestrator', 'migration.json'));
    const hashes = Object.assign({}, ...journal.moves.map((m: { hashes: Record<string, string> }) => m.hashes)) as Record<string, string>;
    const checkpoint = Object.keys(hashes).find((k) => k.endsWith('cp_20260107_000000_big000.json'))!;
    assert.equal(hashes[checkpoint], originals.get('.workflow_checkpoints/cp_20260107_000000_big000.json'));
    assert.equal(hashes['feedback/workflow.jsonl'], originals.get('.workflow_feedback.jsonl'));
  });

  test('workers started early for a big log change nothing when the plan refuses before the copy', () => {
    const { repo } = bigTree();
    symlinkSync('/etc/hostname', join(repo, '.workflow_checkpoints', 'cp_link.json'));
    refusedMigrate(repo, [/\.workflow_checkpoints\/cp_link\.json: is a symlink/]);
    rmSync(join(repo, '.workflow_checkpoints', 'cp_link.json'));
    refuses(repo, ['migrate'], 2, [/needs a yes: rerun with --yes/]);
  });
});

