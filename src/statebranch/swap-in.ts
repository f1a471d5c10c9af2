// Replaces the persisted part of .orchestrator/ with a copy written aside (state restore, snapshot
// import): one rename per top-level entry, so sessions/, meta.json, config.yaml... are each either
// the old or the new version, never half-written. Machine-local entries (cache/, locks/ with the
// held repo lock, secrets/, backups/) stay where they are. Callers hold the repo lock.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError, environmentErrorFrom } from '../errors.ts';
import { fsyncDir } from '../store/atomic-file.ts';
import { entriesOrNone, existsNoFollow } from '../store/file-reads.ts';
import { isPersisted } from './snapshot.ts';

/**
 * Swaps the persisted top-level entries of `container` for those of `staged` (both on one file
 * system); the replaced ones go to `old`, which is removed afterwards. `also` names machine-local
 * entries to replace as well (an import that carries secrets/). A failed rename puts back the ones
 * done before it; should even that fail, `old` is kept and named in the error.
 */
export function swapPersisted(container: string, staged: string, old: string, also: ReadonlySet<string> = new Set()): void {
  // The staged files must be on disk before the renames make them the state.
  spawnSync('sync', ['-f', staged], { stdio: 'ignore' });
  mkdirSync(old, { recursive: true });
  const done: [from: string, to: string][] = [];
  const move = (from: string, to: string) => {
    renameSync(from, to);
    done.push([from, to]);
  };
  let keepOld = false;
  try {
    const names = new Set([...entriesOrNone(container), ...entriesOrNone(staged)]);
    for (const name of names) {
      if (!isPersisted(name, true) && !also.has(name)) continue;
      if (existsNoFollow(join(container, name))) move(join(container, name), join(old, name));
      if (existsNoFollow(join(staged, name))) move(join(staged, name), join(container, name));
    }
  } catch (err) {
    try {
      for (const [from, to] of done.reverse()) renameSync(to, from);
    } catch {
      keepOld = true;
      throw new EnvironmentError(`${container}: swapping in the new state failed half-way and could not be undone; the replaced files are in ${old}: move them back, then retry`);
    }
    throw environmentErrorFrom(err, container);
  } finally {
    if (!keepOld) rmSync(old, { recursive: true, force: true });
  }
  fsyncDir(container);
}
