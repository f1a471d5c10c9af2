// JSON Lines: appends are one write(2) of whole lines on an O_APPEND descriptor, so concurrent
// appenders never interleave inside a line and a crash can cut at most the last line.
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { environmentErrorFrom } from '../errors.ts';

export function appendJsonLines(path: string, records: readonly unknown[]): void {
  if (records.length === 0) return;
  const text = records.map((r) => JSON.stringify(r) + '\n').join('');
  const buf = Buffer.from(text, 'utf8');
  try {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'a+', 0o644);
    try {
      // A torn previous append (crash mid-line) must not glue our first line onto it.
      const size = fstatSync(fd).size;
      const out = size > 0 && !endsWithNewline(fd, size) ? Buffer.concat([Buffer.from('\n'), buf]) : buf;
      const n = writeSync(fd, out);
      if (n !== out.length) throw Object.assign(new Error(`short write (${n} of ${out.length} bytes)`), { code: 'ENOSPC' });
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw environmentErrorFrom(err, path);
  }
}

function endsWithNewline(fd: number, size: number): boolean {
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, size - 1);
  return b[0] === 0x0a;
}

export interface JsonLine {
  /** 1-based line number in the file. */
  line: number;
  value: unknown;
}

export interface JsonLinesResult {
  records: JsonLine[];
  /** Lines that do not parse, with their line numbers (a torn last line after a crash, say). */
  bad: { line: number; text: string }[];
}

export function parseJsonLines(text: string): JsonLinesResult {
  const records: JsonLine[] = [];
  const bad: { line: number; text: string }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    try {
      records.push({ line: i + 1, value: JSON.parse(raw) });
    } catch {
      bad.push({ line: i + 1, text: raw.length > 80 ? raw.slice(0, 80) + '…' : raw });
    }
  }
  return { records, bad };
}
