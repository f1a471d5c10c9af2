// The two encrypted stores (the repo's and the user's global one) and the legacy files, where they
// live, and how a store file is read and replaced: atomically, mode 0600 in a 0700 directory,
// under a lock, and only after the passphrase opened what is there (a wrong one changes nothing).
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { globalDir } from '../config/load.ts';
import { environmentErrorFrom } from '../errors.ts';
import { writeFileAtomic } from '../store/atomic-file.ts';
import type { RepoPaths } from '../store/paths.ts';
import { openEnvelope, parseEnvelope, sealEnvelope, type StoreEnvelope } from './envelope.ts';
import { PASSPHRASE_VAR, type Unlocker } from './unlock.ts';

export const STORE_FILE = 'store.json';

export interface StoreFile {
  scope: 'repo' | 'global';
  path: string;
  /** For messages: repo-relative, or the full path of the global store. */
  shown: string;
}

/** A legacy `openssl enc` file: where it is, repo-relative. */
export interface LegacyFile {
  path: string;
  shown: string;
}

export function repoStore(paths: RepoPaths): StoreFile {
  const path = join(paths.container, 'secrets', STORE_FILE);
  return { scope: 'repo', path, shown: paths.rel(path) };
}

export function globalStore(env: NodeJS.ProcessEnv): StoreFile {
  const path = join(globalDir(env), 'secrets', STORE_FILE);
  return { scope: 'global', path, shown: path };
}

/**
 * The Python tool's password-encrypted files, in the order they are read: `.secrets.enc` in the
 * repo root (not migrated yet), where `orchestrator migrate` puts it, and `.manus/secrets.enc`
 * (that tool's default location for `secrets init`).
 */
export function legacyFiles(paths: RepoPaths): LegacyFile[] {
  return ['.secrets.enc', '.orchestrator/secrets/secrets.enc', '.manus/secrets.enc'].map((rel) => ({ path: join(paths.root, rel), shown: rel }));
}

/** The file's bytes, or null when it does not exist. */
export function readBytes(path: string, shown: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw environmentErrorFrom(err, shown);
  }
}

export interface LoadedStore {
  envelope: StoreEnvelope;
  text: string;
}

/** The store's envelope (names readable without the passphrase), or null when there is none. */
export function readStore(file: StoreFile): LoadedStore | null {
  const bytes = readBytes(file.path, file.shown);
  if (bytes === null) return null;
  const text = bytes.toString('utf8');
  return { envelope: parseEnvelope(text, file.shown), text };
}

export interface StoreUpdate {
  /** Runs under the lock: make the container exist, for the repo store. */
  prepare?: () => void;
  /** Runs the write under the store's lock. */
  locked: <T>(fn: () => T) => T;
}

/**
 * Read-modify-write of a store. The passphrase is settled and the current file opened before the
 * lock is taken, so a wrong passphrase or a refused change leaves every file as it was; under the
 * lock the file is read again and, if another process replaced it meanwhile, reopened.
 * `change` edits the secrets in place (it may throw to refuse).
 */
export async function updateStore(file: StoreFile, unlocker: Unlocker, how: StoreUpdate, change: (secrets: Map<string, string>) => void): Promise<number> {
  const before = readStore(file);
  let passphrase: string;
  let secrets: Map<string, string>;
  if (before) ({ secrets, passphrase } = await unlocker.openStore(before.envelope, file.shown));
  else {
    passphrase = await unlocker.newPassphrase(file.shown);
    secrets = new Map();
  }
  // A dry run on a copy: a change that refuses does so before the lock creates .orchestrator/locks/.
  change(new Map(secrets));
  return how.locked(() => {
    const now = readStore(file);
    let current = secrets;
    if ((now?.text ?? null) !== (before?.text ?? null)) {
      current = now ? openEnvelope(now.envelope, passphrase, file.shown, `set ${PASSPHRASE_VAR} to the passphrase it was written with`) : new Map();
    }
    change(current);
    how.prepare?.();
    writeStore(file, sealEnvelope(current, passphrase, now?.envelope ?? null));
    return current.size;
  });
}

function writeStore(file: StoreFile, envelope: StoreEnvelope): void {
  const dir = dirname(file.path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Also tightens a directory that a migration or an older tool created with the umask's mode.
    chmodSync(dir, 0o700);
  } catch (err) {
    throw environmentErrorFrom(err, dir);
  }
  writeFileAtomic(file.path, JSON.stringify(envelope, null, 2) + '\n', { mode: 0o600 });
  try {
    chmodSync(file.path, 0o600);
  } catch (err) {
    throw environmentErrorFrom(err, file.shown);
  }
}
