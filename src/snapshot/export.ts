// `snapshot export`: the persisted part of .orchestrator/ (the state branch's set, see
// statebranch/snapshot.ts; secrets/ only when asked) and workflow.yaml as one .tar.gz with a
// manifest of sizes and sha256. Files are read once, into memory, while the caller holds the repo
// lock, so the archive shows one moment and the manifest describes exactly the bytes packed.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { create as createTar } from 'tar';
import { InvalidSnapshotError } from '../errors.ts';
import { isPersisted } from '../statebranch/snapshot.ts';
import type { RepoPaths } from '../store/paths.ts';
import { VERSION } from '../version.ts';
import { CONTAINER, FORMAT, LIMITS, MANIFEST, SNAPSHOT_DIR, WORKFLOW, type Manifest } from './manifest.ts';

export interface Collected {
  manifest: Manifest;
  /** Path under orchestrator-snapshot/ -> bytes and mode, for files; directories with their mode. */
  files: Map<string, { bytes: Buffer; mode: number }>;
  dirs: Map<string, number>;
}

/** Reads what a snapshot holds. Call under the repo lock. */
export function collectSnapshot(paths: RepoPaths, repoId: string, includeSecrets: boolean, now: string): Collected {
  const files: Collected['files'] = new Map();
  const dirs: Collected['dirs'] = new Map();
  let total = 0;
  const tooBig = (what: string) =>
    new InvalidSnapshotError(`${what}, over what a snapshot holds (${LIMITS.fileBytes} bytes a file, ${LIMITS.totalBytes} in all, ${LIMITS.entries} entries); move old sessions away first`);
  const addFile = (rel: string, abs: string, shown: string) => {
    const st = lstatSync(abs);
    if (st.size > LIMITS.fileBytes) throw tooBig(`${shown} is ${st.size} bytes`);
    const bytes = readFileSync(abs);
    total += bytes.length;
    if (total > LIMITS.totalBytes) throw tooBig(`.orchestrator/ holds more than ${LIMITS.totalBytes} bytes`);
    files.set(rel, { bytes, mode: st.mode & 0o777 });
  };
  const walk = (absDir: string, rel: string, top: boolean) => {
    dirs.set(rel, lstatSync(absDir).mode & 0o777);
    for (const name of readdirSync(absDir).sort()) {
      if (!isPersisted(name, top) && !(top && includeSecrets && name === 'secrets')) continue;
      const abs = join(absDir, name);
      const st = lstatSync(abs);
      // Links and special files are not state: never followed, never packed (as on the state branch).
      if (st.isDirectory()) walk(abs, `${rel}/${name}`, false);
      else if (st.isFile()) addFile(`${rel}/${name}`, abs, paths.rel(abs));
      if (files.size + dirs.size > LIMITS.entries) throw tooBig(`.orchestrator/ holds more than ${LIMITS.entries} files and directories`);
    }
  };
  walk(paths.container, CONTAINER, true);
  try {
    if (lstatSync(paths.workflowFile).isFile()) addFile(WORKFLOW, paths.workflowFile, WORKFLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const manifest: Manifest = {
    format: FORMAT,
    version: 1,
    repo_id: repoId,
    created_at: now,
    created_with: `orchestrator ${VERSION}`,
    includes_secrets: includeSecrets,
    files: Object.fromEntries(
      [...files].map(([rel, f]) => [rel, { size: f.bytes.length, sha256: createHash('sha256').update(f.bytes).digest('hex') }]),
    ),
  };
  return { manifest, files, dirs };
}

/**
 * The .tar.gz of `c`, packed by the tar package from a copy laid out in `stage` (a fresh directory
 * under cache/, which the caller removes): the manifest first, then workflow.yaml, then the state.
 */
export function packSnapshot(c: Collected, stage: string): Buffer {
  const root = join(stage, SNAPSHOT_DIR);
  mkdirSync(root, { recursive: true });
  for (const [rel, mode] of c.dirs) mkdirSync(join(root, rel), { recursive: true, mode: mode | 0o700 });
  const write = (rel: string, bytes: Buffer, mode: number) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    const fd = openSync(join(root, rel), 'wx', mode | 0o600);
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  };
  write(MANIFEST, Buffer.from(JSON.stringify(c.manifest, null, 2) + '\n'), 0o644);
  for (const [rel, f] of c.files) write(rel, f.bytes, f.mode);
  const members = [MANIFEST, ...(c.files.has(WORKFLOW) ? [WORKFLOW] : []), CONTAINER].map((m) => `${SNAPSHOT_DIR}/${m}`);
  const chunks: Buffer[] = [];
  // portable: no uid, gid, user or group names of this machine in the archive.
  createTar({ cwd: stage, gzip: true, portable: true, sync: true }, members).on('data', (chunk: Buffer) => chunks.push(chunk));
  return Buffer.concat(chunks);
}
