// `checkpoints`: lists the Python tool's checkpoint files as they are; a broken one is reported, not fatal.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { diffTrees, ok, repoFromFixture, sessionDir, snapshotTree } from './helpers/cli.ts';

test('the v3 fixture session lists its checkpoint; a broken file is listed with its problem and left alone', () => {
  const repo = repoFromFixture('v3-sessions');
  const dir = join(sessionDir(repo), 'checkpoints');
  const [file] = readdirSync(dir);
  const list = JSON.parse(ok(repo, ['checkpoints', '--json']).stdout);
  assert.equal(list.ok, true);
  assert.equal(list.checkpoints.length, 1);
  assert.equal(list.checkpoints[0].file, file);
  assert.equal(list.checkpoints[0].id, file!.replace(/\.json$/, ''));
  assert.equal(typeof list.checkpoints[0].timestamp, 'string');
  assert.equal(list.checkpoints[0].problem, undefined);

  writeFileSync(join(dir, 'cp_broken.json'), '{"checkpoint_id": "cp_bro');
  const before = snapshotTree(repo);
  const human = ok(repo, ['checkpoints']);
  assert.match(human.stdout, new RegExp(list.checkpoints[0].id));
  assert.match(human.stderr, /cp_broken\.json: is not valid JSON; it is left as it is/);
  const again = JSON.parse(ok(repo, ['checkpoints', '--json']).stdout);
  assert.deepEqual(again.checkpoints.map((c: any) => [c.file, c.problem ?? null]).sort(), [[file, null], ['cp_broken.json', 'is not valid JSON']].sort());
  assert.deepEqual(diffTrees(before, snapshotTree(repo)), [], 'checkpoints changed files');
});
