// What the next agent needs to take a workflow over, built from the state, its definition, the
// log's last events and the last checkpoint; rendered as compact Markdown. `resume` prints parts
// of it too. Long notes and reasons are cut in the Markdown only: --json keeps them whole.
import type { WorkflowDefinition } from '../engine/definition.ts';
import type { WorkflowState } from '../engine/workflow-state.ts';
import { describeCheck, type WorkflowView } from './workflow-view.ts';

export interface DoneItem {
  phase: string;
  id: string;
  name: string;
  notes: string | null;
  completed_at: string | null;
}

export interface SkippedItem {
  phase: string;
  id: string;
  name: string;
  reason: string | null;
}

export interface LeftItem {
  phase: string;
  id: string;
  name: string;
  status: string;
  required: boolean;
  /** Its verification: type, and the substituted path or command line. */
  verification: { type: string; check: string | null };
}

export interface ItemLists {
  done: DoneItem[];
  skipped: SkippedItem[];
  /**
   * Open items of the current and later phases of an active workflow (an earlier phase's open
   * optional items can no longer change, nor can anything of a finished workflow).
   */
  left: LeftItem[];
}

export interface RecentEvent {
  timestamp: string;
  event_type: string;
  phase_id: string | null;
  item_id: string | null;
  message: string;
}

export interface CheckpointBrief {
  id: string;
  timestamp: string | null;
  message: string | null;
  key_decisions: string[];
  files_changed: number;
  auto: boolean;
}

export interface Handoff {
  session_id: string;
  workflow_id: string;
  task: string;
  status: string;
  workflow: WorkflowView['workflow'];
  phase: WorkflowView['phase'];
  progress: WorkflowView['progress'];
  done: DoneItem[];
  skipped: SkippedItem[];
  left: LeftItem[];
  blockers: WorkflowView['blockers'];
  recent_events: RecentEvent[];
  last_checkpoint: CheckpointBrief | null;
  next: WorkflowView['next'];
  problems: string[];
}

export function itemLists(state: WorkflowState, def: WorkflowDefinition, vars: Record<string, string>): ItemLists {
  const out: ItemLists = { done: [], skipped: [], left: [] };
  const current = def.phases.findIndex((p) => p.id === state.current_phase_id);
  def.phases.forEach((phase, index) => {
    for (const item of phase.items) {
      const st = state.phases[phase.id]?.items[item.id];
      const status = st?.status ?? 'pending';
      if (status === 'completed') {
        out.done.push({ phase: phase.id, id: item.id, name: item.name, notes: st?.notes ?? null, completed_at: st?.completed_at ?? null });
      } else if (status === 'skipped') {
        out.skipped.push({ phase: phase.id, id: item.id, name: item.name, reason: st?.skip_reason ?? null });
      } else if (state.status === 'active' && index >= current) {
        out.left.push({
          phase: phase.id,
          id: item.id,
          name: item.name,
          status,
          required: item.required !== false,
          verification: { type: item.verification.type, check: describeCheck(item, vars) },
        });
      }
    }
  });
  return out;
}

/** One line, at most `max` characters. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

const NOTE_MAX = 240;

/** Events whose message only restates the type and the item or phase ("Completed item: x"). */
const SELF_EXPLAINING_EVENTS = new Set(['item_completed', 'item_skipped', 'phase_started', 'phase_completed', 'verification_passed']);

export function renderDone(items: DoneItem[]): string[] {
  return items.map((i) => `- ${i.phase} \`${i.id}\` ${i.name}${i.notes ? `: ${oneLine(i.notes, NOTE_MAX)}` : ''}`);
}

export function renderSkipped(items: SkippedItem[]): string[] {
  return items.map((i) => `- ${i.phase} \`${i.id}\` ${i.name}: ${i.reason ? oneLine(i.reason, NOTE_MAX) : '(no reason recorded)'}`);
}

function renderLeft(i: LeftItem): string {
  const v = i.verification;
  const check =
    v.type === 'file_exists'
      ? ` (file_exists: \`${v.check}\`)`
      : v.type === 'command'
        ? ` (command: \`${v.check}\`)`
        : v.type === 'manual_gate'
          ? ` (manual_gate: orchestrator approve-item ${i.id})`
          : '';
  const tags = [i.required ? '' : 'optional', i.status === 'pending' ? '' : i.status].filter(Boolean).join(', ');
  return `- ${i.phase} \`${i.id}\` ${i.name}${tags ? ` [${tags}]` : ''}${check}`;
}

export function renderHandoff(h: Handoff): string {
  const out: string[] = [];
  const section = (title: string, lines: string[]) => {
    if (lines.length) out.push('', `## ${title}`, ...lines);
  };
  out.push(`# Handoff: ${oneLine(h.task, 300)}`, '');
  out.push(`Workflow ${h.workflow.name} ${h.workflow.version} (${h.workflow_id}, session ${h.session_id}), status ${h.status}.`);
  const phase = h.phase ? `Phase ${h.phase.id} ${h.phase.name} (${h.phase.number} of ${h.phase.count}), ` : '';
  out.push(
    `${phase}${h.progress.phase_done} of ${h.progress.phase_total} items done or skipped in this phase, ${h.progress.done} of ${h.progress.total} overall.`,
  );
  section(`Done (${h.done.length})`, renderDone(h.done));
  section(`Skipped (${h.skipped.length})`, renderSkipped(h.skipped));
  section(`Left (${h.left.length})`, h.left.map(renderLeft));
  section('Blockers', h.blockers.map((b) => `- \`${b.item}\`: ${b.why}`));
  section(
    `Recent events (last ${h.recent_events.length})`,
    h.recent_events.map((e) => {
      const where = [e.phase_id, e.item_id].filter(Boolean).join('/');
      const message = SELF_EXPLAINING_EVENTS.has(e.event_type) || !e.message ? '' : `: ${oneLine(e.message, 100)}`;
      return `- ${e.timestamp} ${e.event_type}${where ? ` ${where}` : ''}${message}`;
    }),
  );
  const cp = h.last_checkpoint;
  if (cp) {
    section('Last checkpoint', [
      `\`${cp.id}\` (${cp.timestamp ?? 'no time'})${cp.message ? `: ${oneLine(cp.message, 200)}` : ''}; ${cp.files_changed} files changed`,
      ...cp.key_decisions.map((d) => `- decision: ${oneLine(d, NOTE_MAX)}`),
    ]);
  }
  section('Problems', h.problems.map((p) => `- ${p}`));
  section('Next', [`\`${h.next.command}\``, `(${h.next.why})`]);
  return out.join('\n') + '\n';
}
