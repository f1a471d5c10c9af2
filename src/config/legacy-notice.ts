// The Python tool's config files are still read, below ours. Saying so on every command would
// bury what agents need in their output, so each file is named once per repo: recorded in the
// machine-local cache by a command that writes anyway (reading commands never write).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic-file.ts';
import { underRepoLock, type RepoContext } from '../store/workflow-session.ts';
import { globalDir } from './load.ts';

export function legacyConfigNotices(ctx: RepoContext): string[] {
  // A file the command itself moved away (migrate takes .orchestrator.yaml) is no longer read.
  const legacy = (ctx.config?.files ?? []).filter((f) => (f.kind === 'legacy-global' || f.kind === 'legacy-repo') && existsSync(f.path));
  if (!legacy.length) return [];
  const record = join(ctx.paths.cacheDir, 'legacy-config-notices.json');
  return underRepoLock(ctx, () => {
    let seen: string[] = [];
    try {
      const parsed: unknown = JSON.parse(readFileSync(record, 'utf8'));
      if (Array.isArray(parsed)) seen = parsed.filter((p): p is string => typeof p === 'string');
    } catch {
      // none yet, or unreadable: a notice too many is harmless
    }
    const fresh = legacy.filter((f) => !seen.includes(f.path));
    if (!fresh.length) return [];
    writeFileAtomic(record, JSON.stringify([...seen, ...fresh.map((f) => f.path)]) + '\n');
    return fresh.map((f) =>
      f.kind === 'legacy-repo'
        ? `notice: also reading the Python tool's ${ctx.paths.rel(f.path)} (below .orchestrator/config.yaml); orchestrator migrate moves it there`
        : `notice: also reading the Python tool's ${f.path} (below ${join(globalDir(ctx.env), 'config.yaml')}); move its keys there (orchestrator config set --global KEY VALUE) and delete it to silence this`,
    );
  });
}
