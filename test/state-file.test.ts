// The state file: sealed writes, checksum verification, and the machine-local stamp that lets a
// read skip re-verifying a file version this tool sealed itself, but never an edited one.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_WORKFLOW_YAML } from '../src/engine/default-workflow.ts';
import { loadDefinitionText } from '../src/engine/definition.ts';
import { startWorkflow } from '../src/engine/transitions.ts';
import { readStateFile, writeStateFile } from '../src/store/state-file.ts';
import { stateChecksum } from '../src/store/python-json.ts';
import { FIXTURES, tempDir } from './helpers/cli.ts';

const def = loadDefinitionText(DEFAULT_WORKFLOW_YAML, 'default');
const now = '2026-11-25T00:00:00.000Z';

function sealed(): { path: string; stamp: string } {
  const dir = tempDir();
  const path = join(dir, 'state.json');
  const { state } = startWorkflow({ now, task: 'T', definition: def, source: 'x', sourceChecksum: 'y' });
  writeStateFile(path, state, now, join(dir, 'stamp'));
  return { path, stamp: join(dir, 'stamp') };
}

test('a sealed write carries a checksum the Python rule reproduces', () => {
  const { path } = sealed();
  const raw = JSON.parse(readFileSync(path, 'utf8'));
  assert.equal(raw._version, '3.0');
  assert.equal(stateChecksum(raw), raw._checksum);
});

test('the version this tool sealed reads back trusted; without the stamp it is verified in full', () => {
  const { path, stamp } = sealed();
  assert.equal(readStateFile(path, 'state.json', stamp)!.trusted, true);
  const full = readStateFile(path, 'state.json')!;
  assert.equal(full.trusted, false);
  assert.equal(full.checksumProblem, null);
});

test('an edit that keeps the size and the inode is still caught (ctime changes)', () => {
  const { path, stamp } = sealed();
  const text = readFileSync(path, 'utf8');
  const edited = text.replace('"task_description": "T"', '"task_description": "X"');
  assert.notEqual(edited, text);
  writeFileSync(path, edited); // in place: same inode, same size
  const r = readStateFile(path, 'state.json', stamp)!;
  assert.equal(r.trusted, false);
  assert.ok(r.checksumProblem, 'the edit must be reported');
});

test('a stamp record from another tool version, or a damaged one, is not trusted', () => {
  const { path, stamp } = sealed();
  const record = readFileSync(stamp, 'utf8').trim();
  writeFileSync(stamp, record.replace(/ \S+$/, ' 9.9.9') + '\n');
  assert.equal(readStateFile(path, 'state.json', stamp)!.trusted, false);
  writeFileSync(stamp, 'garbage\n');
  assert.equal(readStateFile(path, 'state.json', stamp)!.trusted, false);
});

test("the Python tool's v3 state verifies and is never trusted without our stamp", () => {
  const r = readStateFile(join(FIXTURES, 'v3-sessions/.orchestrator/sessions/505a6972/state.json'))!;
  assert.equal(r.trusted, false);
  assert.equal(r.checksumProblem, null);
  assert.equal(r.state.task_description, 'Add user authentication');
});
