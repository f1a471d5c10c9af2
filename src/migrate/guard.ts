// Dual mode: decides, before a command runs, whether it works on the contained layout, on the
// legacy files in place, or must refuse. Reads only: migrating is the migrate command's job
// (or migrate.auto's, which the CLI runs explicitly).
import type { Config } from '../config/load.ts';
import { WorkflowStateConflictError } from '../errors.ts';
import type { RepoPaths } from '../store/paths.ts';
import { detectLayout, type LayoutInfo } from './legacy-layout.ts';

export interface LayoutDecision {
  /** Where workflow state is read and written. */
  mode: 'contained' | 'legacy';
  /** One line for stderr, or null. */
  notice: string | null;
  /** Run the full migration before the command (config migrate.auto, ORCHESTRATOR_AUTO_MIGRATE=1). */
  migrateFirst: boolean;
  info: LayoutInfo;
}

const MIGRATE_HINT = 'run: orchestrator migrate --yes (orchestrator migrate --dry-run shows the plan first)';

export function decideLayout(paths: RepoPaths, config: Config, writes: boolean): LayoutDecision {
  const info = detectLayout(paths);
  const names = info.legacy.map((e) => e.from).slice(0, 3).join(', ') + (info.legacy.length > 3 ? ', …' : '');
  if (config.get('layout') === 'legacy') return { mode: 'legacy', notice: null, migrateFirst: false, info };
  if (info.layout === 'legacy') {
    if (writes && config.get<boolean>('migrate.auto')) return { mode: 'contained', notice: null, migrateFirst: true, info };
    const line = `this repo has the Python tool's legacy layout (${names}); ${MIGRATE_HINT}`;
    if (writes) throw new WorkflowStateConflictError(`${line}, or set layout: legacy in the config (ORCHESTRATOR_LAYOUT=legacy) to keep writing the old files`);
    return { mode: info.legacyState ? 'legacy' : 'contained', notice: line, migrateFirst: false, info };
  }
  if (info.layout === 'both') {
    const line = `this repo has both the legacy layout (${names}) and .orchestrator/ sessions; decide with: orchestrator migrate --prefer old|new --yes`;
    if (writes) throw new WorkflowStateConflictError(line);
    return { mode: 'contained', notice: line, migrateFirst: false, info };
  }
  return { mode: 'contained', notice: null, migrateFirst: false, info };
}
