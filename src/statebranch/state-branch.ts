// The state branch (CONTRACT §7): commits of the persisted .orchestrator/ written straight into
// git's object store, on refs/heads/<state.branch>, each one's parent the previous save. Nothing
// else in the repository changes: not the working tree, the index, HEAD, another ref or
// .git/config, and no git identity is needed (the author comes from config). Callers hold the
// repo lock.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/load.ts';
import { detectEnvironment } from '../env/detect.ts';
import { UsageError, WorkflowStateConflictError } from '../errors.ts';
import { findGitDirs, requireGitDirs, type GitDirs } from '../gitstore/git-dir.ts';
import { commitContent, objectId, parseCommit, parseTree, readLooseObject, treeContent, writeObject } from '../gitstore/objects.ts';
import { readRef, updateRef } from '../gitstore/refs.ts';
import { writeFileAtomic } from '../store/atomic-file.ts';
import type { RepoPaths } from '../store/paths.ts';
import { randomHex } from '../store/random-id.ts';
import { EMPTY_TREE, snapshotContainer, type StatCache } from './snapshot.ts';
import { swapPersisted } from './swap-in.ts';

interface SaveCache extends StatCache {
  /**
   * The commit this machine last saved or restored, its tree, and the tree of .orchestrator/
   * alone at that moment: "changed here since?" without reading git.
   */
  last?: { commit: string; tree: string; local: string };
}

function cachePath(paths: RepoPaths): string {
  return join(paths.cacheDir, 'state-branch.json');
}

function readCache(paths: RepoPaths): SaveCache {
  try {
    const c = JSON.parse(readFileSync(cachePath(paths), 'utf8')) as SaveCache;
    if (c && typeof c.files === 'object') return c;
  } catch {
    // missing or damaged: a cache only saves work, so start afresh
  }
  return { files: {} };
}

function writeCache(paths: RepoPaths, c: SaveCache): void {
  mkdirSync(paths.cacheDir, { recursive: true });
  writeFileAtomic(cachePath(paths), JSON.stringify(c));
}

/** `refs/heads/<state.branch>`, after checking the name is one git accepts. */
export function stateRef(config: Config | undefined): string {
  const branch = config?.get<string>('state.branch') ?? 'orchestrator-state';
  const bad =
    !branch ||
    /[\s~^:?*[\\\x00-\x1f\x7f]|\.\.|@\{|\/\/|^[-/.]|[/.]$|\.lock$|\/\./.test(branch);
  if (bad) throw new UsageError(`state.branch "${branch}" is not a valid git branch name; set it to e.g. orchestrator-state`);
  return `refs/heads/${branch}`;
}

/** A commit or tree object: loose, else through `git cat-file` (packed objects, after a fetch). */
function readObject(dirs: GitDirs, oid: string): Buffer {
  const loose = readLooseObject(dirs.commonDir, oid);
  if (loose) return loose.content;
  const r = spawnSync('git', ['--git-dir', dirs.gitDir, 'cat-file', '--batch'], { input: `${oid}\n`, maxBuffer: 1 << 30 });
  if (r.status === 0 && r.stdout.length) {
    const header = r.stdout.indexOf(0x0a);
    const size = Number(r.stdout.toString('latin1', 0, header).split(' ')[2]);
    if (Number.isFinite(size)) return r.stdout.subarray(header + 1, header + 1 + size);
  }
  throw new WorkflowStateConflictError(`git object ${oid} of the state branch is missing from ${dirs.commonDir}; run: orchestrator state pull`);
}

function treeOfCommit(dirs: GitDirs, commit: string): string {
  return parseCommit(readObject(dirs, commit)).tree;
}

/**
 * The branch's tree with .orchestrator/'s files laid over it: a file the branch has and this
 * machine never had (another machine's session, merged in by a push or pull) stays on the branch.
 * Saving only what is here would drop it from the tip. A segmented log (a tree named *.jsonl) is
 * one file: the local version replaces it whole.
 */
function overlay(read: (oid: string) => Buffer, put: (type: 'tree', content: Buffer) => string, base: string, local: string): string {
  if (base === local) return local;
  const byName = new Map(parseTree(read(base)).map((e) => [e.name, e]));
  for (const e of parseTree(read(local))) {
    const under = byName.get(e.name);
    const bothDirs = under && under.mode === '40000' && e.mode === '40000' && !e.name.endsWith('.jsonl');
    byName.set(e.name, bothDirs ? { ...e, oid: overlay(read, put, under.oid, e.oid) } : e);
  }
  return put('tree', treeContent([...byName.values()]));
}

export interface SaveResult {
  changed: boolean;
  ref: string;
  commit: string | null;
  parent: string | null;
  tree: string;
  files: number;
  bytesRead: number;
}

export function saveState(paths: RepoPaths, config: Config | undefined, env: NodeJS.ProcessEnv, now: Date = new Date()): SaveResult {
  const dirs = requireGitDirs(paths.root);
  const ref = stateRef(config);
  const cache = readCache(paths);
  const parent = readRef(dirs.commonDir, ref);
  const snap = snapshotContainer(paths.container, { commonDir: dirs.commonDir, cache });
  const parentTree = parent === null ? null : cache.last?.commit === parent ? cache.last.tree : treeOfCommit(dirs, parent);
  const tree = parentTree ? overlay((oid) => readObject(dirs, oid), (type, content) => writeObject(dirs.commonDir, type, content), parentTree, snap.tree) : snap.tree;
  if (parentTree === tree) {
    writeCache(paths, { ...snap.cache, last: { commit: parent!, tree, local: snap.tree } });
    return { changed: false, ref, commit: parent, parent, tree, files: snap.files, bytesRead: snap.bytesRead };
  }
  const commit = writeObject(
    dirs.commonDir,
    'commit',
    commitContent({
      tree,
      parents: parent ? [parent] : [],
      author: { name: config?.get<string>('state.author_name') ?? 'orchestrator', email: config?.get<string>('state.author_email') ?? 'orchestrator@users.noreply.github.com' },
      time: Math.floor(now.getTime() / 1000),
      message: `orchestrator state save\n\nenvironment: ${detectEnvironment(env)}\nhost: ${hostname()}\n`,
    }),
  );
  updateRef(dirs.commonDir, ref, parent, commit);
  writeCache(paths, { ...snap.cache, last: { commit, tree, local: snap.tree } });
  return { changed: true, ref, commit, parent, tree, files: snap.files, bytesRead: snap.bytesRead };
}

export interface SaveEntry {
  commit: string;
  tree: string;
  time: string;
  message: string;
}

/** The saves on the state branch, newest first (at most `limit`). */
export function stateLog(paths: RepoPaths, config: Config | undefined, limit = 50): SaveEntry[] {
  const dirs = findGitDirs(paths.root);
  if (!dirs) return [];
  const out: SaveEntry[] = [];
  for (let c = readRef(dirs.commonDir, stateRef(config)); c && out.length < limit; ) {
    const parsed = parseCommit(readObject(dirs, c));
    out.push({ commit: c, tree: parsed.tree, time: new Date(parsed.time * 1000).toISOString(), message: parsed.message.split('\n')[0]! });
    c = parsed.parents[0] ?? null;
  }
  return out;
}

export interface LocalStatus {
  ref: string;
  /** The branch's commit, or null when nothing was saved yet. */
  commit: string | null;
  /** The tree of .orchestrator/ alone, as it is now. */
  localTree: string;
  branchTree: string | null;
  /** Whether a save would commit something (.orchestrator/ has files or versions the branch lacks). */
  unsaved: boolean;
  /** Whether .orchestrator/ differs from the branch (restore would change files). */
  differs: boolean;
  /** Whether this machine changed .orchestrator/ since it last saved or restored. */
  changedSinceLast: boolean;
}

/** Compares .orchestrator/ with the branch, computing ids in memory only. */
export function localStatus(paths: RepoPaths, config: Config | undefined): LocalStatus {
  const dirs = requireGitDirs(paths.root);
  const ref = stateRef(config);
  const cache = readCache(paths);
  const commit = readRef(dirs.commonDir, ref);
  // Trees built in memory, never written: the overlay may need one that is not in git yet.
  const made = new Map<string, Buffer>();
  const read = (oid: string) => made.get(oid) ?? readObject(dirs, oid);
  const local = snapshotContainer(paths.container, { cache, keep: made }).tree;
  const branchTree = commit ? treeOfCommit(dirs, commit) : null;
  const putInMemory = (type: 'tree', content: Buffer) => {
    const oid = objectId(type, content);
    made.set(oid, content);
    return oid;
  };
  const combined = branchTree ? overlay(read, putInMemory, branchTree, local) : local;
  // A machine that never saved nor restored has changed nothing unless it holds state of its own.
  const changedSinceLast = cache.last ? cache.last.local !== local : local !== EMPTY_TREE && local !== branchTree;
  return { ref, commit, localTree: local, branchTree, unsaved: combined !== branchTree, differs: local !== branchTree, changedSinceLast };
}

/** What the remote had at the last fetch or push (refs/orchestrator/remote/<branch>), and how many local saves it lacks. */
export function remoteStatus(paths: RepoPaths, config: Config | undefined): { remote: string | null; unpushed: number } {
  const dirs = requireGitDirs(paths.root);
  const ref = stateRef(config);
  const local = readRef(dirs.commonDir, ref);
  const remote = readRef(dirs.commonDir, ref.replace('refs/heads/', 'refs/orchestrator/remote/'));
  const ancestors = (from: string | null) => {
    const seen = new Set<string>();
    for (const stack = from ? [from] : []; stack.length; ) {
      const c = stack.pop()!;
      if (seen.has(c)) continue;
      seen.add(c);
      stack.push(...parseCommit(readObject(dirs, c)).parents);
    }
    return seen;
  };
  const pushed = ancestors(remote);
  return { remote, unpushed: [...ancestors(local)].filter((c) => !pushed.has(c)).length };
}

export interface RestoreResult {
  restored: boolean;
  commit: string | null;
  files: number;
}

/**
 * Rebuilds the persisted part of .orchestrator/ from the branch: the files are written into a
 * directory under cache/ first, then swapped in with one rename per top-level entry. Refuses
 * (exit 3) when this machine changed .orchestrator/ since its last save or restore, unless the
 * branch already holds exactly that: newer local work is never overwritten.
 */
export function restoreState(paths: RepoPaths, config: Config | undefined): RestoreResult {
  const dirs = requireGitDirs(paths.root);
  const status = localStatus(paths, config);
  if (!status.commit) return { restored: false, commit: null, files: 0 };
  if (!status.differs) {
    writeCache(paths, { ...readCache(paths), last: { commit: status.commit, tree: status.branchTree!, local: status.localTree } });
    return { restored: false, commit: status.commit, files: 0 };
  }
  if (status.changedSinceLast) {
    throw new WorkflowStateConflictError(
      `.orchestrator/ changed here since its last save, and ${status.ref} holds other state; restoring would overwrite that work: run orchestrator state save first (or move .orchestrator/ away to take the branch's state)`,
    );
  }
  const id = randomHex(4);
  const staged = join(paths.cacheDir, `restore-${id}`);
  const old = join(paths.cacheDir, `restore-${id}-old`);
  let files = 0;
  const writeTree = (tree: string, dir: string) => {
    mkdirSync(dir, { recursive: true });
    for (const e of parseTree(readObject(dirs, tree))) {
      const path = join(dir, e.name);
      if (e.mode === '40000') {
        const children = parseTree(readObject(dirs, e.oid));
        // A segmented JSON Lines file (see snapshot.ts): its segments, joined in order.
        if (e.name.endsWith('.jsonl') && children.every((c) => /^\d{6}$/.test(c.name) && c.mode !== '40000')) {
          writeFileSync(path, Buffer.concat(children.map((c) => readObject(dirs, c.oid))));
          files++;
        } else writeTree(e.oid, path);
      } else {
        writeFileSync(path, readObject(dirs, e.oid), { mode: e.mode === '100755' ? 0o755 : 0o644 });
        files++;
      }
    }
  };
  try {
    writeTree(treeOfCommit(dirs, status.commit), staged);
    swapPersisted(paths.container, staged, old);
  } finally {
    rmSync(staged, { recursive: true, force: true });
  }
  const after = snapshotContainer(paths.container, { cache: { files: {} } });
  writeCache(paths, { ...after.cache, last: { commit: status.commit, tree: status.branchTree!, local: after.tree } });
  return { restored: true, commit: status.commit, files };
}
