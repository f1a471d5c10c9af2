// What an agent needs to see of a workflow: where it is, what is left, and the one next command.
// Built from state + definition only (no log, no YAML), so `status` stays cheap on huge logs.
import type { ItemDefinition, WorkflowDefinition } from '../engine/definition.ts';
import { substituteVars } from '../engine/definition.ts';
import { phaseBlockers, type Blocker } from '../engine/transitions.ts';
import type { WorkflowState } from '../engine/workflow-state.ts';

export interface ItemView {
  id: string;
  name: string;
  status: string;
  required: boolean;
  verification: string;
  /** What the verification checks, substituted: a path or a command line. */
  check: string | null;
  /** The other repo the check runs in (the item's `repo:`), or null for this one. */
  repo: string | null;
  notes: string | null;
  skip_reason: string | null;
}

export interface WorkflowView {
  session_id: string;
  workflow_id: string;
  task: string;
  status: string;
  workflow: { name: string; version: string };
  phase: { id: string; name: string; number: number; count: number } | null;
  progress: { phase_done: number; phase_total: number; done: number; total: number };
  items: ItemView[];
  blockers: Blocker[];
  next: { command: string; why: string };
  problems: string[];
}

const DONE = new Set(['completed', 'skipped']);

export function describeCheck(item: ItemDefinition, vars: Record<string, string>): string | null {
  const v = item.verification;
  if (v.type === 'file_exists') return substituteVars(v.path ?? '', vars);
  if (v.type === 'command') return substituteVars(v.command ?? '', vars);
  return null;
}

export function buildView(sessionId: string, state: WorkflowState, def: WorkflowDefinition, vars: Record<string, string>, problems: string[] = []): WorkflowView {
  const phaseIdx = def.phases.findIndex((p) => p.id === state.current_phase_id);
  const phase = def.phases[phaseIdx];
  const phaseState = phase ? state.phases[phase.id] : undefined;
  const items: ItemView[] = (phase?.items ?? []).map((it) => {
    const st = phaseState?.items[it.id];
    return {
      id: it.id,
      name: it.name,
      status: st?.status ?? 'pending',
      required: it.required !== false,
      verification: it.verification.type,
      check: describeCheck(it, vars),
      repo: it.repo ?? null,
      notes: typeof st?.notes === 'string' ? st.notes : null,
      skip_reason: typeof st?.skip_reason === 'string' ? st.skip_reason : null,
    };
  });
  let done = 0;
  let total = 0;
  for (const p of def.phases) {
    for (const it of p.items) {
      total++;
      if (DONE.has(state.phases[p.id]?.items[it.id]?.status ?? '')) done++;
    }
  }
  const blockers = state.status === 'active' ? phaseBlockers(state, def) : [];
  return {
    session_id: sessionId,
    workflow_id: state.workflow_id,
    task: state.task_description,
    status: state.status,
    workflow: { name: def.name, version: def.version },
    phase: phase ? { id: phase.id, name: phase.name, number: phaseIdx + 1, count: def.phases.length } : null,
    progress: {
      phase_done: items.filter((i) => DONE.has(i.status)).length,
      phase_total: items.length,
      done,
      total,
    },
    items,
    blockers,
    next: nextStep(state, def, items, problems),
    problems,
  };
}

function nextStep(state: WorkflowState, def: WorkflowDefinition, items: ItemView[], problems: string[]): WorkflowView['next'] {
  if (problems.length > 0) return { command: 'orchestrator doctor', why: 'the state has a problem; doctor explains it' };
  if (state.status !== 'active') return { command: 'orchestrator start "NEXT TASK"', why: `this workflow is ${state.status}` };
  const open = items.find((i) => i.required && !DONE.has(i.status));
  if (open) {
    if (open.verification === 'manual_gate') {
      return { command: `orchestrator approve-item ${open.id}`, why: `"${open.name}" is a manual gate: a human must approve it` };
    }
    const how =
      open.verification === 'file_exists'
        ? `create ${open.check} first`
        : open.verification === 'command'
          ? `its check runs: ${open.check}`
          : 'do the work first';
    return { command: `orchestrator complete ${open.id} --notes "WHAT YOU DID"`, why: `"${open.name}": ${how}` };
  }
  const isLast = def.phases.at(-1)?.id === state.current_phase_id;
  return isLast
    ? { command: 'orchestrator finish', why: 'every required item of the last phase is done' }
    : { command: 'orchestrator advance', why: 'every required item of this phase is done' };
}

const MARK: Record<string, string> = { completed: '[x]', skipped: '[-]', pending: '[ ]', in_progress: '[~]', blocked: '[!]', failed: '[!]' };

export function renderView(v: WorkflowView): string {
  const lines: string[] = [];
  lines.push(`Task:     ${v.task}`);
  lines.push(`Status:   ${v.status} (workflow ${v.workflow.name} ${v.workflow.version}, ${v.workflow_id}, session ${v.session_id})`);
  if (v.phase) lines.push(`Phase:    ${v.phase.id} - ${v.phase.name} (phase ${v.phase.number} of ${v.phase.count})`);
  lines.push(
    `Progress: ${v.progress.phase_done} of ${v.progress.phase_total} items done or skipped in this phase; ${v.progress.done} of ${v.progress.total} overall`,
  );
  if (v.items.length) {
    lines.push('Items:');
    const w = Math.max(...v.items.map((i) => i.id.length));
    for (const i of v.items) {
      const extra: string[] = [];
      if (!i.required) extra.push('optional');
      if (i.verification === 'manual_gate') extra.push('manual gate');
      if (i.verification === 'file_exists') extra.push(`file: ${i.check}`);
      if (i.verification === 'command') extra.push(`runs: ${i.check}`);
      if (i.repo && (i.verification === 'file_exists' || i.verification === 'command')) extra.push(`in repo ${i.repo}`);
      if (i.skip_reason) extra.push(`skipped: ${i.skip_reason}`);
      lines.push(`  ${MARK[i.status] ?? '[?]'} ${i.id.padEnd(w)}  ${i.name}${extra.length ? ` (${extra.join('; ')})` : ''}`);
    }
  }
  if (v.blockers.length) {
    lines.push('Blockers:');
    for (const b of v.blockers) lines.push(`  ${b.item}: ${b.why}`);
  }
  for (const p of v.problems) lines.push(`PROBLEM: ${p}`);
  lines.push(`NEXT: ${v.next.command}`);
  lines.push(`      (${v.next.why})`);
  return lines.join('\n') + '\n';
}
