// The hash-chained audit trail, `.orchestrator/audit.jsonl`, in the Python tool's format so old
// and new chains continue each other: {timestamp, event, hash, prev_hash, data}, where hash is the
// first 32 hex of sha256(prev_hash + ":" + json.dumps({timestamp, event, data}, sort_keys=True)),
// and the first record has neither the prefix nor prev_hash. Appends hold the repo lock (callers
// do); verification reads only.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { LogEvent } from '../engine/workflow-state.ts';
import { environmentErrorFrom } from '../errors.ts';
import { readTextIfExists } from './file-reads.ts';
import { appendJsonLines } from './jsonl.ts';
import { pythonJsonDumps, sha256Hex } from './python-json.ts';

export interface AuditRecord {
  timestamp: string;
  event: string;
  hash: string;
  prev_hash?: string;
  data: Record<string, unknown>;
}

export function auditHash(prevHash: string | undefined, timestamp: string, event: string, data: unknown): string {
  const body = pythonJsonDumps({ timestamp, event, data });
  return sha256Hex(prevHash ? `${prevHash}:${body}` : body).slice(0, 32);
}

/** The Python tool's names where it had one (workflow_start, workflow_finish); others keep the log's. */
const EVENT_NAMES: Record<string, string> = {
  workflow_started: 'workflow_start',
  workflow_completed: 'workflow_finish',
  workflow_abandoned: 'workflow_finish',
};

/** One audit record per event of a state change; `data` holds ids and outcomes, not free text. */
export function auditEntriesFor(events: readonly LogEvent[], sessionId: string): { event: string; data: Record<string, unknown> }[] {
  return events.map((e) => {
    const data: Record<string, unknown> = { session_id: sessionId, workflow_id: e.workflow_id };
    if (e.phase_id) data.phase_id = e.phase_id;
    if (e.item_id) data.item_id = e.item_id;
    if (e.event_type === 'workflow_completed') data.status = 'completed';
    if (e.event_type === 'workflow_abandoned') data.status = 'abandoned';
    if (EVENT_NAMES[e.event_type] && EVENT_NAMES[e.event_type] !== e.event_type) data.log_event = e.event_type;
    return { event: EVENT_NAMES[e.event_type] ?? e.event_type, data };
  });
}

/** Appends records chained onto the file's last one, in one write. Call under the repo lock. */
export function appendAudit(path: string, timestamp: string, entries: readonly { event: string; data: Record<string, unknown> }[]): void {
  if (!entries.length) return;
  let prev = lastHash(path);
  const records: AuditRecord[] = entries.map(({ event, data }) => {
    const hash = auditHash(prev, timestamp, event, data);
    const record: AuditRecord = { timestamp, event, hash, ...(prev ? { prev_hash: prev } : {}), data };
    prev = hash;
    return record;
  });
  appendJsonLines(path, records);
}

/** The hash of the last whole record; a torn last line (a crash mid-append) is passed over. */
function lastHash(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw environmentErrorFrom(err, path);
  }
  try {
    const size = fstatSync(fd).size;
    // Records are small: the tail holds the last few whole lines; read more only when it does not.
    for (let want = 8192; ; want *= 4) {
      const len = Math.min(size, want);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, size - len);
      const lines = buf.toString('utf8').split('\n');
      if (len < size) lines.shift(); // the first line may be cut by the window
      for (let i = lines.length - 1; i >= 0; i--) {
        const hash = hashOf(lines[i]!);
        if (hash) return hash;
      }
      if (len === size) return undefined;
    }
  } finally {
    closeSync(fd);
  }
}

function hashOf(line: string): string | undefined {
  if (!line.trim()) return undefined;
  try {
    const r = JSON.parse(line) as { hash?: unknown };
    return typeof r.hash === 'string' ? r.hash : undefined;
  } catch {
    return undefined;
  }
}

export interface ChainReport {
  records: number;
  /** The first record that breaks the chain, with its 1-based line. */
  broken: { line: number; reason: string } | null;
}

/**
 * Recomputes every hash and link. Limitation, knowingly: a float the Python tool wrote as `1.0`
 * reads back as 1 and would fail; none of its audit records hold floats.
 */
export function verifyAuditChain(path: string): ChainReport | null {
  const text = readTextIfExists(path, path);
  if (text === null) return null;
  let prev: string | undefined;
  let records = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const line = i + 1;
    let r: Partial<AuditRecord>;
    try {
      r = JSON.parse(raw) as Partial<AuditRecord>;
    } catch {
      return { records, broken: { line, reason: 'not a complete JSON line (a crash may have cut it, or it was edited)' } };
    }
    if (typeof r.timestamp !== 'string' || typeof r.event !== 'string' || typeof r.hash !== 'string') {
      return { records, broken: { line, reason: 'lacks timestamp, event or hash' } };
    }
    if (r.prev_hash !== prev) {
      return { records, broken: { line, reason: prev ? `prev_hash ${String(r.prev_hash)} is not the previous record's hash ${prev} (a record was removed or reordered)` : 'the first record must not have a prev_hash (records before it were removed)' } };
    }
    if (auditHash(prev, r.timestamp, r.event, r.data ?? null) !== r.hash) {
      return { records, broken: { line, reason: 'its hash does not match its content (the record was edited)' } };
    }
    prev = r.hash;
    records++;
  }
  return { records, broken: null };
}
