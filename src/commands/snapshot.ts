// `snapshot export [FILE]` and `snapshot import FILE`: the persisted .orchestrator/ and
// workflow.yaml as one .tar.gz (encrypted with a passphrase when it carries secrets/), and back.
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bool, str } from '../cli/args.ts';
import { AlreadyExistsError, environmentErrorFrom, InvalidSnapshotError, NoWorkflowError, PassphraseRequiredError, SnapshotOtherRepoError, UsageError } from '../errors.ts';
import { deriveRepoIdentity } from '../repos/repo-id.ts';
import { decryptSnapshot, encryptSnapshot, isEncrypted } from '../snapshot/encrypt.ts';
import { collectSnapshot, packSnapshot } from '../snapshot/export.ts';
import { checkSnapshot, differs, keepOwnIdentity } from '../snapshot/import.ts';
import { LIMITS } from '../snapshot/manifest.ts';
import { swapPersisted } from '../statebranch/swap-in.ts';
import { writeFileAtomic } from '../store/atomic-file.ts';
import { existsNoFollow } from '../store/file-reads.ts';
import { randomHex } from '../store/random-id.ts';
import { ensureContainer, readRepoMeta } from '../store/repo-meta.ts';
import { underRepoLock, underRepoLockAsync } from '../store/workflow-session.ts';
import type { CommandInput, CommandResult } from './types.ts';

/** The passphrase from the variable --passphrase-env names; null without the flag. */
function passphraseFrom(args: CommandInput['args'], env: NodeJS.ProcessEnv, why: string): string | null {
  const name = str(args, 'passphrase-env');
  if (name === undefined) return null;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`--passphrase-env ${JSON.stringify(name)}: give the NAME of an environment variable, e.g. --passphrase-env SNAPSHOT_PASSPHRASE`);
  const value = env[name];
  if (!value) throw new PassphraseRequiredError(`${name} is not set (or empty): export ${name} with the passphrase ${why}`, { variable: name });
  return value;
}

export function exportSnapshot({ args, ctx }: CommandInput): CommandResult {
  const includeSecrets = bool(args, 'include-secrets');
  if (includeSecrets && str(args, 'passphrase-env') === undefined) {
    throw new UsageError('--include-secrets needs --passphrase-env VAR (secrets are never exported unencrypted); set VAR to a passphrase and retry');
  }
  const passphrase = passphraseFrom(args, ctx.env, 'to encrypt the snapshot with');
  const meta = readRepoMeta(ctx.paths);
  if (!meta) {
    throw new NoWorkflowError(`${ctx.paths.rel(ctx.paths.meta)} does not exist: there is no orchestrator state to export here; start a workflow first (orchestrator start "TASK")`);
  }
  const now = new Date(ctx.now());
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const file = resolve(ctx.cwd, args.positionals[0] ?? `orchestrator-snapshot-${meta.repo_id}-${stamp}.tar.gz${passphrase ? '.enc' : ''}`);
  if (existsNoFollow(file) && !bool(args, 'force')) throw new AlreadyExistsError(`${file} exists; pass --force to overwrite it, or name another file`, { path: file });

  const collected = underRepoLock(ctx, () => {
    try {
      return collectSnapshot(ctx.paths, meta.repo_id, includeSecrets, now.toISOString());
    } catch (err) {
      throw environmentErrorFrom(err, ctx.paths.rel(ctx.paths.container));
    }
  });
  const stage = join(ctx.paths.cacheDir, `snapshot-export-${randomHex(4)}`);
  let archive: Buffer;
  try {
    archive = packSnapshot(collected, stage);
  } catch (err) {
    throw environmentErrorFrom(err, stage);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  if (passphrase) archive = encryptSnapshot(archive, passphrase);
  writeFileAtomic(file, archive, { mode: passphrase ? 0o600 : 0o644 });
  const files = collected.files.size;
  return {
    data: { ok: true, file, repo_id: meta.repo_id, files, bytes: archive.length, encrypted: passphrase !== null, includes_secrets: includeSecrets },
    text: `Wrote ${file} (${files} files, ${archive.length} bytes${passphrase ? ', encrypted' : ''}${includeSecrets ? ', with secrets/' : ''}).\nNEXT: orchestrator snapshot import ${file}${passphrase ? ` --passphrase-env ${str(args, 'passphrase-env')}` : ''}  (in the other clone)`,
  };
}

export async function importSnapshot({ args, ctx }: CommandInput): Promise<CommandResult> {
  const file = resolve(ctx.cwd, args.positionals[0]!);
  const shown = args.positionals[0]!;
  const raw = readArchiveFile(file, shown);
  const encrypted = isEncrypted(raw);
  let gz = raw;
  if (encrypted) {
    if (str(args, 'passphrase-env') === undefined) {
      throw new PassphraseRequiredError(`${shown} is encrypted: pass --passphrase-env VAR, VAR being the environment variable that holds its passphrase`);
    }
    gz = decryptSnapshot(raw, passphraseFrom(args, ctx.env, 'the snapshot was exported with')!, shown, `set ${str(args, 'passphrase-env')} to the passphrase it was exported with`);
  }

  // First pass: every check, nothing written.
  const checked = await checkSnapshot(gz, shown, encrypted);
  const own = readRepoMeta(ctx.paths)?.repo_id ?? deriveRepoIdentity(ctx.paths.root, { random: false })?.repo_id ?? null;
  const otherRepo = own !== null && own !== checked.manifest.repo_id;
  if (otherRepo && !bool(args, 'force')) {
    throw new SnapshotOtherRepoError(
      `${shown} is a snapshot of repo ${checked.manifest.repo_id}, and this is repo ${own}; pass --force to take its state anyway (this repo keeps its own meta.json)`,
      { snapshot_repo_id: checked.manifest.repo_id, repo_id: own },
    );
  }

  return underRepoLockAsync(ctx, async () => {
    ensureContainer(ctx.paths, ctx.now());
    const stage = join(ctx.paths.cacheDir, `snapshot-import-${randomHex(4)}`);
    const staged = join(stage, 'orchestrator');
    let workflow: 'written' | 'unchanged' | 'none' = 'none';
    try {
      // Second pass: the same checks, unpacking into the stage.
      const again = await checkSnapshot(gz, shown, encrypted, stage);
      if (otherRepo) keepOwnIdentity(staged, ctx.paths.meta);
      swapPersisted(ctx.paths.container, staged, join(stage, 'old'), again.secrets ? new Set(['secrets']) : new Set());
      if (again.workflow) {
        workflow = differs(ctx.paths.workflowFile, again.workflow) ? 'written' : 'unchanged';
        if (workflow === 'written') writeFileAtomic(ctx.paths.workflowFile, again.workflow);
      }
    } catch (err) {
      throw environmentErrorFrom(err, ctx.paths.rel(stage));
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
    const m = checked.manifest;
    const notices: string[] = [];
    if (otherRepo) notices.push(`took the state of repo ${m.repo_id} (--force); this repo keeps its id ${own}`);
    return {
      data: { ok: true, file, repo_id: m.repo_id, created_at: m.created_at, files: checked.files, encrypted, includes_secrets: checked.secrets, workflow_yaml: workflow, other_repo: otherRepo },
      text: `Imported ${checked.files} files from ${shown} (exported ${m.created_at}) into .orchestrator/${checked.secrets ? ' (secrets/ included)' : ''}${workflow === 'written' ? ' and workflow.yaml' : ''}.\nNEXT: orchestrator status`,
      notices,
    };
  });
}

/** The archive's bytes; its size is bounded first, so a huge file is refused before it is read. */
function readArchiveFile(path: string, shown: string): Buffer {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`${shown} is not a file; give the .tar.gz that orchestrator snapshot export wrote`);
    size = st.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${shown} does not exist; give the path of a snapshot (orchestrator snapshot export writes one)`);
    throw environmentErrorFrom(err, shown);
  }
  if (size > LIMITS.totalBytes) throw new InvalidSnapshotError(`${shown}: refused, ${size} bytes is more than a snapshot may be (${LIMITS.totalBytes}); nothing was written`);
  try {
    return readFileSync(path);
  } catch (err) {
    throw environmentErrorFrom(err, shown);
  }
}
