// The verified copy under the migration: every byte, in order, at any size around its chunk size.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { copyBuffers, copyFileVerified } from '../src/migrate/tree.ts';
import { tempDir } from './helpers/cli.ts';

test('copyFileVerified copies every byte and hands each chunk to the check in order, at any size around the chunk size', async () => {
  const chunk = 4096;
  for (const size of [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 3 * chunk + 7, 11 * chunk - 1]) {
    const dir = tempDir();
    const data = randomBytes(size);
    writeFileSync(join(dir, 'src'), data, { mode: 0o640 });
    const seen: Buffer[] = [];
    // A slow check: a chunk buffer reused before its check settled would show up as wrong bytes.
    const sink = async (c: Buffer) => {
      await sleep(1);
      seen.push(Buffer.from(c));
    };
    const hash = await copyFileVerified(join(dir, 'src'), join(dir, 'dst'), { sink, bufs: copyBuffers(chunk) });
    assert.equal(hash, createHash('sha256').update(data).digest('hex'), `sha256 at ${size} bytes`);
    assert.ok(readFileSync(join(dir, 'dst')).equals(data), `copy at ${size} bytes`);
    assert.ok(Buffer.concat(seen).equals(data), `chunks seen by the check at ${size} bytes`);
    assert.equal(statSync(join(dir, 'dst')).mode & 0o777, 0o640);
  }
});
