// A session's checkpoints (`checkpoints/cp_*.json`, the Python tool's format): listing only.
// Reading never writes: a file that does not parse is reported with the others, never repaired.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareText } from '../text-order.ts';

export interface CheckpointSummary {
  id: string;
  /** The file's name inside the checkpoints directory. */
  file: string;
  timestamp: string | null;
  workflow_id: string | null;
  phase_id: string | null;
  item_id: string | null;
  message: string | null;
  key_decisions: string[];
  files_changed: number;
  parent_checkpoint_id: string | null;
  /** Set when the file cannot be read or is not a checkpoint; the other fields are then empty. */
  problem?: string;
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Every `cp_*.json` in `dir`, oldest first (by timestamp, then name); [] when there is no directory. */
export function listCheckpoints(dir: string): CheckpointSummary[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith('cp_') && n.endsWith('.json'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out = names.map((file): CheckpointSummary => {
    const empty: CheckpointSummary = {
      id: file.slice(0, -'.json'.length),
      file,
      timestamp: null,
      workflow_id: null,
      phase_id: null,
      item_id: null,
      message: null,
      key_decisions: [],
      files_changed: 0,
      parent_checkpoint_id: null,
    };
    let v: unknown;
    try {
      v = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return { ...empty, problem: e.code ? `cannot be read (${e.code})` : 'is not valid JSON' };
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ...empty, problem: 'is not a checkpoint (not a JSON object)' };
    const cp = v as Record<string, unknown>;
    return {
      ...empty,
      id: text(cp.checkpoint_id) ?? empty.id,
      timestamp: text(cp.timestamp),
      workflow_id: text(cp.workflow_id),
      phase_id: text(cp.phase_id),
      item_id: text(cp.item_id),
      message: text(cp.message),
      key_decisions: Array.isArray(cp.key_decisions) ? cp.key_decisions.filter((d): d is string => typeof d === 'string') : [],
      files_changed: Array.isArray(cp.file_manifest) ? cp.file_manifest.length : 0,
      parent_checkpoint_id: text(cp.parent_checkpoint_id),
    };
  });
  // Timestamps mix `Z` and `+00:00`: compare instants, not strings.
  const at = (c: CheckpointSummary) => (c.timestamp ? Date.parse(c.timestamp) || 0 : 0);
  return out.sort((a, b) => at(a) - at(b) || compareText(a.file, b.file));
}
