// `feedback review`: patterns across every captured workflow of the repo (all sessions write to
// the one feedback/process.jsonl) and the Python tool's feedback files, migrated or not. Reads
// only. A line that does not parse is counted and skipped, never fatal.
import { readFileSync } from 'node:fs';
import { environmentErrorFrom } from '../errors.ts';
import { parseJsonLines } from '../store/jsonl.ts';
import type { RepoPaths } from '../store/paths.ts';
import { compareText } from '../text-order.ts';
import { PROCESS_SCHEMA, TOOL_SCHEMA } from './derive.ts';
import { reviewSources, type SourceKind } from './files.ts';

/** One workflow as a feedback line describes it, whichever format wrote it. */
export interface Observation {
  key: string | null;
  ours: boolean;
  status: string | null;
  duration_seconds: number | null;
  skipped: { item: string; phase: string | null; reason: string | null }[];
  failed: { item: string; type: string | null; count: number; last_exit_code: number | null; passed_later: boolean }[];
  retries: number;
}

export interface SourceReport {
  file: string;
  kind: SourceKind;
  records: number;
  /** Records that describe a workflow (others: our tool lines, free-text-only Python lines). */
  used: number;
  bad_lines: number[];
}

export interface SkipPattern {
  item: string;
  phase: string | null;
  workflows: number;
  share: number;
  reasons: { reason: string; count: number }[];
}

export interface FailPattern {
  item: string;
  type: string | null;
  failures: number;
  workflows: number;
  passed_later: number;
  /** Exit code of each workflow's last failure -> how many workflows. */
  exit_codes: Record<string, number>;
}

export interface Review {
  workflows: number;
  by_status: Record<string, number>;
  average_duration_seconds: number | null;
  retries: number;
  skipped_most: SkipPattern[];
  failing_most: FailPattern[];
  sources: SourceReport[];
  bad_lines: number;
}

export function readReview(paths: RepoPaths): Review {
  const sources: SourceReport[] = [];
  const observations: Observation[] = [];
  for (const src of reviewSources(paths)) {
    const shown = paths.rel(src.path);
    let text: string;
    try {
      text = readFileSync(src.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw environmentErrorFrom(err, shown);
    }
    const parsed = parseJsonLines(text);
    const report: SourceReport = { file: shown, kind: src.kind, records: 0, used: 0, bad_lines: parsed.bad.map((b) => b.line) };
    for (const r of parsed.records) {
      if (typeof r.value !== 'object' || r.value === null || Array.isArray(r.value)) {
        report.bad_lines.push(r.line);
        continue;
      }
      report.records++;
      const obs = observe(r.value as Record<string, unknown>);
      if (obs) {
        report.used++;
        observations.push(obs);
      }
    }
    report.bad_lines.sort((a, b) => a - b);
    sources.push(report);
  }
  return { ...aggregate(latestPerWorkflow(observations)), sources, bad_lines: sources.reduce((n, s) => n + s.bad_lines.length, 0) };
}

/** A line as a workflow observation; null for lines with nothing to count. */
export function observe(v: Record<string, unknown>): Observation | null {
  if (v.schema === TOOL_SCHEMA) return null; // the same workflow as its process line, with less
  const ours = v.schema === PROCESS_SCHEMA;
  const skipped = Array.isArray(v.skipped)
    ? v.skipped.filter(isRecord).filter((s) => typeof s.item === 'string').map((s) => ({ item: s.item as string, phase: str(s.phase), reason: str(s.reason) }))
    : Array.isArray(v.items_skipped) // the Python tool's list of ids
      ? v.items_skipped.filter((s): s is string => typeof s === 'string').map((item) => ({ item, phase: null, reason: null }))
      : null;
  const failed = Array.isArray(v.failed_verifications)
    ? v.failed_verifications
        .filter(isRecord)
        .filter((f) => typeof f.item === 'string')
        .map((f) => ({
          item: f.item as string,
          type: str(f.type),
          count: Number.isInteger(f.count) && (f.count as number) > 0 ? (f.count as number) : 1,
          last_exit_code: Number.isInteger(f.last_exit_code) ? (f.last_exit_code as number) : null,
          passed_later: f.passed_later === true,
        }))
    : null;
  const duration = typeof v.duration_seconds === 'number' && v.duration_seconds >= 0 ? v.duration_seconds : null;
  const status = str(v.status);
  if (!ours && skipped === null && failed === null && duration === null && status === null) return null;
  return {
    key: str(v.workflow_id) ?? str(v.workflow_id_hash),
    ours,
    status,
    duration_seconds: duration,
    skipped: skipped ?? [],
    failed: failed ?? [],
    retries: typeof v.retries === 'number' && v.retries >= 0 ? v.retries : 0,
  };
}

/**
 * A workflow captured more than once (a manual capture, then finish) counts once, as last
 * captured; a record of ours wins over a Python tool line for the same workflow.
 */
function latestPerWorkflow(all: Observation[]): Observation[] {
  const keyed = new Map<string, Observation>();
  const anonymous: Observation[] = [];
  for (const o of all) {
    if (o.key === null) {
      anonymous.push(o);
      continue;
    }
    const before = keyed.get(o.key);
    if (before?.ours && !o.ours) continue;
    keyed.delete(o.key); // re-insert: keeps the order of last capture
    keyed.set(o.key, o);
  }
  return [...keyed.values(), ...anonymous];
}

export function aggregate(obs: Observation[]): Omit<Review, 'sources' | 'bad_lines'> {
  const byStatus: Record<string, number> = {};
  const durations: number[] = [];
  const skips = new Map<string, { phase: string | null; workflows: number; reasons: Map<string, number> }>();
  const fails = new Map<string, FailPattern>();
  let retries = 0;
  for (const o of obs) {
    const status = o.status ?? 'unknown';
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    if (o.duration_seconds !== null) durations.push(o.duration_seconds);
    retries += o.retries;
    for (const item of new Set(o.skipped.map((s) => s.item))) {
      const s = o.skipped.find((x) => x.item === item)!;
      const agg = skips.get(item) ?? { phase: s.phase, workflows: 0, reasons: new Map<string, number>() };
      agg.workflows++;
      agg.phase ??= s.phase;
      const reason = s.reason?.trim();
      if (reason) agg.reasons.set(reason, (agg.reasons.get(reason) ?? 0) + 1);
      skips.set(item, agg);
    }
    for (const f of o.failed) {
      const agg = fails.get(f.item) ?? { item: f.item, type: f.type, failures: 0, workflows: 0, passed_later: 0, exit_codes: {} };
      agg.failures += f.count;
      agg.workflows++;
      agg.type ??= f.type;
      if (f.passed_later) agg.passed_later++;
      if (f.last_exit_code !== null) agg.exit_codes[String(f.last_exit_code)] = (agg.exit_codes[String(f.last_exit_code)] ?? 0) + 1;
      fails.set(f.item, agg);
    }
  }
  const skippedMost: SkipPattern[] = [...skips.entries()]
    .map(([item, a]) => ({
      item,
      phase: a.phase,
      workflows: a.workflows,
      share: obs.length ? Math.round((a.workflows / obs.length) * 100) / 100 : 0,
      reasons: [...a.reasons.entries()].map(([reason, count]) => ({ reason, count })).sort((x, y) => y.count - x.count || compareText(x.reason, y.reason)),
    }))
    .sort((a, b) => b.workflows - a.workflows || compareText(a.item, b.item));
  const failingMost = [...fails.values()].sort((a, b) => b.failures - a.failures || b.workflows - a.workflows || compareText(a.item, b.item));
  return {
    workflows: obs.length,
    by_status: byStatus,
    average_duration_seconds: durations.length ? Math.round(durations.reduce((a, b) => a + b, 0) / durations.length) : null,
    retries,
    skipped_most: skippedMost,
    failing_most: failingMost,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}
