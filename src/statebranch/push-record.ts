// The last automatic push that failed, kept in cache/ (machine-local) so `status` can say so
// until a push succeeds.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic-file.ts';
import type { RepoPaths } from '../store/paths.ts';

export interface PushFailure {
  at: string;
  error: string;
}

const file = (paths: RepoPaths) => join(paths.cacheDir, 'state-push-failure.json');

export function recordPushFailure(paths: RepoPaths, failure: PushFailure): void {
  writeFileAtomic(file(paths), JSON.stringify(failure) + '\n');
}

export function clearPushFailure(paths: RepoPaths): void {
  rmSync(file(paths), { force: true });
}

export function lastPushFailure(paths: RepoPaths): PushFailure | null {
  try {
    const v = JSON.parse(readFileSync(file(paths), 'utf8')) as PushFailure;
    return typeof v.at === 'string' && typeof v.error === 'string' ? v : null;
  } catch {
    return null;
  }
}
