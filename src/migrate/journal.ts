// .orchestrator/migration.json: the marker and journal of the last migration. Each step is
// recorded before the next begins, so an interrupted migration is finished or undone from it.
import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { CorruptFileError } from '../errors.ts';
import { writeFileAtomic } from '../store/atomic-file.ts';
import type { RepoPaths } from '../store/paths.ts';

export const JOURNAL_STATUSES = ['staging', 'switching', 'backing_up', 'done', 'rolling_back', 'rolled_back'] as const;
export type JournalStatus = (typeof JOURNAL_STATUSES)[number];

const MoveSchema = z.object({
  from: z.string(),
  to: z.nullable(z.string()),
  kind: z.string(),
  type: z.enum(['file', 'dir']),
  files: z.number(),
  bytes: z.number(),
  /** sha256 of every file copied, by container-relative path: rollback checks nothing changed. */
  hashes: z.record(z.string(), z.string()),
});
export type JournalMove = z.infer<typeof MoveSchema>;

export const JournalSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  status: z.enum(JOURNAL_STATUSES),
  started_at: z.string(),
  updated_at: z.string(),
  session_id: z.nullable(z.string()),
  /** Whether `current` was set to the migrated session (rollback then clears it). */
  set_current: z.boolean(),
  /** Container-relative staging directory. */
  staging: z.string(),
  /** Container-relative backup directory for the originals. */
  backup: z.string(),
  moves: z.array(MoveSchema),
  /** Existing contained targets replaced with --prefer old (kept in the backup under .orchestrator/). */
  displaced: z.array(z.string()),
  /** Directories the migration created inside .orchestrator/, deepest last. */
  created_dirs: z.array(z.string()),
});
export type Journal = z.infer<typeof JournalSchema>;

export function readJournal(paths: RepoPaths): Journal | null {
  let text: string;
  try {
    text = readFileSync(paths.migrationJournal, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const parsed = JournalSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through
  }
  throw new CorruptFileError(
    `${paths.rel(paths.migrationJournal)}: not a valid migration journal; the migration it records cannot be finished or undone automatically: check .orchestrator/backups/, then move the file away`,
  );
}

export function writeJournal(paths: RepoPaths, j: Journal, now: string): Journal {
  const next = { ...j, updated_at: now };
  writeFileAtomic(paths.migrationJournal, journalText(next));
  return next;
}

/**
 * The moves as the journal text holds them, made once per moves array after staging: the hashes
 * are final from then on, and the steps after it write the journal three times (10,000 hashes took
 * ~6 ms to serialize each time). While staging, the hashes are still being filled in.
 */
let movesText: { moves: JournalMove[]; text: string } | undefined;

/** JSON.stringify(j, null, 2) and a newline, with the moves serialized once (see movesText). */
export function journalText(j: Journal): string {
  if (j.status === 'staging') return JSON.stringify(j, null, 2) + '\n';
  if (movesText?.moves !== j.moves) movesText = { moves: j.moves, text: JSON.stringify(j.moves, null, 2).replaceAll('\n', '\n  ') };
  // The one match: a quote inside any other field's text is escaped.
  const [head, tail] = JSON.stringify({ ...j, moves: -1 }, null, 2).split('"moves": -1');
  return `${head}"moves": ${movesText.text}${tail}\n`;
}

/** A migration that stopped half way: any command finishes or undoes it first. */
export function isInterrupted(j: Journal | null): j is Journal {
  return j !== null && j.status !== 'done' && j.status !== 'rolled_back';
}
