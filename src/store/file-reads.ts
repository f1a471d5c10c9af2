// Reading files and directories that may not be there: absence is an answer, not an error, and a
// file that cannot be read or parsed is named, with its fix, in one line.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { CorruptFileError, environmentErrorFrom } from '../errors.ts';

/** The file's text, or null when it does not exist; any other failure names `shown`. */
export function readTextIfExists(path: string, shown: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw environmentErrorFrom(err, shown);
  }
}

/** JSON.parse, or a CorruptFileError naming `shown` and `fix`. */
export function parseJsonText(text: string, shown: string, fix: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    // JSON.parse quotes the text it choked on, newlines included; the error must stay one line.
    const why = (err as Error).message.replace(/\s+/g, ' ');
    throw new CorruptFileError(`${shown}: not valid JSON (${why}); ${fix}`, { path: shown });
  }
}

/** The names in `dir`; [] when it cannot be listed (missing, not a directory, no permission). */
export function entriesOrNone(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Whether something is at `path`, a dangling symbolic link included (never followed). */
export function existsNoFollow(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
