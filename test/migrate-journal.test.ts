// The migration journal's text: the moves are serialized once after staging (journalText), and the
// file must still be exactly what JSON.stringify gives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JOURNAL_STATUSES, journalText, type Journal } from '../src/migrate/journal.ts';

function journal(hashes: number): Journal {
  const h: Record<string, string> = {};
  for (let i = 0; i < hashes; i++) h[`sessions/s1/checkpoints/cp_${i}.json`] = i.toString(16).padStart(64, '0');
  return {
    version: 1,
    id: '20261206T200000Z',
    status: 'switching',
    started_at: '2026-12-06T20:00:00.000Z',
    updated_at: '2026-12-06T20:00:01.000Z',
    session_id: 's1',
    set_current: true,
    staging: 'staging-20261206T200000Z',
    backup: 'backups/20261206T200000Z',
    moves: [
      { from: '.workflow_checkpoints', to: 'sessions/s1/checkpoints', kind: 'checkpoints', type: 'dir', files: hashes, bytes: 10 * hashes, hashes: h },
      { from: '.workflow_state.json', to: 'sessions/s1/state.json', kind: 'state', type: 'file', files: 1, bytes: 42, hashes: { 'sessions/s1/state.json': 'ab'.repeat(32) } },
      { from: '.orchestrator.yaml', to: null, kind: 'config', type: 'file', files: 1, bytes: 7, hashes: {} },
    ],
    // Field text that looks like the moves' placeholder must stay where it is.
    displaced: ['sessions/"moves": -1/state.json'],
    created_dirs: ['sessions', 'sessions/s1'],
  };
}

test('journalText is JSON.stringify of the journal in every status, also after the moves change', () => {
  const j = journal(50);
  for (const status of JOURNAL_STATUSES) {
    const s = { ...j, status };
    assert.equal(journalText(s), JSON.stringify(s, null, 2) + '\n', status);
  }
  // A new moves array (a journal read back from disk, another migration) is serialized anew.
  const other = journal(3);
  assert.equal(journalText(other), JSON.stringify(other, null, 2) + '\n');
  // While staging, the hashes are filled in as files are copied: never a stale text.
  const staging: Journal = { ...journal(0), status: 'staging' };
  assert.equal(journalText(staging), JSON.stringify(staging, null, 2) + '\n');
  staging.moves[0]!.hashes['sessions/s1/checkpoints/x.json'] = 'cd'.repeat(32);
  assert.equal(journalText(staging), JSON.stringify(staging, null, 2) + '\n');
  assert.ok(journalText(staging).includes('"sessions/s1/checkpoints/x.json"'));
});
