// The end of an event log: reports that want the last few events read the last chunk of the
// file, not all of it (logs of long-lived repos grow to tens of megabytes).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { environmentErrorFrom } from '../errors.ts';
import { parseJsonLines } from './jsonl.ts';

const TAIL_BYTES = 1 << 20;

/** The parsed records of the log's last `maxBytes` (whole lines only); [] when there is no log. */
export function readLogTail(path: string, shownAs: string, maxBytes = TAIL_BYTES): unknown[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw environmentErrorFrom(err, shownAs);
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, start + off);
      if (n === 0) break;
      off += n;
    }
    let text = buf.subarray(0, off).toString('utf8');
    // Started mid-file: the first line is a fragment.
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    return parseJsonLines(text).records.map((r) => r.value);
  } catch (err) {
    throw environmentErrorFrom(err, shownAs);
  } finally {
    closeSync(fd);
  }
}
