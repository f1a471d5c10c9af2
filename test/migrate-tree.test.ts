// The streamed JSON Lines check of the migration preflight: right line numbers whatever the chunk
// boundaries, a torn last line caught, multi-byte text intact across chunks. And the verified copy
// under it: every byte, in order, at any size around its chunk size.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { copyBuffers, copyFileVerified, firstBadJsonLine } from '../src/migrate/tree.ts';
import { tempDir } from './helpers/cli.ts';

function file(text: string): string {
  const p = join(tempDir(), 'log.jsonl');
  writeFileSync(p, text);
  return p;
}

test('finds the first bad line, at any chunk size', () => {
  const cases: [string, number | null][] = [
    ['{"a":1}\n{"b":\n{"c":3}\n', 2],
    ['{"a":1}\n{"b":2}', null],
    ['{"a":1}\n{"b":', 2],
    ['', null],
    ['\n\n{"a":1}\n\n', null],
    ['{"a":1}\n{"b":2}\n{"c":"ünï😀"}\n{"d":4}x\n', 4],
  ];
  for (const [text, want] of cases) {
    for (const size of [1, 2, 3, 5, 7, 64, 1 << 20]) {
      assert.equal(firstBadJsonLine(file(text), Buffer.alloc(size)), want, `${JSON.stringify(text)} with ${size}-byte chunks`);
    }
  }
});

test('multi-byte characters split across chunks still parse', () => {
  const line = JSON.stringify({ message: 'Größe 日本語 😀'.repeat(50) });
  const text = Array.from({ length: 200 }, () => line).join('\n') + '\n';
  for (const size of [1, 3, 7, 101, 4096]) assert.equal(firstBadJsonLine(file(text), Buffer.alloc(size)), null, `${size}-byte chunks`);
});

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
    const hash = await copyFileVerified(join(dir, 'src'), join(dir, 'dst'), sink, copyBuffers(chunk, false));
    assert.equal(hash, createHash('sha256').update(data).digest('hex'), `sha256 at ${size} bytes`);
    assert.ok(readFileSync(join(dir, 'dst')).equals(data), `copy at ${size} bytes`);
    assert.ok(Buffer.concat(seen).equals(data), `chunks seen by the check at ${size} bytes`);
    assert.equal(statSync(join(dir, 'dst')).mode & 0o777, 0o640);
  }
});
