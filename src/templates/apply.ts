// Writes a checked template plan: each file atomically, and if one write fails (disk full, say)
// the files already written are put back as they were, so a failed init leaves the repo unchanged.
// The caller holds the repo lock.
import { existsSync, lstatSync, readFileSync, readlinkSync, rmdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../store/atomic-file.ts';
import { joinTarget, type FileAction, type TemplatePlan } from './plan.ts';

export function writePlan(plan: TemplatePlan, actions: readonly FileAction[]): void {
  const undo: (() => void)[] = [];
  try {
    for (const [i, f] of plan.files.entries()) {
      if (actions[i] === 'unchanged') continue;
      const target = joinTarget(f);
      const restore = actions[i] === 'replace' ? restorer(target) : () => unlinkSync(target);
      const madeDirs = missingDirs(dirname(target), f.base);
      writeFileAtomic(target, f.bytes, { mode: f.executable ? 0o755 : 0o644 });
      undo.push(() => {
        restore();
        for (const d of madeDirs) rmdirSync(d);
      });
    }
  } catch (err) {
    for (const step of undo.reverse()) {
      try {
        step();
      } catch {
        // best effort: the original error is the one to report
      }
    }
    throw err;
  }
}

/** Puts back what is at `target` now: a file's bytes, or a symlink (replaced, never followed). */
function restorer(target: string): () => void {
  if (lstatSync(target).isSymbolicLink()) {
    const link = readlinkSync(target);
    return () => {
      unlinkSync(target);
      symlinkSync(link, target);
    };
  }
  const bytes = readFileSync(target);
  return () => writeFileAtomic(target, bytes);
}

/** Folders between `base` and `dir` that do not exist yet, deepest first (what a write creates). */
function missingDirs(dir: string, base: string): string[] {
  const out: string[] = [];
  for (let d = dir; d.length > base.length && !existsSync(d); d = dirname(d)) out.push(d);
  return out;
}
