// The checksum and JSON dump must match CPython byte for byte, or the Python tool's files would
// be reported as tampered with (and ours rejected by it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pythonJsonDumps, stateChecksum } from '../src/store/python-json.ts';
import { FIXTURES } from './helpers/cli.ts';

const hasPython = spawnSync('python3', ['-c', 'print(1)']).status === 0;

function pythonDumps(value: unknown): string {
  const r = spawnSync('python3', ['-c', 'import json,sys; sys.stdout.write(json.dumps(json.load(sys.stdin), sort_keys=True))'], {
    input: JSON.stringify(value),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('the v3 fixture state verifies with the checksum the Python tool wrote', () => {
  const state = JSON.parse(readFileSync(join(FIXTURES, 'v3-sessions/.orchestrator/sessions/505a6972/state.json'), 'utf8'));
  assert.equal(stateChecksum(state), state._checksum);
  assert.equal(stateChecksum(state), '2ca91b0aa97df39f74ca9af010c9576e');
});

test('a one-character edit changes the checksum', () => {
  const state = JSON.parse(readFileSync(join(FIXTURES, 'v3-sessions/.orchestrator/sessions/505a6972/state.json'), 'utf8'));
  state.task_description += '!';
  assert.notEqual(stateChecksum(state), state._checksum);
});

test('_checksum, _updated_at and _version do not take part in the checksum', () => {
  const base = { a: 1, b: 'x' };
  assert.equal(stateChecksum({ ...base, _checksum: 'z', _updated_at: 'now', _version: '9' }), stateChecksum(base));
});

test('escapes and key order agree with CPython json.dumps(sort_keys=True)', { skip: !hasPython && 'python3 not installed' }, () => {
  const samples: unknown[] = [
    { b: 1, a: [true, false, null], c: { z: 'é', y: '日本', x: '😀' } },
    { s: 'quote " backslash \\ newline \n tab \t cr \r bs \b ff \f nul \u0000 del \u007f' },
    { nums: [0, -1, 3.5, 1e-7, 123456789012, 0.1] },
    { 'Z': 1, 'a': 2, '_x': 3, 'é': 4, '\u{1F600}': 5, '\uFFFD': 6 },
    [],
    {},
    'plain',
  ];
  for (const s of samples) assert.equal(pythonJsonDumps(s), pythonDumps(s), JSON.stringify(s));
});

test('whole fixture files dump identically to CPython', { skip: !hasPython && 'python3 not installed' }, () => {
  for (const rel of ['v3-sessions/.orchestrator/sessions/505a6972/state.json', 'v2-root/.workflow_state.json', 'v2-root/.claude/prd_state.json']) {
    const value = JSON.parse(readFileSync(join(FIXTURES, rel), 'utf8'));
    assert.equal(pythonJsonDumps(value), pythonDumps(value), rel);
  }
});
