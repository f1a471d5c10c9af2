// Walking and copying legacy trees: every file streamed (memory stays flat on a 1 GiB log),
// its sha256 taken on the way, and the copy compared byte for byte with the source before it counts.
import { createHash, hash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, fdatasync, fstatSync, fsyncSync, lstatSync, openSync, read, readdirSync, readSync, write, writeSync, type Stats } from 'node:fs';
import { join } from 'node:path';

export interface TreeFile {
  /** Path relative to the walked root ('' for the root itself when it is a file). */
  rel: string;
  bytes: number;
  /** Permission bits. */
  mode: number;
}

export interface TreeWalk {
  files: TreeFile[];
  dirs: string[];
  /** Relative paths that are neither files nor directories (links, sockets, devices). */
  odd: { rel: string; type: string }[];
  /** The walked path's and each directory's identity and times as listed (see walkStillValid). */
  stamps: Map<string, string>;
}

function stampOf(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/** Lists a file or a directory tree without following any link. */
export function walkTree(path: string): TreeWalk {
  const out: TreeWalk = { files: [], dirs: [], odd: [], stamps: new Map() };
  const visit = (abs: string, rel: string) => {
    const st = lstatSync(abs);
    if (rel === '' || st.isDirectory()) out.stamps.set(rel, stampOf(st));
    if (st.isFile()) out.files.push({ rel, ...listing(st) });
    else if (st.isDirectory()) {
      out.dirs.push(rel);
      // Concatenation, not join: `abs` is normalized, and this runs for each of 10,000 checkpoints.
      for (const name of readdirSync(abs).sort()) visit(`${abs}/${name}`, rel ? `${rel}/${name}` : name);
    } else out.odd.push({ rel, type: st.isSymbolicLink() ? 'symlink' : 'special file' });
  };
  visit(path, '');
  return out;
}

/**
 * Whether a listing of `path` still holds: no directory in it gained, lost or renamed an entry
 * (its mtime and ctime would move), and the path is the same file. A file's own content may have
 * changed since: the copy compares what it copies, whatever the listing said.
 */
export function walkStillValid(path: string, walk: TreeWalk): boolean {
  try {
    for (const [rel, stamp] of walk.stamps) if (stampOf(lstatSync(rel ? join(path, rel) : path)) !== stamp) return false;
    return true;
  } catch {
    return false;
  }
}

const CHUNK = 1 << 20;
/** Chunk of a big file's check: large enough that a 1 GiB log costs few syscalls and messages. */
export const BIG_CHUNK = 4 << 20;
/** Buffers copyBuffers makes. */
export const COPY_BUFFERS = 4;

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
 * Sees every chunk of a file as it is copied (`whole` when the chunk is the whole file); what it
 * finds is the caller's business. A promise holds the chunk's buffer until it settles.
 */
export type ChunkSink = (chunk: Buffer, whole: boolean) => void | Promise<void>;

/**
 * Chunk buffers for copyFileVerified: three for the chunks in flight, one the copy is read back
 * into. Files smaller than one chunk take the one-read path. `into` puts them in a shared buffer
 * at an offset (a ChunkArea, so that ChunkWorkers read the chunks in place).
 */
export function copyBuffers(size = BIG_CHUNK, into?: { buffer: SharedArrayBuffer; at: number }): Buffer[] {
  const all = into ? Buffer.from(into.buffer, into.at, COPY_BUFFERS * size) : Buffer.allocUnsafeSlow(COPY_BUFFERS * size);
  return Array.from({ length: COPY_BUFFERS }, (_, k) => all.subarray(k * size, (k + 1) * size));
}

function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** A sha256 fed chunk by chunk, here or in a ChunkWorker; a promise holds the chunk until it settles. */
export interface ChunkHash {
  feed(chunk: Buffer): void | Promise<void>;
  end(): string | Promise<string>;
}

function localHash(): ChunkHash {
  const h = createHash('sha256');
  return { feed: (chunk) => void h.update(chunk), end: () => h.digest('hex') };
}

export interface CopyOptions {
  /** The content check: sees every chunk. */
  sink?: ChunkSink | undefined;
  /** From copyBuffers; in a chunk area when `hash` or `sink` run in a ChunkWorker. */
  bufs?: Buffer[];
  /** The copy's permission bits; else the source's. */
  mode?: number | undefined;
  /** Takes a big file's sha256 (a file that fits one chunk is always hashed here). */
  hash?: (() => ChunkHash) | undefined;
  /**
   * The size and permission bits a listing saw: saves an fstat per file. A file that changed size
   * since is caught all the same (what is read must be that size, or the copy refuses).
   */
  listed?: Pick<TreeFile, 'bytes' | 'mode'> | undefined;
}

/**
 * Copies `src` to a new file `dst` and returns the sha256 of the copy. Every chunk is checked by
 * `sink`, hashed, written, read back from the copy and compared byte for byte with what was read
 * from the source: that catches a short or damaged write before the source is ever moved, and a
 * source that grew meanwhile. Durability comes from one `syncTree` over all the copies afterwards
 * (an fsync per file cost 9 s of 16 on 10,000 checkpoints); a big file starts its writeback every
 * 16 MiB.
 */
export async function copyFileVerified(src: string, dst: string, opts: CopyOptions = {}): Promise<string> {
  const bufs = opts.bufs ?? copyBuffers();
  // O_NOFOLLOW: the walk saw a regular file; a link swapped in since must not be followed.
  const inFd = openSync(src, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = opts.listed ?? listing(fstatSync(inFd));
    const bits = opts.mode ?? st.mode;
    if (st.bytes >= bufs[0]!.length) return await copyChunked(inFd, bits, src, dst, opts.sink, bufs, (opts.hash ?? localHash)());
    // Small files (most checkpoints), synchronously: 10,000 of them spent more in promise and
    // thread-pool hand-offs than in their reads and writes (an open in the pool: 0.8 s against 0.6 s).
    const small = copySmall(inFd, openSync(dst, 'wx+', bits), st.bytes, src, opts.sink, bufs);
    return typeof small === 'string' ? small : await small;
  } finally {
    closeSync(inFd);
  }
}

function listing(st: Stats): Pick<TreeFile, 'bytes' | 'mode'> {
  return { bytes: st.size, mode: st.mode & 0o777 };
}

function mismatch(src: string): Error {
  return new Error(`the copy of ${src} does not match it byte for byte (did something write to it during the migration?); run the command again`);
}

/**
 * One read of the source, one write, one read of the copy, compared with the bytes read; closes
 * `outFd`, the new copy opened read-write, so it is read back without opening it again.
 */
function copySmall(inFd: number, outFd: number, size: number, src: string, sink: ChunkSink | undefined, bufs: Buffer[]): string | Promise<string> {
  let pending = false;
  try {
    const [buf, back] = [bufs[0]!, bufs[1]!];
    // One read gets a regular file whole; other than its size means it changed since it was listed.
    const n = readSync(inFd, buf, 0, buf.length, 0);
    if (n !== size) throw mismatch(src);
    const chunk = buf.subarray(0, n);
    const checked = sink?.(chunk, true);
    const digest = hash('sha256', chunk);
    let off = 0;
    while (off < n) off += writeSync(outFd, chunk, off, n - off);
    const finish = () => {
      // One read asking for a byte more than was written: a regular file gives all it has. (A short
      // read could only make a false mismatch, never hide one.)
      if (readSync(outFd, back, 0, Math.min(back.length, n + 1), 0) !== n || !back.subarray(0, n).equals(chunk)) throw mismatch(src);
      return digest;
    };
    if (!checked) return finish();
    pending = true;
    return checked.then(finish).finally(() => closeSync(outFd));
  } finally {
    if (!pending) closeSync(outFd);
  }
}

/** Writes `length` bytes of `buf` at `position`, in the libuv pool. */
function writeAt(fd: number, buf: Buffer, length: number, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number) => {
      if (off >= length) return resolve();
      write(fd, buf, off, length - off, position + off, (err, n) => (err ? reject(err) : step(off + n)));
    };
    step(0);
  });
}

/**
 * Start writeback this often (bytes written), so the final sync finds little left to write: after
 * a 1 GiB log it took 11-15 ms with 16 MiB, 30-39 ms with 64 MiB (4 runs each, alternating).
 */
const WRITEBACK_EVERY = 16 << 20;

/**
 * Chunk by chunk: read from the source, written to the copy and read back from it (compared with
 * the chunk), hashed, and checked by `sink`, all on the bytes of that one read. The reads and
 * writes run in the libuv pool while the workers hash and check earlier chunks,
 * so the check starts with the first chunk rather than after a whole-file copy, and each chunk is
 * still in the CPU cache when it is written and read back.
 */
async function copyChunked(inFd: number, mode: number, src: string, dst: string, sink: ChunkSink | undefined, bufs: Buffer[], hasher: ChunkHash): Promise<string> {
  const outFd = openSync(dst, 'wx+', mode);
  const noop = () => undefined;
  const size = bufs[0]!.length;
  const back = bufs[3]!;
  // What still uses each chunk buffer (its write, read back and check), and the read-backs, one at a
  // time through `back`.
  const busy: Promise<unknown>[] = [Promise.resolve(), Promise.resolve(), Promise.resolve()];
  let verified: Promise<unknown> = Promise.resolve();
  let writeback: Promise<unknown> = Promise.resolve();
  let writebackDue = WRITEBACK_EVERY;
  let next: Promise<number> = readFullAsync(inFd, bufs[0]!, 0);
  let pos = 0;
  try {
    for (let k = 0; ; k = (k + 1) % 3) {
      const n = await next;
      const chunk = bufs[k]!.subarray(0, n);
      const k1 = (k + 1) % 3;
      const end = pos + n;
      next = n === size ? busy[k1]!.then(() => readFullAsync(inFd, bufs[k1]!, end)) : Promise.resolve(0);
      next.catch(noop);
      if (n === 0) break;
      const checked = Promise.resolve(sink?.(chunk, false));
      const at = pos;
      const written = writeAt(outFd, chunk, n, at);
      verified = Promise.all([verified, written]).then(async () => {
        const m = await readFullAsync(outFd, back.subarray(0, n), at);
        if (m !== n || !back.subarray(0, n).equals(chunk)) throw mismatch(src);
      });
      busy[k] = Promise.all([checked, verified, hasher.feed(chunk)]);
      busy[k]!.catch(noop);
      pos = end;
      if (pos >= writebackDue) {
        writebackDue = pos + WRITEBACK_EVERY;
        writeback = Promise.all([writeback, written]).then(() => datasync(outFd));
        writeback.catch(noop);
      }
      if (n < size) break;
    }
    await Promise.all([...busy, verified, writeback]);
    // Bytes added to the source after its last read would be missing from the copy.
    if (fstatSync(inFd).size !== pos) throw mismatch(src);
    return await hasher.end();
  } finally {
    await Promise.allSettled([...busy, verified, writeback, next]);
    closeSync(outFd);
  }
}

/** Reads until `buf` is full or the file ends, in the libuv pool; resolves to the bytes read. */
function readFullAsync(fd: number, buf: Buffer, pos: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const step = (n: number) => {
      if (n === buf.length) return resolve(n);
      read(fd, buf, n, buf.length - n, pos + n, (err, k) => (err ? reject(err) : k === 0 ? resolve(n) : step(n + k)));
    };
    step(0);
  });
}

/**
 * Starts writing back what is under `dir` (`sync -f` in the background), so that the syncTree at
 * the end finds less to write. Never fails: syncTree is what makes the copies durable.
 */
export function startWriteback(dir: string): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn('sync', ['-f', dir], { stdio: 'ignore' });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
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
