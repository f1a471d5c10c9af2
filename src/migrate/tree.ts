// Walking and copying legacy trees: every file streamed (memory stays flat on a 1 GiB log),
// its sha256 taken on the way, and the copy compared byte for byte with the source before it counts.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, openSync, readdirSync, readSync, write, writeSync } from 'node:fs';
import { join } from 'node:path';
import { linesCheck } from './json-syntax.ts';

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
/** Chunk of the pipelined copy: large enough that a 1 GiB log costs few syscalls and promises. */
const BIG_CHUNK = 4 << 20;

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
 * Sees every chunk of a file as it is copied; what it finds is the caller's business. A promise
 * holds the chunk's buffer until it settles.
 */
export type ChunkSink = (chunk: Buffer) => void | Promise<void>;

/** Writes `length` bytes of `buf` at `position`: positioned, so writes in flight cannot reorder. */
function writeAt(fd: number, buf: Buffer, length: number, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number) => {
      if (off >= length) return resolve();
      write(fd, buf, off, length - off, position + off, (err, n) => (err ? reject(err) : step(off + n)));
    };
    step(0);
  });
}

/** Three 4 MiB chunk buffers, shared so a LinesWorker can read them in place. */
export function copyBuffers(): Buffer[] {
  const shared = Buffer.from(new SharedArrayBuffer(3 * BIG_CHUNK));
  return [0, 1, 2].map((k) => shared.subarray(k * BIG_CHUNK, (k + 1) * BIG_CHUNK));
}

/**
 * Copies `src` to a new file `dst` (same permission bits) and returns the sha256 of the bytes
 * copied. While one chunk is written (libuv pool) and checked by `sink` (maybe in a worker), the
 * next is read and hashed, so the CPU work overlaps the writes. The copy is then compared
 * byte for byte with the source, which catches a short or damaged write and a source that
 * changed while it was copied, before the source is ever moved. Durability comes from one
 * `syncTree` over all the copies afterwards: an fsync per file cost 9 s of 16 on 10,000
 * checkpoints.
 */
export async function copyFileVerified(src: string, dst: string, sink?: ChunkSink, bufs = copyBuffers()): Promise<string> {
  const h = createHash('sha256');
  // O_NOFOLLOW: the walk saw a regular file; a link swapped in since must not be followed.
  const inFd = openSync(src, constants.O_RDONLY | constants.O_NOFOLLOW);
  let outFd: number | undefined;
  // What still uses each buffer: its chunk's write and check.
  const busy: Promise<unknown>[] = bufs.map(() => Promise.resolve());
  try {
    const st = fstatSync(inFd);
    // Read-write, so the comparison below reads the copy back without opening it again: on
    // 10,000 checkpoints the opens were the largest cost.
    outFd = openSync(dst, 'wx+', st.mode & 0o777);
    const size = bufs[0]!.length;
    if (st.size < size) {
      // Small files (most checkpoints): one read, one write.
      const n = readSync(inFd, bufs[0]!, 0, size, 0);
      const chunk = bufs[0]!.subarray(0, n);
      const checked = sink?.(chunk);
      h.update(chunk);
      let off = 0;
      while (off < n) off += writeSync(outFd, chunk, off, n - off);
      await checked;
    } else {
      for (let k = 0, pos = 0; ; k = (k + 1) % bufs.length) {
        await busy[k];
        const buf = bufs[k]!;
        const n = readSync(inFd, buf, 0, size, pos);
        if (n === 0) break;
        const chunk = buf.subarray(0, n);
        const checked = sink?.(chunk);
        h.update(chunk);
        busy[k] = Promise.all([writeAt(outFd, buf, n, pos), checked]);
        pos += n;
      }
    }
    await Promise.all(busy);
    if (!sameBytes(inFd, outFd, bufs[0]!, bufs[1]!)) {
      throw new Error(`the copy of ${src} does not match it byte for byte (did something write to it during the migration?); run the command again`);
    }
  } finally {
    await Promise.allSettled(busy);
    closeSync(inFd);
    if (outFd !== undefined) closeSync(outFd);
  }
  return h.digest('hex');
}

function readFull(fd: number, buf: Buffer<ArrayBufferLike>, pos: number): number {
  let n = 0;
  while (n < buf.length) {
    const k = readSync(fd, buf, n, buf.length - n, pos + n);
    if (k === 0) break;
    n += k;
  }
  return n;
}

/** Whether two open files hold the same bytes (positional reads: the offsets are left alone). */
export function sameBytes(a: number, b: number, bufA: Buffer<ArrayBufferLike> = Buffer.allocUnsafe(CHUNK), bufB: Buffer<ArrayBufferLike> = Buffer.allocUnsafe(CHUNK)): boolean {
  for (let pos = 0; ; ) {
    const n = readFull(a, bufA, pos);
    const m = readFull(b, bufB, pos);
    if (n !== m || !bufA.subarray(0, n).equals(bufB.subarray(0, m))) return false;
    if (n < bufA.length) return true;
    pos += n;
  }
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

/** The first bad line of a JSON Lines file (see linesCheck), or null. */
export function firstBadJsonLine(path: string, buf = Buffer.allocUnsafe(CHUNK)): number | null {
  const check = linesCheck();
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return check.end();
      check.feed(buf.subarray(0, n));
      if (check.bad() !== null) return check.bad();
    }
  } finally {
    closeSync(fd);
  }
}
