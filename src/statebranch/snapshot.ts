// The persisted part of .orchestrator/ as git trees and blobs (CONTRACT §7): everything but
// secrets/, cache/, locks/, backups/, a migration's staging area and temp files. Files that
// did not change since the last snapshot keep their blob ids from a stat cache, so an
// incremental save reads only what changed. A JSON Lines file over SEGMENT bytes is stored as a
// tree of segments cut at line ends: appending an event rewrites only the last segment, so a save
// and a push carry the new bytes, not the whole log.
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, OrchestratorError } from '../errors.ts';
import { writeObject, objectId, treeContent, type TreeEntry } from '../gitstore/objects.ts';

/** Segment size of a stored JSON Lines file: a push after one new event sends about this much, compressed. */
export const SEGMENT = 256 << 10;

/** The id of git's empty tree. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/** Top-level names under .orchestrator/ that never leave the machine. */
export const NOT_PERSISTED = new Set(['secrets', 'cache', 'locks', 'backups']);

/** Temp files of atomic writes and a migration's staging area: never persisted. */
export function isTransient(name: string): boolean {
  return name.startsWith('staging-') || /\.tmp-\d+-[0-9a-f]+$/.test(name) || name.endsWith('.lock');
}

/** Whether an entry named `name` (directly under .orchestrator/ when `top`) is in the persisted set. */
export function isPersisted(name: string, top: boolean): boolean {
  return !isTransient(name) && !(top && NOT_PERSISTED.has(name));
}

/**
 * Where the segment that starts a window ends: after the first line end at or past SEGMENT bytes
 * (so appends never move an earlier cut), or the whole window when it holds none (the window is
 * SEGMENT * 2 bytes, or the rest of the file).
 */
export function segmentLength(window: Buffer): number {
  if (window.length <= SEGMENT) return window.length;
  const nl = window.indexOf(0x0a, SEGMENT - 1);
  return nl >= 0 ? nl + 1 : window.length;
}

/** The segments of a whole JSON Lines file, cut as snapshotContainer cuts them. */
export function splitSegments(content: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let start = 0; start < content.length; ) {
    const len = segmentLength(content.subarray(start, start + SEGMENT * 2));
    out.push(content.subarray(start, start + len));
    start += len;
  }
  return out;
}

/** Whether a file is stored as a tree of segments. */
export function isSegmented(name: string, size: number): boolean {
  return name.endsWith('.jsonl') && size > SEGMENT;
}

interface CachedFile {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  /** A whole-file blob, or the segments of a JSON Lines file (each [end offset, blob id]). */
  oid?: string;
  segments?: [number, string][];
}

export interface StatCache {
  files: Record<string, CachedFile>;
}

/** Credentials that must never reach a commit, by the shape of the common tokens. */
const CREDENTIALS: [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key block'],
  [/\bghp_[A-Za-z0-9]{36}\b/, 'a GitHub token (ghp_)'],
  [/\bgithub_pat_[A-Za-z0-9_]{22,}/, 'a GitHub token (github_pat_)'],
  [/\bsk-[A-Za-z0-9_-]{20,}/, 'an API key (sk-)'],
  [/\bAKIA[0-9A-Z]{16}\b/, 'an AWS access key (AKIA)'],
];

export class CredentialFoundError extends OrchestratorError {
  readonly code = 'CREDENTIAL_IN_STATE';
  readonly exitCode = ExitCode.badInput;
}

function scanForCredentials(rel: string, bytes: Buffer): void {
  const text = bytes.toString('latin1');
  for (const [re, what] of CREDENTIALS) {
    if (re.test(text)) {
      throw new CredentialFoundError(
        `.orchestrator/${rel} holds what looks like ${what}; the state branch never carries credentials: remove it from that file (keep secrets in orchestrator secrets), then save again`,
      );
    }
  }
}

export interface SnapshotOptions {
  /** Write objects into this git common dir; without it, only compute ids (for "changed since?"). */
  commonDir?: string;
  /** Without commonDir: keep the trees made here by id (a caller may need to read them). */
  keep?: Map<string, Buffer>;
  cache: StatCache;
}

export interface Snapshot {
  tree: string;
  cache: StatCache;
  files: number;
  /** Bytes read and hashed because they were not in the cache. */
  bytesRead: number;
}

function same(c: CachedFile | undefined, st: Stats): boolean {
  return c !== undefined && c.ino === st.ino && c.size === st.size && c.mtimeMs === st.mtimeMs && c.ctimeMs === st.ctimeMs;
}

function readRange(path: string, start: number, end: number): Buffer {
  const buf = Buffer.allocUnsafe(end - start);
  const fd = openSync(path, 'r');
  try {
    let n = 0;
    while (n < buf.length) {
      const k = readSync(fd, buf, n, buf.length - n, start + n);
      if (k === 0) break;
      n += k;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Builds (and, with commonDir, writes) the tree of the persisted files under `container`. */
export function snapshotContainer(container: string, opts: SnapshotOptions): Snapshot {
  const next: StatCache = { files: {} };
  let files = 0;
  let bytesRead = 0;
  // Objects are written only once every file passed the credential scan: a refused save adds
  // nothing to the object store.
  const pending = new Map<string, [type: 'blob' | 'tree', content: Buffer]>();
  const put = (type: 'blob' | 'tree', content: Buffer) => {
    const oid = objectId(type, content);
    if (opts.commonDir && !pending.has(oid)) pending.set(oid, [type, content]);
    if (type === 'tree') opts.keep?.set(oid, content);
    return oid;
  };

  const blobOf = (rel: string, abs: string, st: Stats): TreeEntry['oid'] | { segments: [number, string][] } => {
    const cached = opts.cache.files[rel];
    if (cached && same(cached, st)) {
      next.files[rel] = cached;
      return cached.oid ?? { segments: cached.segments! };
    }
    const entry: CachedFile = { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
    if (isSegmented(rel, st.size)) {
      // Appends keep the inode: every cached segment but the last is still what it was.
      const keep = cached?.segments && cached.ino === st.ino && cached.size <= st.size ? cached.segments.slice(0, -1) : [];
      const segments: [number, string][] = [...keep];
      let start = keep.length ? keep[keep.length - 1]![0] : 0;
      while (start < st.size) {
        const chunk = readRange(abs, start, Math.min(st.size, start + SEGMENT * 2));
        bytesRead += chunk.length;
        const seg = chunk.subarray(0, segmentLength(chunk));
        scanForCredentials(rel, seg);
        segments.push([start + seg.length, put('blob', seg)]);
        start += seg.length;
      }
      entry.segments = segments;
      next.files[rel] = entry;
      return { segments };
    }
    const bytes = readRange(abs, 0, st.size);
    bytesRead += bytes.length;
    scanForCredentials(rel, bytes);
    entry.oid = put('blob', bytes);
    next.files[rel] = entry;
    return entry.oid;
  };

  const treeOf = (absDir: string, relDir: string, top: boolean): string | null => {
    const entries: TreeEntry[] = [];
    for (const name of readdirSync(absDir)) {
      if (!isPersisted(name, top)) continue;
      const abs = join(absDir, name);
      const rel = relDir ? `${relDir}/${name}` : name;
      const st = lstatSync(abs);
      if (st.isDirectory()) {
        const sub = treeOf(abs, rel, false);
        if (sub) entries.push({ name, mode: '40000', oid: sub });
      } else if (st.isFile()) {
        files++;
        const b = blobOf(rel, abs, st);
        if (typeof b === 'string') entries.push({ name, mode: st.mode & 0o100 ? '100755' : '100644', oid: b });
        else {
          const segs: TreeEntry[] = b.segments.map(([, oid], i) => ({ name: String(i).padStart(6, '0'), mode: '100644', oid }));
          entries.push({ name, mode: '40000', oid: put('tree', treeContent(segs)) });
        }
      }
      // Links and special files are not state: never followed, never stored.
    }
    return entries.length ? put('tree', treeContent(entries)) : null;
  };

  const tree = (existsSync(container) ? treeOf(container, '', true) : null) ?? put('tree', Buffer.alloc(0));
  if (opts.commonDir) for (const [oid, [type, content]] of pending) writeObject(opts.commonDir, type, content, oid);
  return { tree, cache: next, files, bytesRead };
}
