// The streamed JSON Lines check of the migration preflight: right line numbers whatever the chunk
// boundaries, a torn last line caught, multi-byte text intact across chunks.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { firstBadJsonLine } from '../src/migrate/tree.ts';
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
