// The workflow rules on plain objects: no files, no processes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_WORKFLOW_YAML } from '../src/engine/default-workflow.ts';
import { loadDefinitionText } from '../src/engine/definition.ts';
import {
  advancePhase,
  approveItem,
  completeItem,
  finishWorkflow,
  phaseBlockers,
  skipItem,
  startWorkflow,
} from '../src/engine/transitions.ts';
import type { WorkflowState } from '../src/engine/workflow-state.ts';

const def = loadDefinitionText(DEFAULT_WORKFLOW_YAML, 'default');
const now = '2026-11-25T00:00:00.000Z';
const fresh = () => startWorkflow({ now, task: 'T', definition: def, source: 'x', sourceChecksum: 'y' }).state;
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'none';
};

test('start: first phase active, every item pending, Python event names', () => {
  const t = startWorkflow({ now, task: 'T', definition: def, source: 'x', sourceChecksum: 'y' });
  assert.equal(t.state.current_phase_id, 'PLAN');
  assert.equal(t.state.phases.PLAN!.status, 'active');
  assert.equal(t.state.phases.EXECUTE!.status, 'pending');
  assert.ok(Object.values(t.state.phases).every((p) => Object.values(p.items).every((i) => i.status === 'pending')));
  assert.deepEqual(t.events.map((e) => e.event_type), ['workflow_started', 'phase_started']);
  assert.match(t.state.workflow_id, /^wf_[0-9a-f]{8}$/);
});

test('transitions never mutate their input', () => {
  const s = fresh();
  const before = JSON.stringify(s);
  completeItem(s, def, { itemId: 'understand_task', now });
  assert.equal(JSON.stringify(s), before);
});

test('items of another phase cannot be completed; unknown items are named', () => {
  const s = fresh();
  assert.equal(code(() => completeItem(s, def, { itemId: 'implement', now })), 'WRONG_PHASE');
  assert.equal(code(() => completeItem(s, def, { itemId: 'nope', now })), 'UNKNOWN_ITEM');
});

test('a manual gate needs approve-item, and approve-item only takes gates', () => {
  const s = fresh();
  assert.equal(code(() => completeItem(s, def, { itemId: 'user_approval', now })), 'WORKFLOW_STATE_CONFLICT');
  assert.equal(code(() => approveItem(s, def, { itemId: 'understand_task', now })), 'USAGE');
  const t = approveItem(s, def, { itemId: 'user_approval', now });
  assert.equal(t.state.phases.PLAN!.items.user_approval!.status, 'completed');
});

test('skip: required items refused, reasons measured by step type, gates need force', () => {
  const s = fresh();
  assert.equal(code(() => skipItem(s, def, { itemId: 'initial_plan', reason: 'x'.repeat(80), force: true, now })), 'SKIP_REFUSED');
  assert.equal(code(() => skipItem(s, def, { itemId: 'understand_task', reason: 'too short', force: false, now })), 'SKIP_REFUSED');
  const ok = skipItem(s, def, { itemId: 'understand_task', reason: 'The task came with a complete written specification from the user.', force: false, now });
  assert.equal(ok.state.phases.PLAN!.items.understand_task!.status, 'skipped');
  assert.equal(ok.events[0]!.event_type, 'item_skipped');
});

test('advance needs every required item done; optional ones may stay open; finish only in the last phase', () => {
  let s: WorkflowState = fresh();
  assert.equal(code(() => advancePhase(s, def, { now })), 'PHASE_INCOMPLETE');
  assert.deepEqual(phaseBlockers(s, def).map((b) => b.item), ['understand_task', 'initial_plan', 'user_approval']);
  s = completeItem(s, def, { itemId: 'understand_task', now }).state;
  s = completeItem(s, def, { itemId: 'initial_plan', now }).state;
  s = approveItem(s, def, { itemId: 'user_approval', now }).state;
  assert.equal(code(() => finishWorkflow(s, def, { abandon: false, now })), 'WRONG_PHASE');
  const adv = advancePhase(s, def, { now });
  assert.deepEqual(adv.events.map((e) => e.event_type), ['phase_completed', 'phase_started']);
  s = adv.state;
  assert.equal(s.current_phase_id, 'EXECUTE');
  s = completeItem(s, def, { itemId: 'write_tests', now }).state;
  s = completeItem(s, def, { itemId: 'implement', now }).state;
  // update_docs is optional and still pending
  s = advancePhase(s, def, { now }).state;
  assert.equal(s.current_phase_id, 'REVIEW');
});

test('a completed item cannot be completed twice; an abandoned workflow takes no more changes', () => {
  let s = completeItem(fresh(), def, { itemId: 'understand_task', now }).state;
  assert.equal(code(() => completeItem(s, def, { itemId: 'understand_task', now })), 'WORKFLOW_STATE_CONFLICT');
  s = finishWorkflow(s, def, { abandon: true, reason: 'changed course', now }).state;
  assert.equal(s.status, 'abandoned');
  assert.equal(code(() => completeItem(s, def, { itemId: 'initial_plan', now })), 'WORKFLOW_STATE_CONFLICT');
});
