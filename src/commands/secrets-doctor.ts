// `secrets doctor`: every secrets source, whether it can be opened, and whether anything exposes it
// (file modes, git). Opens files only with a passphrase from the environment; never prompts,
// never writes, never prints a value.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OrchestratorError } from '../errors.ts';
import { GIT_TOKEN_NAMES } from '../secrets/credential.ts';
import { gitExposure, gitInstalled, looseMode } from '../secrets/health.ts';
import { SecretSources } from '../secrets/sources.ts';
import { readStore, type StoreFile } from '../secrets/store-file.ts';
import { LEGACY_PASSPHRASE_VAR, PASSPHRASE_VAR, Unlocker } from '../secrets/unlock.ts';
import type { Finding } from './doctor.ts';
import type { CommandInput, CommandResult } from './types.ts';

export async function run({ ctx }: CommandInput): Promise<CommandResult> {
  const out: Finding[] = [];
  const add = (level: Finding['level'], subject: string, message: string) => {
    if (!out.some((f) => f.subject === subject && f.message === message)) out.push({ level, subject, message });
  };
  const unlocker = new Unlocker(ctx.env, null);
  const s = new SecretSources(ctx.paths, ctx.env, unlocker);
  const legacyVars = [PASSPHRASE_VAR, LEGACY_PASSPHRASE_VAR].filter((v) => ctx.env[v]);

  if (ctx.env[PASSPHRASE_VAR]) add('ok', PASSPHRASE_VAR, 'set: the stores below are opened to check it');
  else add('note', PASSPHRASE_VAR, 'not set: get, set and export ask for the passphrase on a terminal and exit 2 elsewhere; stores are checked without opening them');

  const checkStore = async (file: StoreFile) => {
    try {
      const loaded = readStore(file);
      if (!loaded) return add('note', file.shown, `none yet (orchestrator secrets set KEY${file.scope === 'global' ? ' --global' : ''} creates it)`);
      checkModes(file.path, file.shown, add);
      if (!unlocker.hasPassphrase) return add('ok', file.shown, `${count(loaded.envelope.names.length)}; not opened (no passphrase)`);
      const n = await s.verifyStore(file);
      add('ok', file.shown, `${count(n)}; ${PASSPHRASE_VAR} opens it`);
    } catch (err) {
      add('problem', file.shown, messageOf(err));
    }
  };

  await checkStore(s.repo);
  const exposure = existsSync(s.repo.path) ? gitExposure(ctx.paths.root, ctx.paths.rel(dirname(s.repo.path))) : null;
  if (exposure?.tracked) add('problem', ctx.paths.rel(dirname(s.repo.path)), 'tracked by git, so a commit would carry it; run: git rm -r --cached .orchestrator/secrets');
  else if (exposure && !exposure.ignored) add('problem', ctx.paths.rel(dirname(s.repo.path)), 'not ignored by git; restore .orchestrator/.gitignore (orchestrator init writes it)');

  const inventory = legacyVars.length ? await s.inventory() : [];
  for (const file of s.legacy) {
    if (!existsSync(file.path)) continue;
    if (file.path.startsWith(ctx.paths.container + '/')) checkModes(file.path, file.shown, add);
    if (!legacyVars.length) {
      add('note', file.shown, `the Python tool's encrypted file; not read without ${PASSPHRASE_VAR} (or ${LEGACY_PASSPHRASE_VAR})`);
      continue;
    }
    const inv = inventory.find((i) => i.file === file.shown);
    if (inv?.problem) add('problem', file.shown, inv.problem.message);
    else add('ok', file.shown, `${count(inv?.names?.length ?? 0)} (the Python tool's format, read as it is)`);
  }
  for (const rel of ['secrets.enc.yaml', '.orchestrator/secrets/secrets.enc.yaml', '.manus/secrets.enc.yaml']) {
    if (existsSync(join(ctx.paths.root, rel))) {
      add('note', rel, 'SOPS-encrypted, which orchestrator does not read: decrypt it with sops and store each value with orchestrator secrets set KEY');
    }
  }

  await checkStore(s.global);

  add('note', 'git credential fill', gitInstalled() ? `used for ${GIT_TOKEN_NAMES.join(', ')} when no other source has them` : 'git is not installed, so git-host tokens come only from the sources above');

  const problems = out.filter((f) => f.level === 'problem');
  const mark = { ok: 'ok     ', problem: 'PROBLEM', note: 'note   ' } as const;
  const lines = out.map((f) => `${mark[f.level]}  ${f.subject}: ${f.message}`);
  lines.push(problems.length ? `${problems.length} problem${problems.length === 1 ? '' : 's'} found` : 'No problems found');
  return { exitCode: problems.length ? 1 : 0, data: { ok: problems.length === 0, findings: out }, text: lines.join('\n') };
}

function checkModes(path: string, shown: string, add: (l: Finding['level'], s: string, m: string) => void): void {
  const file = looseMode(path);
  if (file) add('problem', shown, `mode ${file}: others can read it; run: chmod 600 ${path}`);
  const dir = looseMode(dirname(path));
  if (dir) add('problem', dirname(shown), `mode ${dir}: others can list it; run: chmod 700 ${dirname(path)}`);
}

const count = (n: number) => `${n} secret${n === 1 ? '' : 's'}`;

function messageOf(err: unknown): string {
  if (err instanceof OrchestratorError) return err.message;
  return (err as Error)?.message ?? String(err);
}
