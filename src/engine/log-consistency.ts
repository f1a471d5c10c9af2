// Compares a session's log with its state. Commands append the log before they replace the state,
// so a crash between the two leaves an event whose change never landed; this finds it.
import type { WorkflowState } from './workflow-state.ts';

export interface LogMismatch {
  item: string;
  /** 1-based line of the event in log.jsonl. */
  line: number;
  event: string;
  stateStatus: string;
}

const ITEM_DONE_EVENTS: Record<string, string> = { item_completed: 'completed', item_skipped: 'skipped' };

export function eventsAheadOfState(state: WorkflowState, records: { line: number; value: unknown }[]): LogMismatch[] {
  const statusOf = new Map<string, string>();
  for (const phase of Object.values(state.phases)) for (const [id, it] of Object.entries(phase.items)) statusOf.set(id, it.status);
  const out: LogMismatch[] = [];
  for (const r of records) {
    const e = r.value as { event_type?: unknown; workflow_id?: unknown; item_id?: unknown };
    if (e?.workflow_id !== state.workflow_id) continue;
    // `resume` puts an earlier state back on purpose: what the log said before that is history.
    if (e.event_type === 'workflow_resumed') out.length = 0;
    if (typeof e.item_id !== 'string') continue;
    const wanted = ITEM_DONE_EVENTS[String(e.event_type)];
    const now = statusOf.get(e.item_id);
    if (wanted && now !== undefined && now !== wanted) {
      out.push({ item: e.item_id, line: r.line, event: String(e.event_type), stateStatus: now });
    }
  }
  return out;
}
