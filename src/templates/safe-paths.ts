// The path rules of templates. A template names files two ways: paths inside the template (read)
// and paths inside the repo (written). Neither may leave its folder: no absolute paths, no "..",
// nothing in .git, and no symlink on the way, wherever it points.
import { lstatSync, readFileSync, realpathSync, type Stats } from 'node:fs';
import { join, sep } from 'node:path';
import { InvalidTemplateError, UnsafePathError, environmentErrorFrom } from '../errors.ts';
import { oneLine } from './manifest.ts';

/**
 * Splits a relative path into its segments ("." and empty ones dropped). Returns why it is not
 * one that stays inside its folder, or the segments.
 */
export function relativeSegments(path: string): { segments: string[] } | { problem: string } {
  if (/[\u0000-\u001f\u007f]/.test(path)) return { problem: 'holds a control character' };
  if (path.includes('\\')) return { problem: 'holds a backslash; use / between folders' };
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return { problem: 'is absolute' };
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (!segments.length) return { problem: 'names no file' };
  if (segments.includes('..')) return { problem: 'leaves its folder (..)' };
  // Case-insensitive file systems (macOS, Windows) treat .GIT as .git.
  if (segments.some((s) => s.toLowerCase() === '.git')) return { problem: 'points into .git' };
  return { segments };
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw environmentErrorFrom(err, path);
  }
}

/**
 * Reads `rel` from the template folder, or null when it is not there. A symlink anywhere on the
 * way is refused (exit 2) rather than followed: a template may not read outside itself.
 */
export function readTemplateFile(folder: string, rel: string, where: string): { bytes: Buffer; executable: boolean } | null {
  const checked = relativeSegments(rel);
  const shown = oneLine(rel);
  if ('problem' in checked) throw new UnsafePathError(`${where} ${shown} ${checked.problem}; a template reads only its own files`);
  let path = folder;
  let executable = false;
  for (const [i, part] of checked.segments.entries()) {
    path = join(path, part);
    const st = lstatOrNull(path);
    if (!st) return null;
    executable = (st.mode & 0o111) !== 0;
    if (st.isSymbolicLink()) throw new UnsafePathError(`${where} ${shown} ${i === checked.segments.length - 1 ? 'is' : 'goes through'} a symlink; templates may not contain symlinks, so it is refused`);
    const last = i === checked.segments.length - 1;
    if (last && !st.isFile()) throw new InvalidTemplateError(`${where} ${shown} is not a file; name a file of the template`);
    if (!last && !st.isDirectory()) return null;
  }
  try {
    return { bytes: readFileSync(path), executable };
  } catch (err) {
    throw environmentErrorFrom(err, path);
  }
}

export type TargetState =
  | { kind: 'absent' }
  | { kind: 'file'; bytes: Buffer }
  /** An existing symlink or special file: replaced (never followed) with --force. */
  | { kind: 'other' }
  /** Something in the way that --force does not replace: a folder, or a file where a folder must be. */
  | { kind: 'blocked'; why: string };

/**
 * What is at `base/segments` now. Throws UnsafePathError when an existing folder on the way is a
 * symlink leading outside `base`: writing there would land outside the repo.
 */
export function inspectTarget(base: string, segments: readonly string[], shown: string): TargetState {
  const realBase = realpathOrSelf(base);
  let path = base;
  for (const [i, part] of segments.entries()) {
    path = join(path, part);
    const st = lstatOrNull(path);
    if (!st) return { kind: 'absent' };
    const last = i === segments.length - 1;
    if (last) {
      if (st.isFile()) return { kind: 'file', bytes: readFileSync(path) };
      if (st.isDirectory()) return { kind: 'blocked', why: `${shown} is a folder` };
      return { kind: 'other' };
    }
    if (st.isSymbolicLink()) {
      const real = realpathOrSelf(path);
      if (real !== realBase && !real.startsWith(realBase + sep)) {
        throw new UnsafePathError(`${shown}: ${segments.slice(0, i + 1).join('/')} is a symlink leading outside the repo; the template's file is refused and nothing was written`);
      }
      if (!lstatOrNull(real)?.isDirectory()) return { kind: 'blocked', why: `${segments.slice(0, i + 1).join('/')} is not a folder` };
    } else if (!st.isDirectory()) return { kind: 'blocked', why: `${segments.slice(0, i + 1).join('/')} is a file, not a folder` };
  }
  return { kind: 'absent' };
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
