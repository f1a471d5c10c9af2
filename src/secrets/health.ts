// Facts `secrets doctor` checks that are not about opening files: permissions, and whether git
// would pick the store up.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';

/** The octal mode when group or others have any access, else null (also for a missing path). */
export function looseMode(path: string): string | null {
  try {
    const mode = statSync(path).mode & 0o777;
    return mode & 0o077 ? mode.toString(8).padStart(4, '0') : null;
  } catch {
    return null;
  }
}

/** Whether git tracks anything under `rel`, and whether it ignores `rel`; null outside git (or without git). */
export function gitExposure(root: string, rel: string): { tracked: boolean; ignored: boolean } | null {
  const run = (args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });
  const ls = run(['ls-files', '-z', '--', rel]);
  if (ls.error || ls.status !== 0) return null;
  const ignored = run(['check-ignore', '-q', '--no-index', '--', rel]);
  return { tracked: ls.stdout.length > 0, ignored: ignored.status === 0 };
}

export function gitInstalled(): boolean {
  const r = spawnSync('git', ['--version'], { stdio: 'ignore', timeout: 5000 });
  return !r.error && r.status === 0;
}
