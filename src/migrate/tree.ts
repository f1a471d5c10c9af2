// Walking and copying legacy trees: every file streamed (memory stays flat on a 1 GiB log),
// fsynced, and its copy's sha256 compared with the source's before the copy counts.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

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
 * Copies one file: streams it while hashing, fsyncs the copy, then reads the copy back and
 * compares hashes, so a short write or a bad disk is caught before the source is ever moved.
 * Returns the sha256. Keeps the source's permission bits.
 */
export function copyFileVerified(src: string, dst: string, buf = Buffer.allocUnsafe(CHUNK)): string {
  mkdirSync(dirname(dst), { recursive: true });
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
    fsyncSync(outFd);
  } finally {
    closeSync(inFd);
    if (outFd !== undefined) closeSync(outFd);
  }
  const want = h.digest('hex');
  const got = hashFile(dst, buf);
  if (got !== want) throw new Error(`copy of ${src} does not match it (sha256 ${got} != ${want})`);
  return want;
}
