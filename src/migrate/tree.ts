// Walking and copying legacy trees: every file streamed (memory stays flat on a 1 GiB log),
// fsynced, and its copy's sha256 compared with the source's before the copy counts.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, lstatSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface TreeFile {
  /** Path relative to the walked root ('' for the root itself when it is a file). */
  rel: string;
  bytes: number;
}

export interface TreeWalk {
  files: TreeFile[];
  dirs: string[];
  /** Relative paths that are neither files nor directories (links, sockets, devices). */
  odd: { rel: string; type: string }[];
}

/** Lists a file or a directory tree without following any link. */
export function walkTree(path: string): TreeWalk {
  const out: TreeWalk = { files: [], dirs: [], odd: [] };
  const visit = (abs: string, rel: string) => {
    const st = lstatSync(abs);
    if (st.isFile()) out.files.push({ rel, bytes: st.size });
    else if (st.isDirectory()) {
      out.dirs.push(rel);
      for (const name of readdirSync(abs).sort()) visit(join(abs, name), rel ? `${rel}/${name}` : name);
    } else out.odd.push({ rel, type: st.isSymbolicLink() ? 'symlink' : 'special file' });
  };
  visit(path, '');
  return out;
}

const CHUNK = 1 << 20;

/** sha256 of a file, read in 1 MiB chunks. */
export function hashFile(path: string, buf = Buffer.allocUnsafe(CHUNK)): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/**
 * Copies one file into an existing directory: streams it while hashing, then reads the copy back
 * and compares hashes, so a short write is caught before the source is ever moved. Returns the
 * sha256. Keeps the source's permission bits. Durability comes from one `syncTree` over all the
 * copies afterwards: an fsync per file cost 9 s of 16 on 10,000 checkpoints.
 */
export function copyFileVerified(src: string, dst: string, buf = Buffer.allocUnsafe(CHUNK)): string {
  const mode = lstatSync(src).mode & 0o777;
  const h = createHash('sha256');
  const inFd = openSync(src, 'r');
  let outFd: number | undefined;
  try {
    outFd = openSync(dst, 'wx', mode);
    for (;;) {
      const n = readSync(inFd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      let off = 0;
      while (off < n) off += writeSync(outFd, buf, off, n - off);
    }
  } finally {
    closeSync(inFd);
    if (outFd !== undefined) closeSync(outFd);
  }
  const want = h.digest('hex');
  const got = hashFile(dst, buf);
  if (got !== want) throw new Error(`copy of ${src} does not match it (sha256 ${got} != ${want})`);
  return want;
}

/**
 * Makes every file and directory under `dir` durable: one `sync -f` (syncfs of that file system)
 * where coreutils has it, else an fsync of each file and directory.
 */
export function syncTree(dir: string): void {
  if (spawnSync('sync', ['-f', dir], { stdio: 'ignore' }).status === 0) return;
  const walk = walkTree(dir);
  for (const rel of [...walk.files.map((f) => f.rel), ...walk.dirs]) {
    const fd = openSync(rel ? join(dir, rel) : dir, 'r');
    try {
      fsyncSync(fd);
    } catch {
      // some file systems refuse to fsync a directory
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * The first line of a JSON Lines file that does not parse (1-based), or null. Streams the file in
 * 1 MiB chunks and keeps nothing, so a 1 GiB log costs no more memory than a small one. Each chunk
 * is decoded only up to its last newline (an ASCII byte never inside a UTF-8 sequence): decoding
 * with a streaming TextDecoder cost more than all the JSON.parse calls together.
 */
export function firstBadJsonLine(path: string, buf = Buffer.allocUnsafe(CHUNK)): number | null {
  const fd = openSync(path, 'r');
  let pending = Buffer.alloc(0);
  let line = 0;
  const bad = (text: string): boolean => {
    line++;
    if (text.trim() === '') return false;
    try {
      JSON.parse(text);
      return false;
    } catch {
      return true;
    }
  };
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      const data = pending.length ? Buffer.concat([pending, buf.subarray(0, n)]) : buf.subarray(0, n);
      if (n === 0) return data.length > 0 && bad(data.toString('utf8')) ? line : null;
      const last = data.lastIndexOf(0x0a);
      if (last >= 0) {
        for (const text of data.toString('utf8', 0, last).split('\n')) if (bad(text)) return line;
      }
      // A copy: `data` may be `buf` itself, which the next read overwrites.
      pending = Buffer.from(data.subarray(last + 1));
    }
  } finally {
    closeSync(fd);
  }
}
