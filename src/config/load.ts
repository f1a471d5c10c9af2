// The layered configuration (CONTRACT §6), lowest first: built-in defaults < the Python tool's
// global files < global config.yaml < the repo's legacy .orchestrator.yaml < repo
// .orchestrator/config.yaml < ORCHESTRATOR_<KEY> < flags. Every value remembers where it came
// from. Reads only. A bad file, unknown key or wrong type is a warning naming file, line and key,
// never a crash: a broken config must not stop an agent mid-workflow.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import type { RepoPaths } from '../store/paths.ts';
import { CONFIG_KEYS, envName, KEY_BY_NAME } from './keys.ts';
import { parseFileEntries, type Entry } from './yaml-entries.ts';

export interface ConfigLayer {
  /** Where values came from: 'default', a file path, an environment variable, or 'flag'. */
  origin: string;
  kind: 'default' | 'legacy-global' | 'global' | 'legacy-repo' | 'repo' | 'env' | 'flag';
}

export interface ConfigValue {
  value: unknown;
  /** 'default', `file:line`, an environment variable's name, or 'flag'. */
  origin: string;
  layer: ConfigLayer['kind'];
}

export interface Config {
  values: Map<string, ConfigValue>;
  /** Workflow `settings:` overrides (`{{var}}` values), e.g. the Python tool's test_command. */
  settings: Map<string, ConfigValue>;
  warnings: string[];
  /** The `-c KEY=VALUE` values it was loaded with, to load it again after an edit. */
  flags: Record<string, unknown>;
  /** Files that were read, lowest precedence first. */
  files: { path: string; kind: ConfigLayer['kind'] }[];
  get<T = unknown>(key: string): T;
}

/** The global directory: $ORCHESTRATOR_HOME, else $XDG_CONFIG_HOME/orchestrator, else ~/.config/orchestrator. */
export function globalDir(env: NodeJS.ProcessEnv): string {
  if (env.ORCHESTRATOR_HOME) return env.ORCHESTRATOR_HOME;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'orchestrator');
  return join(env.HOME || homedir(), '.config', 'orchestrator');
}

/** Config files in precedence order, lowest first (existing or not). */
export function configFiles(paths: RepoPaths | null, env: NodeJS.ProcessEnv): { path: string; kind: ConfigLayer['kind'] }[] {
  const home = env.HOME || homedir();
  const global = join(globalDir(env), 'config.yaml');
  const files: { path: string; kind: ConfigLayer['kind'] }[] = [];
  for (const p of [join(home, '.orchestrator', 'config.yaml'), join(home, '.config', 'orchestrator', 'config.yaml')]) {
    if (p !== global) files.push({ path: p, kind: 'legacy-global' });
  }
  files.push({ path: global, kind: 'global' });
  if (paths) {
    files.push({ path: join(paths.root, '.orchestrator.yaml'), kind: 'legacy-repo' });
    files.push({ path: join(paths.container, 'config.yaml'), kind: 'repo' });
  }
  return files;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The Python tool's files hold workflow settings overrides at the top (test_command: ...), and so
 * does a config.yaml migrated from one: a repo config.yaml with no key of ours is read that way.
 */
export function holdsPythonSettings(entries: readonly Entry[]): boolean {
  const ours = (k: string) => k === 'settings' || k.startsWith('settings.') || KEY_BY_NAME.has(k);
  return entries.length > 0 && !entries.some((e) => ours(e.key));
}

export function loadConfig(paths: RepoPaths | null, env: NodeJS.ProcessEnv, flags: Record<string, unknown> = {}): Config {
  const values = new Map<string, ConfigValue>(CONFIG_KEYS.map((k) => [k.key, { value: k.default, origin: 'default', layer: 'default' }]));
  const settings = new Map<string, ConfigValue>();
  const warnings: string[] = [];
  const files: Config['files'] = [];
  for (const f of configFiles(paths, env)) {
    const text = readText(f.path);
    if (text === null) continue;
    files.push(f);
    const shown = paths && f.path.startsWith(paths.root + '/') ? paths.rel(f.path) : f.path;
    const parsed = parseFileEntries(text);
    if (parsed.error) {
      warnings.push(`${shown}:${parsed.error.line}: not valid YAML (${parsed.error.message}); its settings are ignored until it is fixed`);
      continue;
    }
    const pythonShape = f.kind === 'legacy-repo' || f.kind === 'legacy-global' || (f.kind === 'repo' && holdsPythonSettings(parsed.entries));
    for (const e of parsed.entries) {
      const asSetting = e.key.startsWith('settings.') ? e.key.slice('settings.'.length) : pythonShape && !KEY_BY_NAME.has(e.key) ? e.key : null;
      if (asSetting !== null) {
        if (e.value === null || typeof e.value !== 'object') settings.set(asSetting, { value: e.value, origin: `${shown}:${e.line}`, layer: f.kind });
        else warnings.push(`${shown}:${e.line}: setting ${asSetting} must be a single value (text, number or true/false); it is ignored`);
        continue;
      }
      const spec = KEY_BY_NAME.get(e.key);
      if (!spec) {
        warnings.push(`${shown}:${e.line}: unknown key "${e.key}"; it is ignored (orchestrator config show lists the keys)`);
        continue;
      }
      const ok = spec.schema.safeParse(e.value);
      if (!ok.success) {
        const kept = values.get(e.key)!;
        warnings.push(`${shown}:${e.line}: ${e.key} cannot be ${JSON.stringify(e.value)}, it takes ${spec.expect}; it stays ${JSON.stringify(kept.value)} (from ${kept.origin})`);
        continue;
      }
      values.set(e.key, { value: ok.data, origin: `${shown}:${e.line}`, layer: f.kind });
    }
  }
  for (const spec of CONFIG_KEYS) {
    for (const name of [envName(spec.key), ...(spec.envAliases ?? [])]) {
      const raw = env[name];
      if (raw === undefined) continue;
      const value = spec.parseRaw(raw);
      // A variable is set for this very run, like a flag: a wrong one is refused, not ignored.
      if (value === null) throw new UsageError(`${name}="${raw}" is not a valid ${spec.key} (${spec.description}); set it to ${spec.expect}`);
      values.set(spec.key, { value, origin: name, layer: 'env' });
      break;
    }
  }
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    if (key.startsWith('settings.')) settings.set(key.slice('settings.'.length), { value, origin: 'flag', layer: 'flag' });
    else values.set(key, { value, origin: 'flag', layer: 'flag' });
  }
  return {
    values,
    settings,
    warnings,
    flags,
    files,
    get: <T>(key: string) => values.get(key)?.value as T,
  };
}

/** `-c KEY=VALUE` flags (highest layer), checked like environment variables: wrong is exit 2. */
export function parseConfigFlags(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq) : '';
    const raw = pair.slice(eq + 1);
    if (/^settings\.[A-Za-z_][\w-]*$/.test(key)) {
      out[key] = raw;
      continue;
    }
    const spec = KEY_BY_NAME.get(key);
    if (!spec) throw new UsageError(`-c ${pair}: give KEY=VALUE with a known key (orchestrator config show --effective lists them)`);
    const value = spec.parseRaw(raw);
    if (value === null) throw new UsageError(`-c ${pair}: ${key} takes ${spec.expect}`);
    out[key] = value;
  }
  return out;
}
