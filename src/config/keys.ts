// Every configuration key the tool knows: its type, default and a one-line description. The zod
// schema checks values from files; `parseRaw` reads the strings of environment variables.
import * as z from 'zod/mini';

export interface KeySpec {
  key: string;
  schema: z.ZodMiniType;
  /** How a string (environment variable) becomes a value; null when it does not fit. */
  parseRaw: (raw: string) => unknown;
  default: unknown;
  description: string;
  /** What a valid value looks like, for messages: "a number of seconds, e.g. 30". */
  expect: string;
  /** Older environment variable names still honoured, after the ORCHESTRATOR_<KEY> one. */
  envAliases?: string[];
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

function boolKey(key: string, def: boolean, description: string, envAliases?: string[]): KeySpec {
  return {
    key,
    schema: z.boolean(),
    parseRaw: (raw) => (TRUE.has(raw.toLowerCase()) ? true : FALSE.has(raw.toLowerCase()) ? false : null),
    default: def,
    description,
    expect: 'true or false',
    ...(envAliases ? { envAliases } : {}),
  };
}

function stringKey(key: string, def: string, description: string): KeySpec {
  return { key, schema: z.string(), parseRaw: (raw) => raw, default: def, description, expect: 'text' };
}

function enumKey(key: string, values: [string, ...string[]], def: string, description: string): KeySpec {
  return { key, schema: z.enum(values), parseRaw: (raw) => (values.includes(raw) ? raw : null), default: def, description, expect: values.join(' or ') };
}

function secondsKey(key: string, def: number, description: string): KeySpec {
  return {
    key,
    schema: z.number().check(z.nonnegative()),
    parseRaw: (raw) => {
      const n = Number(raw);
      return raw.trim() !== '' && Number.isFinite(n) && n >= 0 ? n : null;
    },
    default: def,
    description,
    expect: `a number of seconds, e.g. ${def}`,
  };
}

/** A map of names to paths; from the environment as `name=path,name2=path2`. */
function pathMapKey(key: string, description: string): KeySpec {
  return {
    key,
    schema: z.record(z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/)), z.string().check(z.minLength(1))),
    parseRaw: (raw) => {
      const map: Record<string, string> = {};
      for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
        const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*)=(.+)$/.exec(part);
        if (!m) return null;
        map[m[1]!] = m[2]!.trim();
      }
      return map;
    },
    default: {},
    description,
    expect: 'a map of names to paths (NAME: PATH lines; in the environment NAME=PATH,NAME2=PATH2)',
  };
}

export const CONFIG_KEYS: readonly KeySpec[] = [
  enumKey('layout', ['contained', 'legacy'], 'contained', "where state lives: contained (.orchestrator/) or legacy (the Python tool's files, in place)"),
  boolKey('migrate.auto', false, 'migrate legacy files automatically before a command that writes', ['ORCHESTRATOR_AUTO_MIGRATE']),
  secondsKey('lock.timeout', 30, 'seconds to wait for the repo lock before giving up (exit 3)'),
  stringKey('state.branch', 'orchestrator-state', 'branch the persisted .orchestrator/ is committed to'),
  stringKey('state.remote', '', 'URL to push the state branch to, when not the repo\'s own origin'),
  boolKey('state.auto_save', false, 'save to the state branch after every successful command that writes (always on in ephemeral environments)'),
  boolKey('state.auto_push', false, 'push the state branch after each automatic save (bounded to a few seconds, never fatal)'),
  stringKey('state.author_name', 'orchestrator', 'author and committer name of state commits'),
  stringKey('state.author_email', 'orchestrator@users.noreply.github.com', 'author and committer e-mail of state commits (a noreply address by default)'),
  pathMapKey('repos.aliases', 'names for other repos that workflow items may name in repo: (relative paths are from this repo\'s root)'),
];

export const KEY_BY_NAME: ReadonlyMap<string, KeySpec> = new Map(CONFIG_KEYS.map((k) => [k.key, k]));

/** `state.auto_save` -> `ORCHESTRATOR_STATE_AUTO_SAVE` (CONTRACT §6). */
export function envName(key: string): string {
  return 'ORCHESTRATOR_' + key.toUpperCase().replace(/\./g, '_');
}
