// Reads a .tar.gz that came from elsewhere without trusting it. Every header is checked before any
// of its data is read: a relative path without `..`, `.` or empty parts, a plain file or directory
// (no link, device, fifo or sparse file: the parser reports those types as ignored entries, which
// are refused too), a size within the bounds, no name twice. The unpacked stream is counted as it
// comes, so a small archive that unpacks to gigabytes stops at the bound. Nothing here writes.
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { environmentErrorFrom, InvalidSnapshotError, OrchestratorError } from '../errors.ts';

export interface ArchiveLimits {
  fileBytes: number;
  totalBytes: number;
  entries: number;
}

export interface ArchiveEntry {
  /** Relative, `/`-separated, without a trailing slash. */
  path: string;
  kind: 'file' | 'dir';
  size: number;
  mode: number;
}

/** Where a file's bytes go, in order; `end` is called once all arrived. */
export interface EntrySink {
  data(chunk: Buffer): void;
  end(): void;
}

/** Called for each entry whose header passed the checks; throws to refuse the archive. */
export type OnEntry = (entry: ArchiveEntry) => EntrySink | undefined;

const GZIP = Buffer.from([0x1f, 0x8b]);

/** Why `path` may not be extracted anywhere, or null when it is a plain relative path. */
export function unsafePathReason(path: string): string | null {
  if (path.length === 0) return 'an empty name';
  if (path.length > 4096) return 'a name over 4096 characters';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f\\]/.test(path)) return 'a control character or backslash in the name';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'an absolute path';
  const parts = path.split('/');
  if (parts.includes('..')) return 'a ".." component';
  if (parts.some((p) => p === '' || p === '.')) return 'an empty or "." component';
  return null;
}

/** The one-line refusal of archive `shown`. */
export function refusal(shown: string, why: string): InvalidSnapshotError {
  return new InvalidSnapshotError(`${shown}: refused, ${why}; nothing was written (use an archive made by orchestrator snapshot export)`);
}

/**
 * Walks the entries of the gzip'd tar `gz`, refusing (InvalidSnapshotError naming `shown`) the
 * first one that breaks a rule; `onEntry` sees only entries that passed them.
 */
export function readArchive(gz: Buffer, shown: string, limits: ArchiveLimits, onEntry: OnEntry): Promise<{ entries: number; bytes: number }> {
  const refuse = (why: string) => refusal(shown, why);
  if (!gz.subarray(0, 2).equals(GZIP)) return Promise.reject(refuse('not a gzip-compressed tar archive'));
  // Headers, padding and the end blocks add at most 3 blocks per entry to the data itself.
  const maxUnpacked = limits.totalBytes + 1536 * (limits.entries + 2);
  return new Promise((resolve, reject) => {
    let failure: Error | null = null;
    let entries = 0;
    let total = 0;
    let unpacked = 0;
    const seen = new Set<string>();
    const gunzip = createGunzip();
    const parser = new Parser({ strict: true });
    const fail = (err: unknown) => {
      if (failure) return;
      // Our own refusals and the file system's errors (writing the stage) pass as they are; anything
      // else came from the parser.
      if (err instanceof OrchestratorError) failure = err;
      else if (typeof (err as NodeJS.ErrnoException)?.syscall === 'string') failure = environmentErrorFrom(err, shown);
      else failure = refuse(`not a valid tar archive (${(err as Error)?.message ?? String(err)})`);
      gunzip.destroy();
      reject(failure);
    };

    const check = (entry: ReadEntry): ArchiveEntry => {
      const raw = entry.path;
      const kind = entry.type === 'File' || entry.type === 'OldFile' ? 'file' : entry.type === 'Directory' ? 'dir' : null;
      if (!kind) throw refuse(`entry ${JSON.stringify(raw)} is a ${entry.type}, and a snapshot holds only files and directories`);
      const path = kind === 'dir' && raw.endsWith('/') ? raw.slice(0, -1) : raw;
      const unsafe = unsafePathReason(path);
      if (unsafe) throw refuse(`entry ${JSON.stringify(raw)} has ${unsafe}`);
      if (++entries > limits.entries) throw refuse(`more than ${limits.entries} entries`);
      // The size from the header (or its pax record), before any data is read.
      const size = entry.size;
      if (!Number.isSafeInteger(size) || size < 0 || (kind === 'dir' && size !== 0)) throw refuse(`entry ${JSON.stringify(raw)} has an invalid size`);
      if (size > limits.fileBytes) throw refuse(`entry ${JSON.stringify(raw)} is ${size} bytes, over the ${limits.fileBytes}-byte limit for one file`);
      total += size;
      if (total > limits.totalBytes) throw refuse(`its files add up to more than ${limits.totalBytes} bytes`);
      if (seen.has(path)) throw refuse(`entry ${JSON.stringify(raw)} appears twice`);
      seen.add(path);
      return { path, kind, size, mode: (entry.mode ?? 0) & 0o777 };
    };

    parser.on('entry', (entry: ReadEntry) => {
      // Throwing here would unwind through the parser; refuse, and drop the rest of the input.
      try {
        if (failure) throw failure;
        const sink = onEntry(check(entry));
        if (sink) {
          entry.on('data', (chunk: Buffer) => {
            if (!failure) run(() => sink.data(chunk));
          });
          entry.on('end', () => {
            if (!failure) run(() => sink.end());
          });
        }
        entry.resume();
      } catch (err) {
        fail(err);
        entry.resume();
      }
    });
    parser.on('ignoredEntry', (entry: ReadEntry) => {
      fail(refuse(`entry ${JSON.stringify(entry.path)} is a ${entry.type}, and a snapshot holds only files and directories`));
    });
    parser.on('error', (err: Error) => fail(err));
    const run = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        fail(err);
      }
    };

    gunzip.on('data', (chunk: Buffer) => {
      if (failure) return;
      unpacked += chunk.length;
      if (unpacked > maxUnpacked) return fail(refuse(`it unpacks to more than ${maxUnpacked} bytes`));
      run(() => parser.write(chunk));
    });
    gunzip.on('error', (err) => fail(refuse(`not a valid gzip stream (${err.message})`)));
    gunzip.on('end', () => {
      if (!failure) run(() => parser.end());
    });
    // After the parser's own end-of-archive checks (a truncated last entry is an error).
    parser.on('end', () => {
      if (failure) return;
      if (entries === 0) return fail(refuse('the archive is empty'));
      resolve({ entries, bytes: total });
    });
    gunzip.end(gz);
  });
}
