// `secrets get|set|unset|list|sources|export`: secrets for the agent's tools, from the environment,
// the repo's encrypted store, the Python tool's `.secrets.enc`, the user's global store, or git's
// credential helpers. Only `get` and `export` ever print a value; every other output, notice and
// error names secrets and files, never what they hold.
import { existsSync } from 'node:fs';
import { bool, str } from '../cli/args.ts';
import { readAllStdin, readHiddenLine, stdinIsTerminal } from '../cli/prompt.ts';
import { SecretNotFoundError, UsageError } from '../errors.ts';
import { credentialHost, isGitTokenName } from '../secrets/credential.ts';
import { exportLine, type ExportFormat } from '../secrets/export-format.ts';
import { envNames, isValidSecretName, SecretSources, type Inventory } from '../secrets/sources.ts';
import { globalStore, readStore, repoStore, updateStore, type StoreFile, type StoreUpdate } from '../secrets/store-file.ts';
import { Unlocker } from '../secrets/unlock.ts';
import { underGlobalLock } from '../store/global-lock.ts';
import { ensureContainer } from '../store/repo-meta.ts';
import { lockTimeoutMs, underRepoLock } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';

/** Sources for a command; `ask`: a passphrase may be prompted for (only where a human can answer). */
function sourcesFor(input: CommandInput, ask: boolean): SecretSources {
  return new SecretSources(input.ctx.paths, input.ctx.env, unlockerFor(input, ask));
}

function unlockerFor(input: CommandInput, ask: boolean): Unlocker {
  return new Unlocker(input.ctx.env, ask && input.interactive() ? readHiddenLine : null);
}

/** A name from the command line. An invalid one is not echoed: it may be a value typed in the wrong place. */
function secretName(raw: string | undefined): string {
  if (raw === undefined || !isValidSecretName(raw)) {
    throw new UsageError('a secret name is letters, digits and _ (not starting with a digit, at most 128 characters), like OPENAI_API_KEY; the name given is not one');
  }
  return raw;
}

/** Where a lookup went: the environment, the files that exist, git's helpers for a token. */
function whereNotFound(s: SecretSources, name: string, root: string): string {
  const files = [s.repo, ...s.legacy, s.global].filter((f) => existsSync(f.path)).map((f) => f.shown);
  const git = isGitTokenName(name) ? `, git credential fill for ${credentialHost(name, root)}` : '';
  return `environment ${envNames(name).join(' or ')}, ${files.length ? files.join(', ') : 'no secrets file'}${git}`;
}

export async function get(input: CommandInput): Promise<CommandResult> {
  const name = secretName(input.args.positionals[0]);
  const s = sourcesFor(input, true);
  const found = await s.get(name, { gitCredential: true });
  if (!found) {
    throw new SecretNotFoundError(`${name} is not set (looked in: ${whereNotFound(s, name, input.ctx.paths.root)}); set ${name} in the environment, or store it with: orchestrator secrets set ${name}`, {
      name,
    });
  }
  return { data: { ok: true, name, source: found.source, from: found.from }, text: found.value };
}

function storeFor(input: CommandInput): { file: StoreFile; how: StoreUpdate } {
  const { ctx } = input;
  if (bool(input.args, 'global')) {
    return { file: globalStore(ctx.env), how: { locked: (fn) => underGlobalLock(ctx.env, ctx.command, fn, lockTimeoutMs(ctx) / 1000) } };
  }
  return { file: repoStore(ctx.paths), how: { locked: (fn) => underRepoLock(ctx, fn), prepare: () => ensureContainer(ctx.paths, ctx.now()) } };
}

/** The value to store: typed without echo on a terminal, else all of stdin minus one final line break. */
async function readValue(input: CommandInput, name: string): Promise<string> {
  const pipeHint = `pipe it in: printf '%s' "$VALUE" | orchestrator secrets set ${name} (never on the command line, where ps shows it)`;
  let value: string;
  if (input.interactive()) value = await readHiddenLine(`Value for ${name}: `);
  else if (stdinIsTerminal()) throw new UsageError(`CI is set, so orchestrator does not prompt; ${pipeHint}`);
  else value = readAllStdin().replace(/\r?\n$/, '');
  if (value === '') throw new UsageError(`no value for ${name}; ${pipeHint}`);
  if (value.includes('\0')) throw new UsageError(`the value for ${name} contains a NUL byte, which no environment variable can hold; nothing was changed`);
  return value;
}

export async function set(input: CommandInput): Promise<CommandResult> {
  const name = secretName(input.args.positionals[0]);
  const value = await readValue(input, name);
  const { file, how } = storeFor(input);
  const count = await updateStore(file, unlockerFor(input, true), how, (secrets) => secrets.set(name, value));
  const notices: string[] = [];
  const env = sourcesFor(input, false).fromEnv(name);
  if (env) notices.push(`${name} is also set in the environment (${env.from}), which wins over the store`);
  if (file.scope === 'global') {
    const repo = readStore(repoStore(input.ctx.paths));
    if (repo?.envelope.names.includes(name)) notices.push(`${name} is also in ${repoStore(input.ctx.paths).shown}, which wins over the global store in this repo`);
  }
  return { data: { ok: true, name, file: file.shown, secrets: count }, text: `Stored ${name} in ${file.shown} (${count} secret${count === 1 ? '' : 's'}).`, notices };
}

export async function unset(input: CommandInput): Promise<CommandResult> {
  const name = secretName(input.args.positionals[0]);
  const { file, how } = storeFor(input);
  const missing = () => new SecretNotFoundError(`${name} is not in ${file.shown}; nothing to remove (orchestrator secrets sources shows where each secret is)`, { name });
  if (!readStore(file)?.envelope.names.includes(name)) throw missing();
  const count = await updateStore(file, unlockerFor(input, true), how, (secrets) => {
    if (!secrets.delete(name)) throw missing();
  });
  return { data: { ok: true, name, file: file.shown, secrets: count }, text: `Removed ${name} from ${file.shown} (${count} secret${count === 1 ? '' : 's'} left).` };
}

function unreadable(inv: Inventory[]): string[] {
  return inv.filter((i) => i.problem).map((i) => `${i.file} was not read: ${i.problem!.message}`);
}

export async function list(input: CommandInput): Promise<CommandResult> {
  const inv = await sourcesFor(input, false).inventory();
  const names = [...new Set(inv.flatMap((i) => i.names ?? []))].sort();
  const notices = unreadable(inv);
  if (!names.length && !notices.length) notices.push('no secrets stored; add one with: orchestrator secrets set KEY');
  return { data: { ok: true, names, stores: inv }, text: names.join('\n'), notices };
}

export async function sources(input: CommandInput): Promise<CommandResult> {
  const asked = input.args.positionals.map(secretName);
  const s = sourcesFor(input, false);
  const inv = await s.inventory();
  const names = asked.length ? asked : [...new Set(inv.flatMap((i) => i.names ?? []))].sort();
  // git credential fill only for names asked about: a helper may be slow, or a keychain may ask the user.
  const keys = s.serving(names, inv, { gitCredential: asked.length > 0 });
  const width = Math.max(0, ...keys.map((k) => k.name.length)) + 9;
  const lines = keys.map((k) => {
    const extra = [k.shadows.length ? `also in ${k.shadows.join(', ')}` : '', k.unknown.length ? `unless ${k.unknown.join(', ')} (not readable) holds it` : '']
      .filter(Boolean)
      .join('; ');
    const shown = k.source ? `${k.name}=********` : k.name;
    return `${shown.padEnd(width)}  ${k.source ? `${k.source} (${k.from})` : 'not set'}${extra ? `; ${extra}` : ''}`;
  });
  const notices = unreadable(inv);
  if (!keys.length) notices.push('no secrets stored; add one with: orchestrator secrets set KEY');
  return { data: { ok: true, keys, stores: inv }, text: lines.join('\n'), notices };
}

export async function exportSecrets(input: CommandInput): Promise<CommandResult> {
  const format = (str(input.args, 'format') ?? 'env') as ExportFormat;
  if (format !== 'env' && format !== 'dotenv') throw new UsageError(`--format ${format}: use env (export KEY='value' lines for eval or $CLAUDE_ENV_FILE) or dotenv`);
  const asked = input.args.positionals.map(secretName);
  const s = sourcesFor(input, true);
  const names = asked.length ? asked : await s.allNames();
  const lines: string[] = [];
  for (const name of names) {
    const found = await s.get(name, { gitCredential: asked.length > 0 });
    if (!found) throw new SecretNotFoundError(`${name} is not set (looked in: ${whereNotFound(s, name, input.ctx.paths.root)}); store it with: orchestrator secrets set ${name}`, { name });
    lines.push(exportLine(format, name, found.value));
  }
  return {
    data: { ok: true, names },
    text: lines.length ? lines.join('\n') + '\n' : '',
    notices: lines.length ? [] : ['no secrets to export; add one with: orchestrator secrets set KEY'],
  };
}
