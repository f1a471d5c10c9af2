// Where an item's verification runs when the item says `repo:`: another repo's root, named by a
// path from this repo's root or by a config `repos.aliases` name. That root must exist; its repo
// id (for the log) comes from its meta.json, else from its git remote or root commit. Reads only:
// nothing is ever written into the other repo.
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { Config } from '../config/load.ts';
import { repoRefIsPath, type ItemDefinition } from '../engine/definition.ts';
import { RepoNotFoundError } from '../errors.ts';
import { RepoPaths } from '../store/paths.ts';
import { readRepoMeta } from '../store/repo-meta.ts';
import { deriveRepoIdentity } from './repo-id.ts';

export interface ItemRepo {
  /** As the item says it: `../api` or `api`. */
  repo: string;
  root: string;
  /** Null when the other repo has neither meta.json nor a remote or commit to derive one from. */
  repo_id: string | null;
}

/** The repo an item's verification runs in, or null for this repo. `where` names the item for messages. */
export function resolveItemRepo(item: ItemDefinition, opts: { root: string; config?: Config | undefined; env: NodeJS.ProcessEnv }, where: string): ItemRepo | null {
  const ref = item.repo;
  if (ref === undefined) return null;
  let path = ref;
  let named = `repo ${JSON.stringify(ref)}`;
  let fix = `change repo: of item ${item.id}`;
  if (!repoRefIsPath(ref)) {
    const aliases = opts.config?.get<Record<string, string>>('repos.aliases') ?? {};
    const origin = opts.config?.values.get('repos.aliases')?.origin ?? 'default';
    if (!Object.hasOwn(aliases, ref)) {
      const known = Object.keys(aliases).sort().join(', ') || 'none';
      throw new RepoNotFoundError(
        `${where}: repo alias ${JSON.stringify(ref)} is not configured (aliases: ${known}); add it with repos: {aliases: {${ref}: ../path}} in .orchestrator/config.yaml, or give a path such as ../${ref}`,
        { item: item.id, repo: ref },
      );
    }
    path = aliases[ref]!;
    named = `repo alias ${JSON.stringify(ref)} (${path}, from ${origin})`;
    fix = `fix repos.aliases.${ref}`;
  }
  if (path === '~' || path.startsWith('~/')) path = (opts.env.HOME || homedir()) + path.slice(1);
  const root = resolve(opts.root, path);
  if (!isDirectory(root)) {
    throw new RepoNotFoundError(`${where}: ${named} is ${root}, which does not exist; clone or create that repo there, or ${fix}`, {
      item: item.id,
      repo: ref,
      root,
    });
  }
  return { repo: ref, root, repo_id: repoIdOf(root) };
}

function repoIdOf(root: string): string | null {
  try {
    const meta = readRepoMeta(new RepoPaths(root));
    if (meta) return meta.repo_id;
  } catch {
    // a damaged meta.json there: derive the id as its next command would
  }
  return deriveRepoIdentity(root, { random: false })?.repo_id ?? null;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
