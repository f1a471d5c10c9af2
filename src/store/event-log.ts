// The session event log (log.jsonl): appended, never rewritten.
import type { LogEvent } from '../engine/workflow-state.ts';
import { appendJsonLines } from './jsonl.ts';

export function appendEvents(logPath: string, events: readonly LogEvent[]): void {
  appendJsonLines(logPath, events);
}
