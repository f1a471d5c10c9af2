// Where a template comes from: `init --template SRC`. Resolution only: nothing is read or fetched.
//
// SRC is one of
//   a git URL   http(s)://AUTHORITY/PATH[#REF][:SUBDIR]
//               AUTHORITY runs to the first "/" after "://" and may hold user:token@ and :port.
//               PATH runs to the first "#" or ":" after it, so a repository path holding either is
//               not supported. REF (a branch or tag) runs from "#" to the next ":" (git ref names
//               cannot contain ":"). SUBDIR is everything after that ":": the template's folder
//               inside the repository. #REF comes before :SUBDIR.
//   a folder    anything with a "/" in it, or starting with "." or "~": a path (relative to the
//               working directory; "~/" is $HOME)
//   a name      anything else: the folder <global dir>/templates/<name>
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { globalDir } from '../config/load.ts';
import { maskUrl } from '../env/facts.ts';
import { UsageError } from '../errors.ts';

export type TemplateSource =
  | { kind: 'folder' | 'global'; dir: string; shown: string }
  | { kind: 'git'; url: string; ref: string | null; subdir: string | null; shown: string };

export interface GitTemplateUrl {
  /** The repository URL, credentials included (never shown: see `shown`). */
  url: string;
  ref: string | null;
  subdir: string | null;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const REF = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!\/)(?!.*\/$)(?!.*\.lock$)[A-Za-z0-9._/+@-]+$/;

export function resolveTemplateSource(src: string, cwd: string, env: NodeJS.ProcessEnv): TemplateSource {
  const shownSrc = maskUrl(src);
  if (!src.trim()) throw new UsageError('--template needs a folder, a template name or an https git URL; see: orchestrator init --help');
  if (/^https?:\/\//i.test(src)) {
    const git = parseGitTemplateUrl(src);
    return { kind: 'git', ...git, shown: shownSrc };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(src) || /^[^/\s]+@[^/\s]+:/.test(src)) {
    throw new UsageError(`--template ${shownSrc}: only http(s) git URLs are supported (e.g. https://host/org/repo.git#v1:templates/python); for a local clone give its folder`);
  }
  if (src.includes('/') || src.startsWith('.') || src.startsWith('~') || isAbsolute(src)) {
    const dir = src === '~' || src.startsWith('~/') ? join(env.HOME || homedir(), src.slice(1)) : resolve(cwd, src);
    return { kind: 'folder', dir, shown: src };
  }
  if (!NAME.test(src)) {
    throw new UsageError(`--template ${src}: not a template name (letters, digits, . _ -); for a folder write ./${src}`);
  }
  return { kind: 'global', dir: join(globalDir(env), 'templates', src), shown: src };
}

/** Splits `http(s)://AUTHORITY/PATH[#REF][:SUBDIR]` (grammar at the top of this file). */
export function parseGitTemplateUrl(src: string): GitTemplateUrl {
  const shown = maskUrl(src);
  const fail = (why: string) => new UsageError(`--template ${shown}: ${why}; the form is https://host/org/repo.git[#REF][:SUBDIR]`);
  const schemeEnd = src.indexOf('://') + 3;
  const pathStart = src.indexOf('/', schemeEnd);
  if (pathStart < 0 || pathStart === schemeEnd) throw fail('no repository path after the host');
  const rest = src.slice(pathStart);
  const pathEnd = rest.search(/[#:]/);
  const path = pathEnd < 0 ? rest : rest.slice(0, pathEnd);
  if (path === '/' || path === '') throw fail('no repository path after the host');
  let ref: string | null = null;
  let subdir: string | null = null;
  if (pathEnd >= 0) {
    let tail = rest.slice(pathEnd);
    if (tail.startsWith('#')) {
      const colon = tail.indexOf(':');
      ref = colon < 0 ? tail.slice(1) : tail.slice(1, colon);
      tail = colon < 0 ? '' : tail.slice(colon);
      if (!ref) throw fail('empty #REF');
      if (!REF.test(ref)) throw fail(`"${ref}" is not a branch or tag name`);
    }
    if (tail) {
      subdir = tail.slice(1);
      if (!subdir) throw fail('empty :SUBDIR');
      if (subdir.includes('#')) throw fail('#REF goes before :SUBDIR');
      subdir = normalizeSubdir(subdir, fail);
    }
  }
  return { url: src.slice(0, pathStart) + path, ref, subdir };
}

function normalizeSubdir(subdir: string, fail: (why: string) => Error): string | null {
  if (subdir.startsWith('/') || subdir.includes('\\')) throw fail(`:SUBDIR ${subdir} must be a relative folder with / separators`);
  const parts = subdir.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw fail(`:SUBDIR ${subdir} leaves the repository`);
  if (parts.some((p) => p.toLowerCase() === '.git')) throw fail(`:SUBDIR ${subdir} points into .git`);
  return parts.length ? parts.join('/') : null;
}
