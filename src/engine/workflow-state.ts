// The workflow state document: field names of the Python tool (CONTRACT §3) so its files load and
// ours load in it. Unknown fields are kept: a round trip through this tool never drops data.
import * as z from 'zod/mini';

export const ITEM_STATUSES = ['pending', 'in_progress', 'completed', 'skipped', 'blocked', 'failed'] as const;
export const WORKFLOW_STATUSES = ['active', 'completed', 'abandoned', 'paused'] as const;

const nullableString = z.optional(z.nullable(z.string()));

export const VerificationResultSchema = z.looseObject({
  type: z.string(),
  passed: z.boolean(),
  exit_code: z.optional(z.nullable(z.number())),
  output_tail: z.optional(z.string()),
  duration_ms: z.optional(z.number()),
  command: z.optional(z.array(z.string())),
  path: z.optional(z.string()),
  timed_out: z.optional(z.boolean()),
  checked_at: z.optional(z.string()),
});
export type VerificationResult = z.infer<typeof VerificationResultSchema>;

export const ItemStateSchema = z.looseObject({
  id: z.string(),
  status: z.enum(ITEM_STATUSES),
  started_at: nullableString,
  completed_at: nullableString,
  skipped_at: nullableString,
  skip_reason: nullableString,
  notes: nullableString,
  verification_result: z.optional(z.nullable(z.unknown())),
  retry_count: z.optional(z.number()),
});
export type ItemState = z.infer<typeof ItemStateSchema>;

export const PhaseStateSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  started_at: nullableString,
  completed_at: nullableString,
  items: z.record(z.string(), ItemStateSchema),
});
export type PhaseState = z.infer<typeof PhaseStateSchema>;

export const WorkflowStateSchema = z.looseObject({
  workflow_id: z.string(),
  workflow_type: nullableString,
  workflow_version: nullableString,
  task_description: z.string(),
  status: z.enum(WORKFLOW_STATUSES),
  current_phase_id: z.nullable(z.string()),
  phases: z.record(z.string(), PhaseStateSchema),
  created_at: nullableString,
  updated_at: nullableString,
  completed_at: nullableString,
  metadata: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
  workflow_definition: z.optional(z.nullable(z.unknown())),
  _version: z.optional(z.string()),
  _checksum: z.optional(z.string()),
  _updated_at: z.optional(z.string()),
});
export type WorkflowState = z.infer<typeof WorkflowStateSchema>;

/** The layout version written into `_version`; the Python tool's v3 uses the same value. */
export const STATE_VERSION = '3.0';

/** One log line, in the Python tool's shape. */
export interface LogEvent {
  timestamp: string;
  event_type: string;
  workflow_id: string | null;
  phase_id: string | null;
  item_id: string | null;
  message: string;
  details: Record<string, unknown>;
  actor: string;
}
