// A small, strict argument parser: every command declares its flags; anything else is a usage
// error naming the flag and where to look, never silently ignored.
import { UsageError } from '../errors.ts';

export interface FlagSpec {
  type: 'boolean' | 'string';
  short?: string;
  /** Placeholder in help, e.g. TEXT. */
  value?: string;
  help: string;
  /** A string flag that may be given more than once; its values are kept in order. */
  repeatable?: boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface Parsed {
  flags: Record<string, string | string[] | boolean | undefined>;
  positionals: string[];
}

/** Flags every command takes. */
export const GLOBAL_FLAGS: FlagSpecs = {
  root: { type: 'string', value: 'DIR', help: 'repository root (default: walk up to .git or workflow.yaml; env ORCHESTRATOR_ROOT)' },
  session: { type: 'string', value: 'ID', help: 'session to act on (default: env ORCHESTRATOR_SESSION, else .orchestrator/current)' },
  config: { type: 'string', short: 'c', value: 'KEY=VALUE', repeatable: true, help: 'a config value for this run only, above every other layer (repeatable)' },
  help: { type: 'boolean', short: 'h', help: 'show help for this command' },
  'no-color': { type: 'boolean', help: 'no colour (also NO_COLOR=1)' },
};

export function parseArgs(argv: readonly string[], specs: FlagSpecs, commandName: string): Parsed {
  const all: FlagSpecs = { ...GLOBAL_FLAGS, ...specs };
  const byShort = new Map<string, string>();
  for (const [name, s] of Object.entries(all)) if (s.short) byShort.set(s.short, name);
  const flags: Parsed['flags'] = {};
  const positionals: string[] = [];
  const seeHelp = `see: orchestrator ${commandName} --help`.replace(/\s+--help$/, ' --help');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      if (!(name in all)) throw new UsageError(`unknown flag --${name} for "orchestrator ${commandName}"; ${seeHelp}`);
    } else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      const s = arg.slice(1, 2);
      name = byShort.get(s);
      if (!name) throw new UsageError(`unknown flag -${s} for "orchestrator ${commandName}"; ${seeHelp}`);
      inline = arg.length > 2 ? arg.slice(2) : undefined;
    } else {
      positionals.push(arg);
      continue;
    }
    const spec = all[name]!;
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`flag --${name} takes no value; ${seeHelp}`);
      flags[name] = true;
    } else {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`flag --${name} needs a value (${spec.value ?? 'VALUE'}); ${seeHelp}`);
      if (spec.repeatable) flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
      else flags[name] = value;
    }
  }
  return { flags, positionals };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === 'string' ? v : undefined;
}

/** Every value of a repeatable flag, in the order given. */
export function strs(p: Parsed, name: string): string[] {
  const v = p.flags[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function bool(p: Parsed, name: string): boolean {
  return p.flags[name] === true;
}
