// Feedback derived from one workflow's state and log: pure functions, no I/O. Two records come out:
// process feedback (private, full context: task, skip reasons, failing checks) and tool feedback
// (anonymous: counts and enums only, safe to share with the tool's maintainers).
import { createHash } from 'node:crypto';
import { VERIFICATION_TYPES, type WorkflowDefinition } from '../engine/definition.ts';
import type { LogEvent, WorkflowState } from '../engine/workflow-state.ts';

export type CaptureMode = 'auto' | 'manual';

export const PROCESS_SCHEMA = 'process/1';
export const TOOL_SCHEMA = 'tool/1';

export interface SkippedItem {
  phase: string;
  item: string;
  reason: string | null;
  step_type: string | null;
  forced: boolean;
}

export interface FailedCheck {
  phase: string | null;
  item: string;
  /** Verification type as logged: command, file_exists. */
  type: string | null;
  /** verification_failed events of this item in this workflow. */
  count: number;
  last_exit_code: number | null;
  timed_out: number;
  /** A later attempt passed (the item ended completed). */
  passed_later: boolean;
}

/** Field names follow the Python tool's feedback files where it had one (task, duration_seconds, phases, items_skipped, mode). */
export interface ProcessFeedback {
  schema: typeof PROCESS_SCHEMA;
  timestamp: string;
  /** Identifies the state this record was derived from: capturing it again writes nothing. */
  capture_id: string;
  mode: CaptureMode;
  session_id: string;
  workflow_id: string;
  workflow_name: string | null;
  workflow_version: string | null;
  task: string;
  status: string;
  started_at: string | null;
  ended_at: string | null;
  duration_seconds: number | null;
  /** Seconds spent in each phase that started. */
  phases: Record<string, number>;
  items_total: number;
  items_completed: number;
  items_skipped_count: number;
  items_skipped: string[];
  skipped: SkippedItem[];
  failed_verifications: FailedCheck[];
  /** Verification attempts made after a failed one. */
  retries: number;
  /** Notes of a learnings item (record_learnings, or the Python tool's document_learnings). */
  learnings: string | null;
}

/** Nothing here is free text or a name the user chose: ids appear only when the bundled default defines them. */
export interface ToolFeedback {
  schema: typeof TOOL_SCHEMA;
  timestamp: string;
  capture_id: string;
  orchestrator_version: string;
  mode: CaptureMode;
  status: string;
  /** 'default' when the workflow is the bundled one (or an unchanged copy of it). */
  workflow_source: 'default' | 'custom';
  duration_seconds: number | null;
  phases_total: number;
  phases: Record<string, number>;
  items_total: number;
  items_completed: number;
  items_skipped_count: number;
  items_skipped: string[];
  forced_skips: number;
  verification_types: Record<string, number>;
  failed_verifications_count: number;
  timed_out_count: number;
  retries: number;
  exit_codes: Record<string, number>;
  events: Record<string, number>;
}

/** What the bundled default workflow names: the only ids tool feedback may carry. */
export interface DefaultVocabulary {
  phases: ReadonlySet<string>;
  items: ReadonlySet<string>;
  checksum: string;
}

export interface DeriveInput {
  state: WorkflowState;
  definition: WorkflowDefinition;
  /** The session log; events of other workflows are ignored. */
  events: readonly Partial<LogEvent>[];
  sessionId: string;
  mode: CaptureMode;
  now: string;
}

/** Event names the tool and the Python tool write: anything else is not counted in tool feedback. */
const KNOWN_EVENTS = new Set([
  'workflow_started',
  'workflow_completed',
  'workflow_abandoned',
  'phase_started',
  'phase_completed',
  'item_started',
  'item_completed',
  'item_skipped',
  'item_approved',
  'verification_passed',
  'verification_failed',
  'checkpoint_created',
  'workflow_resumed',
]);

const LEARNINGS_ITEMS = ['record_learnings', 'document_learnings'];

export function deriveProcessFeedback(input: DeriveInput): ProcessFeedback {
  const { state, definition } = input;
  const events = input.events.filter((e) => e.workflow_id === state.workflow_id);
  const skipEvents = new Map<string, Partial<LogEvent>>();
  for (const e of events) if (e.event_type === 'item_skipped' && typeof e.item_id === 'string') skipEvents.set(e.item_id, e);

  const skipped: SkippedItem[] = [];
  let total = 0;
  let completed = 0;
  let learnings: string | null = null;
  for (const [phaseId, phase] of orderedPhases(state, definition)) {
    for (const [itemId, item] of Object.entries(phase.items)) {
      total++;
      if (item.status === 'completed') completed++;
      if (item.status === 'skipped') {
        const details = (skipEvents.get(itemId)?.details ?? {}) as Record<string, unknown>;
        skipped.push({
          phase: phaseId,
          item: itemId,
          reason: item.skip_reason ?? (typeof details.reason === 'string' ? details.reason : null),
          step_type: stepTypeOf(definition, itemId) ?? (typeof details.step_type === 'string' ? details.step_type : null),
          forced: details.force_skipped === true,
        });
      }
      if (LEARNINGS_ITEMS.includes(itemId) && item.notes) learnings = item.notes;
    }
  }

  const { startedAt, endedAt } = span(state, events);
  return {
    schema: PROCESS_SCHEMA,
    timestamp: input.now,
    capture_id: captureId(state, events.length),
    mode: input.mode,
    session_id: input.sessionId,
    workflow_id: state.workflow_id,
    workflow_name: state.workflow_type ?? definition.name ?? null,
    workflow_version: state.workflow_version ?? definition.version ?? null,
    task: state.task_description,
    status: state.status,
    started_at: startedAt,
    ended_at: endedAt,
    duration_seconds: seconds(startedAt, endedAt),
    phases: phaseDurations(state, definition, endedAt),
    items_total: total,
    items_completed: completed,
    items_skipped_count: skipped.length,
    items_skipped: skipped.map((s) => s.item),
    skipped,
    failed_verifications: failedChecks(state, events),
    retries: retries(state, events),
    learnings,
  };
}

/**
 * The anonymous record, built from the process record by an allowlist: counts, enums, the tool's
 * version, and phase/item ids only where the bundled default defines them. Task text, notes, skip
 * reasons, commands, paths and ids the user made up never get here.
 */
export function deriveToolFeedback(
  p: ProcessFeedback,
  input: Pick<DeriveInput, 'state' | 'definition' | 'events'>,
  vocab: DefaultVocabulary,
  version: string,
): ToolFeedback {
  const events = input.events.filter((e) => e.workflow_id === input.state.workflow_id);
  const phases: Record<string, number> = {};
  for (const [id, s] of Object.entries(p.phases)) if (vocab.phases.has(id)) phases[id] = s;
  const verificationTypes: Record<string, number> = {};
  for (const t of VERIFICATION_TYPES) verificationTypes[t] = 0;
  for (const phase of input.definition.phases) {
    for (const item of phase.items) {
      const t = item.verification.type;
      if (t in verificationTypes) verificationTypes[t]!++;
    }
  }
  const exitCodes: Record<string, number> = {};
  for (const e of events) {
    if (e.event_type !== 'verification_failed') continue;
    const code = (e.details as Record<string, unknown> | undefined)?.exit_code;
    if (Number.isInteger(code)) exitCodes[String(code)] = (exitCodes[String(code)] ?? 0) + 1;
  }
  const eventCounts: Record<string, number> = {};
  for (const e of events) {
    if (typeof e.event_type === 'string' && KNOWN_EVENTS.has(e.event_type)) eventCounts[e.event_type] = (eventCounts[e.event_type] ?? 0) + 1;
  }
  const meta = input.state.metadata ?? {};
  const fromDefault = meta.workflow_yaml_path === '(bundled default)' || meta.workflow_yaml_checksum === vocab.checksum;
  return {
    schema: TOOL_SCHEMA,
    timestamp: p.timestamp,
    capture_id: p.capture_id,
    orchestrator_version: version,
    mode: p.mode,
    status: p.status,
    workflow_source: fromDefault ? 'default' : 'custom',
    duration_seconds: p.duration_seconds,
    phases_total: Object.keys(input.state.phases).length,
    phases,
    items_total: p.items_total,
    items_completed: p.items_completed,
    items_skipped_count: p.items_skipped_count,
    items_skipped: p.items_skipped.filter((id) => vocab.items.has(id)),
    forced_skips: p.skipped.filter((s) => s.forced).length,
    verification_types: verificationTypes,
    failed_verifications_count: p.failed_verifications.reduce((n, f) => n + f.count, 0),
    timed_out_count: p.failed_verifications.reduce((n, f) => n + f.timed_out, 0),
    retries: p.retries,
    exit_codes: exitCodes,
    events: eventCounts,
  };
}

/** Phases in definition order, then any the state has that the definition lacks. */
function orderedPhases(state: WorkflowState, def: WorkflowDefinition): [string, WorkflowState['phases'][string]][] {
  const ids = [...def.phases.map((p) => p.id).filter((id) => id in state.phases), ...Object.keys(state.phases)];
  return [...new Set(ids)].map((id) => [id, state.phases[id]!]);
}

function stepTypeOf(def: WorkflowDefinition, itemId: string): string | null {
  for (const p of def.phases) for (const it of p.items) if (it.id === itemId) return it.step_type;
  return null;
}

/**
 * Start: the state's created_at, else the first event. End: when it completed or was abandoned;
 * for a workflow still running, its latest event (or last update): capture time is not work time.
 */
function span(state: WorkflowState, events: readonly Partial<LogEvent>[]): { startedAt: string | null; endedAt: string | null } {
  const stamps = events.map((e) => e.timestamp).filter((t): t is string => typeof t === 'string' && !Number.isNaN(Date.parse(t)));
  const startedAt = state.created_at ?? stamps[0] ?? null;
  const abandoned = [...events].reverse().find((e) => e.event_type === 'workflow_abandoned')?.timestamp;
  const endedAt =
    (state.status === 'completed' ? state.completed_at : null) ??
    (state.status === 'abandoned' ? abandoned : null) ??
    stamps.at(-1) ??
    state.updated_at ??
    null;
  return { startedAt, endedAt };
}

function seconds(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  const a = Date.parse(from);
  const b = Date.parse(to);
  if (Number.isNaN(a) || Number.isNaN(b) || b < a) return null;
  return Math.round((b - a) / 1000);
}

function phaseDurations(state: WorkflowState, def: WorkflowDefinition, endedAt: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, phase] of orderedPhases(state, def)) {
    if (!phase.started_at) continue;
    const s = seconds(phase.started_at, phase.completed_at ?? endedAt);
    if (s !== null) out[id] = s;
  }
  return out;
}

const ATTEMPT_EVENTS = new Set(['verification_passed', 'verification_failed', 'item_completed']);

function failedChecks(state: WorkflowState, events: readonly Partial<LogEvent>[]): FailedCheck[] {
  const byItem = new Map<string, FailedCheck>();
  for (const e of events) {
    if (e.event_type !== 'verification_failed' || typeof e.item_id !== 'string') continue;
    const d = (e.details ?? {}) as Record<string, unknown>;
    const f = byItem.get(e.item_id) ?? {
      phase: e.phase_id ?? null,
      item: e.item_id,
      type: null,
      count: 0,
      last_exit_code: null,
      timed_out: 0,
      passed_later: false,
    };
    f.count++;
    if (typeof d.type === 'string') f.type = d.type;
    f.last_exit_code = Number.isInteger(d.exit_code) ? (d.exit_code as number) : null;
    if (d.timed_out === true) f.timed_out++;
    byItem.set(e.item_id, f);
  }
  // A failed result kept in the state with no event for it (an older writer) still counts once.
  for (const [phaseId, phase] of Object.entries(state.phases)) {
    for (const [itemId, item] of Object.entries(phase.items)) {
      const vr = item.verification_result as Record<string, unknown> | null | undefined;
      if (vr && vr.passed === false && !byItem.has(itemId)) {
        byItem.set(itemId, {
          phase: phaseId,
          item: itemId,
          type: typeof vr.type === 'string' ? vr.type : null,
          count: 1,
          last_exit_code: Number.isInteger(vr.exit_code) ? (vr.exit_code as number) : null,
          timed_out: vr.timed_out === true ? 1 : 0,
          passed_later: false,
        });
      }
    }
  }
  const status = itemStatuses(state);
  for (const f of byItem.values()) f.passed_later = status.get(f.item) === 'completed';
  return [...byItem.values()];
}

/**
 * A retry is an attempt after a failed one: per item, the failures followed by another attempt,
 * or the state's retry_count when that says more (the Python tool's field).
 */
function retries(state: WorkflowState, events: readonly Partial<LogEvent>[]): number {
  const perItem = new Map<string, { failures: number; lastFailed: boolean }>();
  for (const e of events) {
    if (typeof e.item_id !== 'string' || !ATTEMPT_EVENTS.has(String(e.event_type))) continue;
    const r = perItem.get(e.item_id) ?? { failures: 0, lastFailed: false };
    if (e.event_type === 'verification_failed') r.failures++;
    r.lastFailed = e.event_type === 'verification_failed';
    perItem.set(e.item_id, r);
  }
  let total = 0;
  for (const phase of Object.values(state.phases)) {
    for (const [itemId, item] of Object.entries(phase.items)) {
      const r = perItem.get(itemId);
      const fromLog = r ? r.failures - (r.lastFailed ? 1 : 0) : 0;
      total += Math.max(fromLog, typeof item.retry_count === 'number' ? item.retry_count : 0);
    }
  }
  return total;
}

function itemStatuses(state: WorkflowState): Map<string, string> {
  const m = new Map<string, string>();
  for (const phase of Object.values(state.phases)) for (const [id, it] of Object.entries(phase.items)) m.set(id, it.status);
  return m;
}

/**
 * Same workflow, same state content, same number of its events: same id. The state's checksum
 * covers its content; the event count catches log-only additions.
 */
function captureId(state: WorkflowState, eventCount: number): string {
  const content = state._checksum ?? createHash('sha256').update(JSON.stringify(state)).digest('hex');
  return createHash('sha256').update(`${state.workflow_id}\0${content}\0${eventCount}`).digest('hex').slice(0, 16);
}
