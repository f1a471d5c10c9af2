// What the Python tool left in a repository (CONTRACT §2), and which layout a repo is in.
// Detection only: nothing here creates, moves or migrates a file.
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CONTAINER_DIR, type RepoPaths } from '../store/paths.ts';

/** Where a legacy path goes inside `.orchestrator/`; `<session>` is the new session's id. */
export interface LegacyRule {
  /** Repo-relative legacy path. */
  from: string;
  /** Container-relative target. */
  to: string;
  /** What it is, for messages and for the checks the preflight runs. */
  kind: 'state' | 'log' | 'checkpoints' | 'jsonl' | 'secrets' | 'config' | 'json' | 'opaque';
}

export const LEGACY_RULES: readonly LegacyRule[] = [
  { from: '.workflow_state.json', to: 'sessions/<session>/state.json', kind: 'state' },
  { from: '.workflow_log.jsonl', to: 'sessions/<session>/log.jsonl', kind: 'log' },
  { from: '.workflow_checkpoints', to: 'sessions/<session>/checkpoints', kind: 'checkpoints' },
  { from: `${CONTAINER_DIR}/state.json`, to: 'sessions/<session>/state.json', kind: 'state' },
  { from: `${CONTAINER_DIR}/log.jsonl`, to: 'sessions/<session>/log.jsonl', kind: 'log' },
  { from: '.workflow_feedback.jsonl', to: 'feedback/workflow.jsonl', kind: 'jsonl' },
  { from: '.workflow_tool_feedback.jsonl', to: 'feedback/tool.jsonl', kind: 'jsonl' },
  { from: '.workflow_process_feedback.jsonl', to: 'feedback/process.jsonl', kind: 'jsonl' },
  { from: '.secrets.enc', to: 'secrets/secrets.enc', kind: 'secrets' },
  { from: 'secrets.enc.yaml', to: 'secrets/secrets.enc.yaml', kind: 'secrets' },
  { from: '.orchestrator.yaml', to: 'config.yaml', kind: 'config' },
  { from: '.orchestra.yaml', to: 'config.yaml', kind: 'config' },
  { from: '.claude/prd_state.json', to: 'prd/state.json', kind: 'json' },
  { from: '.workflow_sessions', to: 'legacy/workflow_sessions', kind: 'opaque' },
  { from: '.workflow_approvals.db', to: 'legacy/workflow_approvals.db', kind: 'opaque' },
];

export interface LegacyEntry extends LegacyRule {
  /** lstat type: a symlink is reported, never followed. */
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Size of a file (0 for anything else). */
  bytes: number;
}

/** The legacy paths present in this repo, in rule order. */
export function findLegacyEntries(paths: RepoPaths): LegacyEntry[] {
  const found: LegacyEntry[] = [];
  for (const rule of LEGACY_RULES) {
    let st;
    try {
      st = lstatSync(join(paths.root, rule.from));
    } catch {
      continue;
    }
    const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
    found.push({ ...rule, type, bytes: type === 'file' ? st.size : 0 });
  }
  return found;
}

export type Layout =
  /** Nothing of the tool's yet. */
  | 'none'
  /** Only `.orchestrator/` (ours, or the Python tool's v3 sessions). */
  | 'contained'
  /** Only the Python tool's scattered files. */
  | 'legacy'
  /** Both: a migration must say which wins (`migrate --prefer old|new`). */
  | 'both';

export interface LayoutInfo {
  layout: Layout;
  legacy: LegacyEntry[];
  /** A legacy workflow state exists (the v2 root file, or a v3 state without sessions). */
  legacyState: boolean;
}

export function detectLayout(paths: RepoPaths): LayoutInfo {
  const legacy = findLegacyEntries(paths);
  const contained = hasContainedState(paths);
  const layout: Layout = legacy.length === 0 ? (contained ? 'contained' : 'none') : contained ? 'both' : 'legacy';
  return { layout, legacy, legacyState: legacy.some((e) => e.kind === 'state') };
}

/** Contained state: at least one session directory (an empty `.orchestrator/` does not count). */
function hasContainedState(paths: RepoPaths): boolean {
  if (!existsSync(paths.sessionsDir)) return false;
  try {
    return readdirSync(paths.sessionsDir).length > 0;
  } catch {
    return false;
  }
}
