// `snapshot import`: an archive is read twice. The first pass writes nothing: it checks every
// entry (archive-reader.ts), the layout, and that the files are exactly those of the manifest with
// their sizes and sha256. Only then does the second pass unpack the orchestrator/ part into a
// fresh directory under cache/ (the same checks again, so an archive cannot change between the
// passes), and the persisted set is swapped in (statebranch/swap-in.ts) under the repo lock.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { isPersisted } from '../statebranch/snapshot.ts';
import { readArchive, refusal, type ArchiveEntry, type EntrySink } from './archive-reader.ts';
import { CONTAINER, LIMITS, MANIFEST, ManifestSchema, SNAPSHOT_DIR, WORKFLOW, type Manifest } from './manifest.ts';

export interface CheckedSnapshot {
  manifest: Manifest;
  files: number;
  /** workflow.yaml's bytes, when the archive has one. */
  workflow: Buffer | null;
  /** Whether the archive carries .orchestrator/secrets/. */
  secrets: boolean;
}

/** The archive's meta.json is kept in memory to check its repo_id: at most this big. */
const META_BYTES = 1 << 20;

/**
 * Reads and checks the archive. With `stage`, also writes its orchestrator/ part under
 * `stage/orchestrator/` (a new directory the caller removes); without, writes nothing.
 */
export async function checkSnapshot(gz: Buffer, shown: string, encrypted: boolean, stage?: string): Promise<CheckedSnapshot> {
  const refuse = (why: string) => refusal(shown, why);
  const hashes = new Map<string, { size: number; sha256: string }>();
  const dirs = new Set<string>();
  const kept = new Map<string, Buffer>();
  const open = new Set<number>();
  let secrets = false;

  const place = (e: ArchiveEntry): 'manifest' | 'workflow' | 'state' | 'root' => {
    const parts = e.path.split('/');
    const fail = (why: string) => refuse(`entry "${e.path}" ${why}`);
    if (parts[0] !== SNAPSHOT_DIR) throw fail(`is outside ${SNAPSHOT_DIR}/`);
    if (parts.length === 1) {
      if (e.kind !== 'dir') throw fail('is not a directory');
      return 'root';
    }
    const rel = parts.slice(1).join('/');
    if (rel === MANIFEST || rel === WORKFLOW) {
      if (e.kind !== 'file') throw fail('is not a file');
      return rel === MANIFEST ? 'manifest' : 'workflow';
    }
    if (parts[1] !== CONTAINER) throw fail(`is not ${MANIFEST}, ${WORKFLOW} or under ${CONTAINER}/`);
    const inner = parts.slice(2);
    if (inner.length === 0) {
      if (e.kind !== 'dir') throw fail('is not a directory');
      return 'state';
    }
    if (inner[0] === 'secrets') secrets = true;
    else if (!isPersisted(inner[0]!, true)) throw fail(`is machine-local or temporary (.orchestrator/${inner[0]} is never exported)`);
    if (inner.slice(1).some((name) => !isPersisted(name, false))) throw fail('is a temporary file');
    return 'state';
  };

  try {
    await readArchive(gz, shown, LIMITS, (e) => {
      const where = place(e);
      const rel = e.path.split('/').slice(1).join('/');
      const target = stage && where === 'state' ? join(stage, ...rel.split('/')) : null;
      if (target && !target.startsWith(stage! + sep)) throw refuse(`entry "${e.path}" leaves the staging directory`);
      if (e.kind === 'dir') {
        dirs.add(rel);
        // Owner keeps full access; group and others never get write access.
        if (target) mkdirSync(target, { recursive: true, mode: (e.mode & 0o755) | 0o700 });
        return undefined;
      }
      const isMeta = rel === `${CONTAINER}/meta.json`;
      if ((where === 'manifest' && e.size > LIMITS.manifestBytes) || (isMeta && e.size > META_BYTES)) {
        throw refuse(`entry "${e.path}" is too large for what it is (${e.size} bytes)`);
      }
      const keep = where === 'manifest' || where === 'workflow' || isMeta;
      return fileSink(rel, e, target, open, keep ? kept : null, hashes);
    });
  } finally {
    for (const fd of open) closeSync(fd);
  }

  const manifestBytes = kept.get(MANIFEST);
  if (!manifestBytes) throw refuse(`it has no ${SNAPSHOT_DIR}/${MANIFEST}`);
  let manifest: Manifest;
  try {
    const parsed = ManifestSchema.safeParse(JSON.parse(manifestBytes.toString('utf8')));
    if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    manifest = parsed.data;
  } catch (err) {
    throw refuse(`its ${MANIFEST} is not a snapshot manifest (${(err as Error).message})`);
  }
  hashes.delete(MANIFEST);
  for (const [rel, want] of Object.entries(manifest.files)) {
    const got = hashes.get(rel);
    if (!got) throw refuse(`${rel} is in the manifest but not in the archive`);
    if (got.size !== want.size || got.sha256 !== want.sha256) throw refuse(`${rel} does not match its size and sha256 in the manifest`);
  }
  for (const rel of hashes.keys()) if (!Object.hasOwn(manifest.files, rel)) throw refuse(`${rel} is in the archive but not in the manifest`);
  for (const rel of [...hashes.keys(), ...dirs]) {
    for (let at = rel.indexOf('/'); at > 0; at = rel.indexOf('/', at + 1)) {
      if (hashes.has(rel.slice(0, at))) throw refuse(`${rel} lies under ${rel.slice(0, at)}, which is a file`);
    }
  }
  if (secrets && !manifest.includes_secrets) throw refuse('it holds secrets/ but its manifest says it does not');
  if (manifest.includes_secrets && !encrypted) throw refuse('it holds secrets but is not encrypted (secrets are never exported unencrypted)');
  const meta = kept.get(`${CONTAINER}/meta.json`);
  let metaId: unknown;
  try {
    metaId = meta ? (JSON.parse(meta.toString('utf8')) as { repo_id?: unknown }).repo_id : undefined;
  } catch {
    // reported below
  }
  if (metaId !== manifest.repo_id) throw refuse(`its ${CONTAINER}/meta.json does not hold the manifest's repo_id ${manifest.repo_id}`);
  return { manifest, files: hashes.size, workflow: kept.get(WORKFLOW) ?? null, secrets };
}

/** Hashes a file's bytes as they come; keeps them in memory or writes them to `target` as asked. */
function fileSink(
  rel: string,
  e: ArchiveEntry,
  target: string | null,
  open: Set<number>,
  kept: Map<string, Buffer> | null,
  hashes: Map<string, { size: number; sha256: string }>,
): EntrySink {
  const hash: Hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  let fd: number | null = null;
  if (target) {
    mkdirSync(dirname(target), { recursive: true });
    fd = openSync(target, 'wx', (e.mode & 0o755) | 0o600);
    open.add(fd);
  }
  return {
    data(chunk) {
      hash.update(chunk);
      size += chunk.length;
      if (kept) chunks.push(chunk);
      if (fd !== null) for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off, chunk.length - off);
    },
    end() {
      if (fd !== null) {
        open.delete(fd);
        closeSync(fd);
      }
      if (kept) kept.set(rel, Buffer.concat(chunks));
      hashes.set(rel, { size, sha256: hash.digest('hex') });
    },
  };
}

/**
 * The staged copy of .orchestrator/ keeps this repo's own meta.json (its identity) when the
 * snapshot came from another repository (taken with --force).
 */
export function keepOwnIdentity(staged: string, ownMeta: string): void {
  if (existsSync(ownMeta)) copyFileSync(ownMeta, join(staged, 'meta.json'));
}

/** Whether writing `bytes` to `path` would change it. */
export function differs(path: string, bytes: Buffer): boolean {
  try {
    return !readFileSync(path).equals(bytes);
  } catch {
    return true;
  }
}
