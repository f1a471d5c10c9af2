// What `repos list` shows of each repo in repos.json: whether it is still where it was. Reads
// only, in every repo. A repo that cannot be read shows why; the others are still listed.
import { statSync } from 'node:fs';
import { RepoPaths } from '../store/paths.ts';
import { readRepoMeta } from '../store/repo-meta.ts';
import type { KnownRepo } from './registry.ts';

export type RepoFlag = 'missing' | 'moved' | 'changed';

export interface RepoListing extends KnownRepo {
  /** The repo the command ran in. */
  current: boolean;
  /** missing: the root is gone; moved: gone, and the same repo id was seen at `moved_to`; changed: the root holds no .orchestrator/ or another repo id. */
  flags: RepoFlag[];
  moved_to: string | null;
  note: string | null;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function listRepos(repos: readonly KnownRepo[], currentRoot: string): RepoListing[] {
  const present = new Map<string, string>();
  const out = repos.map((r): RepoListing => {
    const base = { ...r, current: r.root === currentRoot, flags: [] as RepoFlag[], moved_to: null, note: null };
    if (!isDirectory(r.root)) return { ...base, flags: ['missing'], note: 'the directory no longer exists' };
    let id: string | null = null;
    try {
      id = readRepoMeta(new RepoPaths(r.root))?.repo_id ?? null;
    } catch (err) {
      return { ...base, flags: ['changed'], note: (err as Error).message };
    }
    if (id === null) return { ...base, flags: ['changed'], note: '.orchestrator/meta.json is gone (uninstalled, or another checkout)' };
    if (id !== r.repo_id) return { ...base, flags: ['changed'], note: `it now holds repo id ${id}` };
    present.set(r.repo_id, r.root);
    return base;
  });
  for (const r of out) {
    const elsewhere = r.flags.includes('missing') ? present.get(r.repo_id) : undefined;
    if (elsewhere) {
      r.flags.push('moved');
      r.moved_to = elsewhere;
      r.note = `moved to ${elsewhere}`;
    }
  }
  return out;
}
