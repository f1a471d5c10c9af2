// Crash-safe file replacement: write a temp file in the same directory, fsync it, rename it over
// the target, fsync the directory. A reader sees the old bytes or the new bytes, never a mix.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { environmentErrorFrom } from '../errors.ts';
import { randomHex } from './random-id.ts';

export interface AtomicWriteOptions {
  mode?: number;
}

export function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomHex(4)}`);
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
    try {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file was never created or is already renamed
    }
    throw environmentErrorFrom(err, path);
  }
  fsyncDir(dir);
}

/** Makes a rename or a new file durable. Some file systems refuse to fsync a directory: fine. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort (EISDIR/EINVAL on some platforms)
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
