// Our SessionStart hook in Claude Code's committed `<repo>/.claude/settings.json`. The file belongs
// to the user: every other key and hook is kept as it is, a file we cannot read safely is refused
// (never rewritten), and a change that changes nothing writes nothing.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { environmentErrorFrom, UsageError } from '../errors.ts';
import { writeFileAtomic } from '../store/atomic-file.ts';

/** Repo-relative, as users see it in messages. */
export const SETTINGS_FILE = '.claude/settings.json';
/** What marks a hook as ours, whatever CMD runs orchestrator. */
export const HOOK_SUFFIX = ' hooks session-start';
const MATCHER = 'startup|resume';

type Json = Record<string, unknown>;

interface Settings {
  path: string;
  exists: boolean;
  /** The parsed file ({} when there is none). */
  root: Json;
  /** `hooks.SessionStart` as found (empty when absent). */
  groups: unknown[];
}

export interface HookStatus {
  file: string;
  exists: boolean;
  installed: boolean;
  /** Our hook's full command line, or null. */
  command: string | null;
}

export interface InstallResult extends HookStatus {
  changed: boolean;
  /** The command line of our hook that this install replaced, if it differed. */
  replaced: string | null;
}

export interface UninstallResult {
  file: string;
  changed: boolean;
  /** Command lines of the hooks removed. */
  removed: string[];
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const isOurs = (hook: unknown): hook is { command: string } =>
  isObject(hook) && typeof hook.command === 'string' && hook.command.endsWith(HOOK_SUFFIX);

function refuse(problem: string): never {
  throw new UsageError(`${SETTINGS_FILE}: ${problem}; fix it by hand (or move it away), then run the hooks command again`, { path: SETTINGS_FILE });
}

function readSettings(root: string): Settings {
  const path = join(root, SETTINGS_FILE);
  if (!existsSync(path)) return { path, exists: false, root: {}, groups: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw environmentErrorFrom(err, path);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    refuse(`not valid JSON (${(err as Error).message.replace(/\s+/g, ' ')})`);
  }
  if (!isObject(parsed)) refuse('the top level is not a JSON object');
  const hooks = parsed.hooks;
  if (hooks !== undefined && !isObject(hooks)) refuse('"hooks" is not an object');
  const groups = hooks?.SessionStart;
  if (groups !== undefined && !Array.isArray(groups)) refuse('"hooks.SessionStart" is not an array');
  return { path, exists: true, root: parsed, groups: groups ?? [] };
}

/** Every command line of our hooks, in file order. */
function ourCommands(groups: unknown[]): string[] {
  return groups.flatMap((g) => (isObject(g) && Array.isArray(g.hooks) ? g.hooks.filter(isOurs).map((h) => h.command) : []));
}

/**
 * `groups` without our hooks. A group that held only ours becomes `replacement` once (so a new
 * command keeps the old one's place), else disappears; a group shared with other hooks keeps those.
 */
function withoutOurs(groups: unknown[], replacement?: Json): unknown[] {
  const out: unknown[] = [];
  let placed = replacement === undefined;
  for (const g of groups) {
    if (!isObject(g) || !Array.isArray(g.hooks) || !g.hooks.some(isOurs)) {
      out.push(g);
      continue;
    }
    const others = g.hooks.filter((h) => !isOurs(h));
    if (others.length) out.push({ ...g, hooks: others });
    else if (!placed) {
      out.push(replacement);
      placed = true;
    }
  }
  if (!placed) out.push(replacement);
  return out;
}

/** The settings with `hooks.SessionStart` set to `groups`, dropping a SessionStart or hooks left empty. */
function withGroups(s: Settings, groups: unknown[]): Json {
  const hooks: Json = { ...(isObject(s.root.hooks) ? s.root.hooks : {}) };
  if (groups.length) hooks.SessionStart = groups;
  else delete hooks.SessionStart;
  const next: Json = { ...s.root, hooks };
  if (!Object.keys(hooks).length) delete next.hooks;
  return next;
}

/** Writes only when the meaning changed: an install that is already there changes no byte. */
function save(s: Settings, next: Json): boolean {
  if (s.exists && JSON.stringify(next) === JSON.stringify(s.root)) return false;
  writeFileAtomic(s.path, JSON.stringify(next, null, 2) + '\n', { mode: 0o644 });
  return true;
}

export function hookStatus(root: string): HookStatus {
  const s = readSettings(root);
  const command = ourCommands(s.groups)[0] ?? null;
  return { file: SETTINGS_FILE, exists: s.exists, installed: command !== null, command };
}

/** Adds (or replaces) our hook: `<cmd> hooks session-start` on startup and resume. */
export function installHook(root: string, cmd: string): InstallResult {
  const s = readSettings(root);
  const command = cmd + HOOK_SUFFIX;
  const entry = { matcher: MATCHER, hooks: [{ type: 'command', command }] };
  const changed = save(s, withGroups(s, withoutOurs(s.groups, entry)));
  const replaced = ourCommands(s.groups).find((c) => c !== command) ?? null;
  return { file: SETTINGS_FILE, exists: true, installed: true, command, changed, replaced };
}

/** Removes our hooks only; no file, or no hook of ours, is nothing to do. */
export function uninstallHook(root: string): UninstallResult {
  const s = readSettings(root);
  const removed = ourCommands(s.groups);
  const changed = removed.length > 0 && save(s, withGroups(s, withoutOurs(s.groups)));
  return { file: SETTINGS_FILE, changed, removed };
}

/**
 * How the hook runs orchestrator when --command is not given: node on this very bundle when it is
 * committed inside the repo (through $CLAUDE_PROJECT_DIR, so any checkout works), else bootstrap.sh
 * from ORCHESTRATOR_BASE_URL, else `orchestrator` on the PATH.
 */
export function defaultCommand(root: string, bundle: string | undefined, env: NodeJS.ProcessEnv): string {
  const rel = bundle ? pathInside(root, bundle) : null;
  if (rel !== null) return `node "$CLAUDE_PROJECT_DIR/${rel.replace(/["$`\\]/g, '\\$&')}"`;
  const base = env.ORCHESTRATOR_BASE_URL;
  if (base) return `curl -fsSL ${shellWord(`${base}/bootstrap.sh`)} | ORCHESTRATOR_BASE_URL=${shellWord(base)} sh -s --`;
  return 'orchestrator';
}

/** `file`'s path relative to `root` (symlinks resolved on both sides), or null when it lies outside. */
function pathInside(root: string, file: string): string | null {
  try {
    const rel = relative(realpathSync(root), realpathSync(file));
    return rel && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel) ? rel.split(sep).join('/') : null;
  } catch {
    return null;
  }
}

function shellWord(s: string): string {
  return /^[\w/:.,@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
