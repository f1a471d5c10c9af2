// Reading and moving one branch ref with git's own lock protocol: create `<ref>.lock` with
// O_EXCL, check that the ref still holds the expected old value, write the new value, fsync,
// rename over the ref. A concurrent git (or another orchestrator) sees either value, never a
// torn one, and a lost race is reported instead of overwriting the winner.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WorkflowStateConflictError } from '../errors.ts';
import { fsyncDir } from '../store/atomic-file.ts';

const OID = /^[0-9a-f]{40}$/;

/** The commit a full ref name (`refs/heads/x`) points at, or null when there is no such ref. */
export function readRef(commonDir: string, ref: string): string | null {
  try {
    const text = readFileSync(join(commonDir, ref), 'utf8').trim();
    if (OID.test(text)) return text;
    if (text.startsWith('ref: ')) return readRef(commonDir, text.slice(5).trim());
    return null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
  }
  // `git pack-refs` moves refs into packed-refs: "<oid> <ref>" lines.
  try {
    for (const line of readFileSync(join(commonDir, 'packed-refs'), 'utf8').split('\n')) {
      const sp = line.indexOf(' ');
      if (sp === 40 && line.slice(41) === ref && OID.test(line.slice(0, 40))) return line.slice(0, 40);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return null;
}

export class RefMovedError extends WorkflowStateConflictError {}

/** Moves `ref` from `expected` (null: must not exist) to `next`. Throws RefMovedError if it moved meanwhile. */
export function updateRef(commonDir: string, ref: string, expected: string | null, next: string): void {
  const path = join(commonDir, ref);
  const lock = `${path}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  let fd: number;
  try {
    fd = openSync(lock, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new RefMovedError(`${ref} is being updated by another process (${lock} exists); retry, or remove the lock file if no git process is running`);
    }
    throw err;
  }
  let renamed = false;
  try {
    const current = readRef(commonDir, ref);
    if (current !== expected) {
      throw new RefMovedError(`${ref} moved while it was being updated (now ${current ?? 'missing'}, expected ${expected ?? 'missing'}); run the command again`);
    }
    const line = Buffer.from(`${next}\n`);
    writeSync(fd, line, 0, line.length);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(lock, path);
    renamed = true;
    fsyncDir(dirname(path));
  } finally {
    if (fd! >= 0) closeSync(fd!);
    if (!renamed) rmSync(lock, { force: true });
  }
}
