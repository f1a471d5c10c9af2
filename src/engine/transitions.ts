// The state machine: pure functions from (state, definition, input) to (new state, log events).
// No I/O here, so every rule is testable on plain objects and the commands stay thin.
import {
  NoWorkflowError,
  PhaseIncompleteError,
  SkipRefusedError,
  UnknownItemError,
  UsageError,
  WorkflowStateConflictError,
  WrongPhaseError,
} from '../errors.ts';
import { randomHex } from '../store/random-id.ts';
import { findItem, type ItemDefinition, type PhaseDefinition, type WorkflowDefinition } from './definition.ts';
import type { ItemState, LogEvent, PhaseState, VerificationResult, WorkflowState } from './workflow-state.ts';
import { STATE_VERSION } from './workflow-state.ts';

export interface Transition {
  state: WorkflowState;
  events: LogEvent[];
}

export interface Clock {
  now: string;
}

function event(
  clock: Clock,
  state: Pick<WorkflowState, 'workflow_id'>,
  event_type: string,
  message: string,
  fields: { phase_id?: string | null; item_id?: string | null; details?: Record<string, unknown> } = {},
): LogEvent {
  return {
    timestamp: clock.now,
    event_type,
    workflow_id: state.workflow_id,
    phase_id: fields.phase_id ?? null,
    item_id: fields.item_id ?? null,
    message,
    details: fields.details ?? {},
    actor: 'system',
  };
}

function newItemState(id: string): ItemState {
  return {
    id,
    status: 'pending',
    started_at: null,
    completed_at: null,
    skipped_at: null,
    skip_reason: null,
    skip_context_considered: null,
    notes: null,
    verification_result: null,
    retry_count: 0,
    files_modified: null,
    evidence: null,
    gate_result: null,
  };
}

export interface StartInput extends Clock {
  task: string;
  definition: WorkflowDefinition;
  /** Where the definition came from, for `metadata` (relative path or "(bundled default)"). */
  source: string;
  sourceChecksum: string;
  /** The commit HEAD points at, when known: what a checkpoint's file manifest is diffed against. */
  gitHead?: string | null;
}

export function startWorkflow(input: StartInput): Transition {
  const def = input.definition;
  const first = def.phases[0];
  if (!first) throw new UsageError('the workflow has no phases; add at least one under phases:');
  const phases: Record<string, PhaseState> = {};
  for (const p of def.phases) {
    const items: Record<string, ItemState> = {};
    for (const it of p.items) items[it.id] = newItemState(it.id);
    phases[p.id] = {
      id: p.id,
      status: p.id === first.id ? 'active' : 'pending',
      started_at: p.id === first.id ? input.now : null,
      completed_at: null,
      items,
    };
  }
  const state: WorkflowState = {
    workflow_id: 'wf_' + randomHex(4),
    workflow_type: def.name,
    workflow_version: def.version,
    task_description: input.task,
    project: null,
    status: 'active',
    current_phase_id: first.id,
    phases,
    created_at: input.now,
    updated_at: input.now,
    completed_at: null,
    metadata: {
      workflow_yaml_path: input.source,
      workflow_yaml_checksum: input.sourceChecksum,
      ...(input.gitHead ? { git_head_at_start: input.gitHead } : {}),
    },
    workflow_definition: def,
    constraints: [],
    _version: STATE_VERSION,
  };
  return {
    state,
    events: [
      event(input, state, 'workflow_started', `Started workflow: ${input.task}`, {
        details: { project: null, workflow_type: def.name },
      }),
      event(input, state, 'phase_started', `Started phase: ${first.name}`, { phase_id: first.id }),
    ],
  };
}

/** Where an item lives, in both the definition and the state. */
export interface ItemRef {
  phase: PhaseDefinition;
  item: ItemDefinition;
  phaseState: PhaseState;
  itemState: ItemState;
}

export function requireActive(state: WorkflowState): void {
  if (state.status !== 'active') {
    throw new WorkflowStateConflictError(
      `the workflow "${state.task_description}" is ${state.status}; start a new one with: orchestrator start "TASK"`,
    );
  }
}

export function locateItem(state: WorkflowState, def: WorkflowDefinition, itemId: string): ItemRef {
  const found = findItem(def, itemId);
  const phaseState = found ? state.phases[found.phase.id] : undefined;
  const itemState = phaseState?.items[itemId];
  if (found && phaseState && itemState) return { phase: found.phase, item: found.item, phaseState, itemState };
  const known = def.phases.find((p) => p.id === state.current_phase_id)?.items.map((i) => i.id) ?? [];
  throw new UnknownItemError(
    `unknown item "${itemId}"; items of the current phase: ${known.join(', ') || '(none)'} (see: orchestrator status)`,
    { item: itemId },
  );
}

/** Items may only change while their phase is the current one. */
export function requireCurrentPhase(state: WorkflowState, ref: ItemRef): void {
  if (ref.phase.id !== state.current_phase_id) {
    throw new WrongPhaseError(
      `item "${ref.item.id}" belongs to phase ${ref.phase.id}, but the current phase is ${state.current_phase_id}; finish this phase first (see: orchestrator status)`,
      { item: ref.item.id, item_phase: ref.phase.id, current_phase: state.current_phase_id },
    );
  }
}

function requireOpen(ref: ItemRef): void {
  const s = ref.itemState.status;
  if (s === 'completed' || s === 'skipped') {
    throw new WorkflowStateConflictError(`item "${ref.item.id}" is already ${s}; nothing to do (see: orchestrator status)`, {
      item: ref.item.id,
      status: s,
    });
  }
}

/** Validates `complete ITEM` before any verification runs. */
export function checkCompletable(state: WorkflowState, def: WorkflowDefinition, itemId: string): ItemRef {
  requireActive(state);
  const ref = locateItem(state, def, itemId);
  requireCurrentPhase(state, ref);
  requireOpen(ref);
  if (ref.item.verification.type === 'manual_gate') {
    throw new WorkflowStateConflictError(
      `item "${itemId}" is a manual gate: a human approves it with: orchestrator approve-item ${itemId}`,
      { item: itemId },
    );
  }
  return ref;
}

function clone(state: WorkflowState): WorkflowState {
  return structuredClone(state);
}

export interface CompleteInput extends Clock {
  itemId: string;
  notes?: string | undefined;
  verification?: VerificationResult | undefined;
}

export function completeItem(state0: WorkflowState, def: WorkflowDefinition, input: CompleteInput): Transition {
  checkCompletable(state0, def, input.itemId);
  return markCompleted(state0, def, input, {});
}

function markCompleted(
  state0: WorkflowState,
  def: WorkflowDefinition,
  input: CompleteInput,
  extraDetails: Record<string, unknown>,
): Transition {
  const state = clone(state0);
  const ref = locateItem(state, def, input.itemId);
  const events: LogEvent[] = [];
  if (input.verification) {
    events.push(
      event(input, state, 'verification_passed', `Verification passed for ${ref.item.id}`, {
        phase_id: ref.phase.id,
        item_id: ref.item.id,
        details: { ...input.verification },
      }),
    );
    ref.itemState.verification_result = input.verification;
  }
  ref.itemState.status = 'completed';
  ref.itemState.completed_at = input.now;
  if (input.notes !== undefined) ref.itemState.notes = input.notes;
  state.updated_at = input.now;
  events.push(
    event(input, state, 'item_completed', `Completed item: ${ref.item.id}`, {
      phase_id: ref.phase.id,
      item_id: ref.item.id,
      details: { notes: input.notes ?? null, step_type: ref.item.step_type, ...extraDetails },
    }),
  );
  return { state, events };
}

export interface ApproveInput extends Clock {
  itemId: string;
  notes?: string | undefined;
}

export function approveItem(state0: WorkflowState, def: WorkflowDefinition, input: ApproveInput): Transition {
  requireActive(state0);
  const ref = locateItem(state0, def, input.itemId);
  requireCurrentPhase(state0, ref);
  requireOpen(ref);
  if (ref.item.verification.type !== 'manual_gate') {
    throw new UsageError(
      `item "${input.itemId}" is not a manual gate (its verification is ${ref.item.verification.type}); complete it with: orchestrator complete ${input.itemId}`,
    );
  }
  return markCompleted(state0, def, input, { approved: true, verification: 'manual_gate' });
}

/** Minimum reason lengths by step type, as the Python tool enforces them. */
export const SKIP_REASON_MIN: Record<string, number> = { gate: 50, documented: 50, flexible: 10 };

export interface SkipInput extends Clock {
  itemId: string;
  reason: string;
  force: boolean;
}

/** Validates `skip ITEM` without changing anything (also used by the command before locking). */
export function checkSkippable(state: WorkflowState, def: WorkflowDefinition, input: Omit<SkipInput, 'now'>): ItemRef {
  requireActive(state);
  const ref = locateItem(state, def, input.itemId);
  requireCurrentPhase(state, ref);
  requireOpen(ref);
  const item = ref.item;
  if (item.skippable === false || item.step_type === 'required') {
    throw new SkipRefusedError(
      `item "${item.id}" is required and cannot be skipped; do it, then run: orchestrator complete ${item.id}`,
      { item: item.id },
    );
  }
  if (item.step_type === 'gate' && !input.force) {
    throw new SkipRefusedError(
      `item "${item.id}" is a gate step: skipping it needs --force and a reason of at least ${SKIP_REASON_MIN.gate} characters`,
      { item: item.id },
    );
  }
  const min = SKIP_REASON_MIN[item.step_type] ?? 10;
  const reason = input.reason.trim();
  if (reason.length < min) {
    throw new SkipRefusedError(
      `a skip of "${item.id}" (${item.step_type} step) needs a reason of at least ${min} characters, got ${reason.length}; say why with --reason "..."`,
      { item: item.id, min },
    );
  }
  return ref;
}

export function skipItem(state0: WorkflowState, def: WorkflowDefinition, input: SkipInput): Transition {
  checkSkippable(state0, def, input);
  const state = clone(state0);
  const ref = locateItem(state, def, input.itemId);
  const reason = input.reason.trim();
  ref.itemState.status = 'skipped';
  ref.itemState.skipped_at = input.now;
  ref.itemState.skip_reason = reason;
  state.updated_at = input.now;
  return {
    state,
    events: [
      event(input, state, 'item_skipped', `Skipped item: ${ref.item.id}`, {
        phase_id: ref.phase.id,
        item_id: ref.item.id,
        details: { reason, step_type: ref.item.step_type, context_considered: null, force_skipped: input.force },
      }),
    ],
  };
}

export interface Blocker {
  item: string;
  status: string;
  why: string;
}

/** What stops the current phase from completing: required items neither completed nor skipped. */
export function phaseBlockers(state: WorkflowState, def: WorkflowDefinition, phaseId: string | null = state.current_phase_id): Blocker[] {
  const phase = def.phases.find((p) => p.id === phaseId);
  const phaseState = phaseId ? state.phases[phaseId] : undefined;
  if (!phase || !phaseState) return [];
  const out: Blocker[] = [];
  for (const item of phase.items) {
    if (item.required === false) continue;
    const st = phaseState.items[item.id]?.status ?? 'pending';
    if (st === 'completed' || st === 'skipped') continue;
    const why =
      item.verification.type === 'manual_gate'
        ? 'manual gate: needs orchestrator approve-item ' + item.id
        : item.verification.type === 'command'
          ? 'required; its command verification must pass'
          : item.verification.type === 'file_exists'
            ? 'required; its file must exist'
            : 'required';
    out.push({ item: item.id, status: st, why });
  }
  return out;
}

function requirePhaseDone(state: WorkflowState, def: WorkflowDefinition, verb: string): PhaseDefinition {
  requireActive(state);
  const idx = def.phases.findIndex((p) => p.id === state.current_phase_id);
  const phase = def.phases[idx];
  if (!phase) throw new NoWorkflowError(`the state names phase "${state.current_phase_id}", which the workflow does not define`);
  const blockers = phaseBlockers(state, def);
  if (blockers.length > 0) {
    throw new PhaseIncompleteError(
      `cannot ${verb}: phase ${phase.id} still needs ${blockers.map((b) => b.item).join(', ')}; complete or skip them first (see: orchestrator status)`,
      { phase: phase.id, blockers },
    );
  }
  return phase;
}

export function advancePhase(state0: WorkflowState, def: WorkflowDefinition, clock: Clock): Transition {
  const phase = requirePhaseDone(state0, def, 'advance');
  const idx = def.phases.indexOf(phase);
  const next = def.phases[idx + 1];
  if (!next) {
    throw new WorkflowStateConflictError(`${phase.id} is the last phase; end the workflow with: orchestrator finish`, {
      phase: phase.id,
    });
  }
  const state = clone(state0);
  const cur = state.phases[phase.id]!;
  cur.status = 'completed';
  cur.completed_at = clock.now;
  const nxt = state.phases[next.id];
  if (!nxt) throw new NoWorkflowError(`the state has no phase "${next.id}"; the workflow definition changed under it`);
  nxt.status = 'active';
  nxt.started_at = clock.now;
  state.current_phase_id = next.id;
  state.updated_at = clock.now;
  return {
    state,
    events: [
      event(clock, state, 'phase_completed', `Completed phase: ${phase.name}`, { phase_id: phase.id }),
      event(clock, state, 'phase_started', `Started phase: ${next.name}`, { phase_id: next.id }),
    ],
  };
}

export interface FinishInput extends Clock {
  abandon: boolean;
  reason?: string | undefined;
}

export function finishWorkflow(state0: WorkflowState, def: WorkflowDefinition, input: FinishInput): Transition {
  const state = clone(state0);
  if (input.abandon) {
    requireActive(state0);
    state.status = 'abandoned';
    state.updated_at = input.now;
    return {
      state,
      events: [
        event(input, state, 'workflow_abandoned', `Abandoned workflow: ${state.task_description}`, {
          phase_id: state.current_phase_id,
          details: { reason: input.reason ?? null },
        }),
      ],
    };
  }
  const phase = requirePhaseDone(state0, def, 'finish');
  const last = def.phases.at(-1)!;
  if (phase.id !== last.id) {
    throw new WrongPhaseError(
      `cannot finish in phase ${phase.id}: ${last.id} is the last phase; move on with: orchestrator advance`,
      { phase: phase.id, last_phase: last.id },
    );
  }
  const cur = state.phases[phase.id]!;
  cur.status = 'completed';
  cur.completed_at = input.now;
  state.status = 'completed';
  state.completed_at = input.now;
  state.updated_at = input.now;
  return {
    state,
    events: [
      event(input, state, 'phase_completed', `Completed phase: ${phase.name}`, { phase_id: phase.id }),
      event(input, state, 'workflow_completed', `Completed workflow: ${state.task_description}`, {
        details: { phases: def.phases.length },
      }),
    ],
  };
}
