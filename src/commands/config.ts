// `config get|set|unset|show`: the layered configuration (CONTRACT §6) with the origin of every
// value, and edits of one file: the repo's .orchestrator/config.yaml, or with --global the global
// config.yaml. Higher layers (ORCHESTRATOR_<KEY>, flags) are never written, only reported.
import { join } from 'node:path';
import { bool } from '../cli/args.ts';
import { setKey, unsetKey, type EditResult } from '../config/edit.ts';
import { CONFIG_KEYS, KEY_BY_NAME, type KeySpec } from '../config/keys.ts';
import { globalDir, holdsPythonSettings, loadConfig, type Config, type ConfigValue } from '../config/load.ts';
import { parseFileEntries } from '../config/yaml-entries.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { writeFileAtomic } from '../store/atomic-file.ts';
import { readTextIfExists } from '../store/file-reads.ts';
import { underGlobalLock } from '../store/global-lock.ts';
import { ensureContainer } from '../store/repo-meta.ts';
import { lockTimeoutMs, underRepoLock, type RepoContext } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';

/**
 * A key of the schema; `settings.NAME` (a workflow `{{NAME}}` override); or one member of a map
 * key (`repos.aliases.NAME`), which edits that entry of the map only.
 */
type Key =
  | { name: string; spec: KeySpec; setting?: undefined; member?: string }
  | { name: string; spec?: undefined; setting: string; member?: undefined };

const MEMBER = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function parseKey(name: string): Key {
  const spec = KEY_BY_NAME.get(name);
  if (spec) return { name, spec };
  const map = CONFIG_KEYS.find((k) => isMapKey(k) && name.startsWith(k.key + '.'));
  if (map && MEMBER.test(name.slice(map.key.length + 1))) return { name, spec: map, member: name.slice(map.key.length + 1) };
  const setting = name.startsWith('settings.') ? name.slice('settings.'.length) : '';
  if (/^[A-Za-z_][\w-]*$/.test(setting)) return { name, setting };
  throw new UsageError(
    `unknown config key "${name}"; the keys are ${CONFIG_KEYS.map((k) => k.key + (isMapKey(k) ? '[.NAME]' : '')).join(', ')} and settings.NAME (orchestrator config show --effective lists them)`,
  );
}

const isMapKey = (k: KeySpec) => typeof k.default === 'object' && k.default !== null;

function current(config: Config, key: Key): ConfigValue | undefined {
  if (!key.spec) return config.settings.get(key.setting);
  const v = config.values.get(key.spec.key);
  if (key.member === undefined || !v) return v;
  const member = (v.value as Record<string, unknown>)[key.member];
  return member === undefined ? undefined : { ...v, value: member };
}

const shownValue = (v: unknown) => (typeof v === 'string' && v !== '' ? v : JSON.stringify(v));

function config(ctx: RepoContext): Config {
  return ctx.config ?? loadConfig(ctx.paths, ctx.env);
}

/** After an edit: the files again, with the same `-c` flags. */
function reloaded(ctx: RepoContext): Config {
  return loadConfig(ctx.paths, ctx.env, ctx.config?.flags);
}

export function get({ args, ctx }: CommandInput): CommandResult {
  const key = parseKey(args.positionals[0]!);
  const v = current(config(ctx), key);
  if (!v) {
    return {
      exitCode: ExitCode.checkFailed,
      data: { ok: false, key: key.name, value: null, origin: null, layer: null },
      text: '',
      notices: [`${key.name} is not set in any layer (orchestrator config set ${key.name} VALUE sets it)`],
    };
  }
  return {
    data: { ok: true, key: key.name, value: v.value, origin: v.origin, layer: v.layer },
    text: bool(args, 'origin') ? `${shownValue(v.value)}\t(${v.origin})` : shownValue(v.value),
  };
}

/** The file `set` and `unset` edit, and how to show it. */
function target(ctx: RepoContext, global: boolean): { path: string; shown: string } {
  if (global) {
    const path = join(globalDir(ctx.env), 'config.yaml');
    return { path, shown: path };
  }
  return { path: ctx.paths.config, shown: ctx.paths.rel(ctx.paths.config) };
}

/** Read, edit and write one file under the lock that guards it; nothing is written when nothing changes. */
function editFile(ctx: RepoContext, global: boolean, edit: (text: string, shown: string, pythonShaped: boolean) => EditResult): EditResult & { shown: string } {
  const file = target(ctx, global);
  const apply = () => {
    const text = readTextIfExists(file.path, file.shown) ?? '';
    const pythonShaped = !global && holdsPythonSettings(parseFileEntries(text).entries);
    const result = edit(text, file.shown, pythonShaped);
    if (result.changed) {
      if (!global) ensureContainer(ctx.paths, ctx.now());
      writeFileAtomic(file.path, result.text);
    }
    return { ...result, shown: file.shown };
  };
  return global ? underGlobalLock(ctx.env, ctx.command, apply, lockTimeoutMs(ctx) / 1000) : underRepoLock(ctx, apply);
}

/** When a higher layer (an environment variable, usually) hides what was just written, say so. */
function overriddenNotice(ctx: RepoContext, key: Key, shown: string): string[] {
  const after = current(reloaded(ctx), key);
  if (!after || after.origin.startsWith(shown + ':') || after.origin === 'default') return [];
  return [`${key.name} is ${shownValue(after.value)} all the same: ${after.origin} overrides ${shown}`];
}

export function set({ args, ctx }: CommandInput): CommandResult {
  const [name, raw] = args.positionals as [string, string];
  const key = parseKey(name);
  const global = bool(args, 'global');
  let value: unknown = raw;
  if (key.member !== undefined) {
    if (!raw.trim()) throw new UsageError(`${key.name} cannot be empty; give a path`);
  } else if (key.spec) {
    value = key.spec.parseRaw(raw);
    if (value === null) throw new UsageError(`${key.name} cannot be ${JSON.stringify(raw)}: it takes ${key.spec.expect} (${key.spec.description})`);
  }
  const r = editFile(ctx, global, (text, shown, pythonShaped) => setKey(text, shown, key.name, value, pythonShaped));
  const notices = overriddenNotice(ctx, key, r.shown);
  if (r.nested) notices.unshift(`${r.shown}: moved the Python tool's settings under settings: so they keep their meaning next to ${key.name}`);
  return {
    data: { ok: true, key: key.name, value, file: r.shown, changed: r.changed },
    text: `${key.name} = ${shownValue(value)}  (${r.shown}${r.changed ? '' : ', unchanged'})`,
    notices,
  };
}

export function unset({ args, ctx }: CommandInput): CommandResult {
  const key = parseKey(args.positionals[0]!);
  const global = bool(args, 'global');
  const r = editFile(ctx, global, (text, shown) => unsetKey(text, shown, key.name));
  const after = current(reloaded(ctx), key);
  const now = after ? `${shownValue(after.value)} (from ${after.origin})` : 'not set';
  return {
    data: { ok: true, key: key.name, file: r.shown, changed: r.changed, value: after?.value ?? null, origin: after?.origin ?? null },
    text: r.changed ? `${key.name} removed from ${r.shown}; it is now ${now}` : `${key.name} was not set in ${r.shown}; it is ${now}`,
  };
}

interface Row {
  key: string;
  value: unknown;
  origin: string;
  layer: ConfigValue['layer'];
  default: unknown;
  description: string;
}

export function show({ args, ctx }: CommandInput): CommandResult {
  const c = config(ctx);
  const effective = bool(args, 'effective');
  const global = bool(args, 'global');
  const all: Row[] = [
    ...CONFIG_KEYS.map((spec) => ({ key: spec.key, ...c.values.get(spec.key)!, default: spec.default, description: spec.description })),
    ...[...c.settings].map(([name, v]) => ({ key: `settings.${name}`, ...v, default: null, description: 'a workflow {{var}} value' })),
  ];
  // Without --effective: what some layer sets. --global: what the global file sets (what --global edits).
  const rows = all.filter((r) => (global ? r.layer === 'global' : effective || r.layer !== 'default'));
  const files = c.files.map((f) => ({ path: ctx.paths.rel(f.path), layer: f.kind }));
  const withOrigin = bool(args, 'origin');
  const width = Math.max(3, ...rows.map((r) => r.key.length));
  const valueWidth = Math.max(5, ...rows.map((r) => shownValue(r.value).length));
  const lines = rows.length
    ? rows.map((r) => `${r.key.padEnd(width)}  ${withOrigin ? `${shownValue(r.value).padEnd(valueWidth)}  ${r.origin}` : shownValue(r.value)}`)
    : [global ? `${target(ctx, true).shown} sets nothing` : 'every key has its default (config show --effective lists them)'];
  if (withOrigin && files.length) lines.push('', `files read (lowest first): ${files.map((f) => f.path).join(', ')}`);
  return { data: { ok: true, keys: rows, files, warnings: c.warnings }, text: lines.join('\n') };
}
