// Throwaway repositories for the bench: real git repos with a real workflow started by the bundle
// under test, a session log grown to a given number of Python-shaped events, and a workflow with
// many `none` items for `complete` round trips.
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MeasurementError } from './measure.ts';

/** Environment for every child: no colour, CI (never a prompt), no ORCHESTRATOR_* or NODE_OPTIONS leaking in. */
export function benchEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: 'true' };
  for (const k of Object.keys(env)) if (k.startsWith('ORCHESTRATOR_')) delete env[k];
  delete env.NODE_OPTIONS;
  env.ORCHESTRATOR_HOME = home;
  return env;
}

function git(cwd: string, args: string[]): void {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new MeasurementError(`git ${args.join(' ')}: ${r.error?.message ?? r.stderr.trim()}`);
}

/** A git repository with one (empty) commit, like a user's project. */
export function makeGitRepo(dir: string): string {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.invalid', 'commit', '-q', '--allow-empty', '-m', 'root']);
  return dir;
}

/** Runs the bundle for setup (not timed); throws when it does not exit as expected. */
export function cli(bin: string, cwd: string, env: NodeJS.ProcessEnv, args: string[], expectCode = 0): string {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  if (r.status !== expectCode) {
    throw new MeasurementError(`setup: orchestrator ${args.join(' ')} in ${cwd}: exit ${r.status ?? r.signal}, expected ${expectCode}: ${(r.stderr || r.error?.message || '').trim()}`);
  }
  return r.stdout;
}

export function sessionDir(repo: string): string {
  const id = readFileSync(join(repo, '.orchestrator', 'current'), 'utf8').trim();
  return join(repo, '.orchestrator', 'sessions', id);
}

/**
 * A repo running the Python tool's 6-phase default workflow, started, with a few PLAN items done:
 * the state `status` reads is the size and shape a real user has.
 */
export function startedPythonWorkflowRepo(dir: string, bin: string, env: NodeJS.ProcessEnv, workflowYaml: string): string {
  makeGitRepo(dir);
  copyFileSync(workflowYaml, join(dir, 'workflow.yaml'));
  cli(bin, dir, env, ['start', 'Add user authentication']);
  cli(bin, dir, env, ['complete', 'check_roadmap', '--notes', 'Reviewed ROADMAP.md; auth is item CORE-7']);
  cli(bin, dir, env, ['complete', 'clarifying_questions', '--notes', 'Asked 3 questions about session storage and OAuth providers']);
  cli(bin, dir, env, ['approve-item', 'questions_answered']);
  mkdirSync(join(dir, 'docs'), { recursive: true });
  writeFileSync(join(dir, 'docs', 'plan.md'), '# Plan\n\nAdd session-based authentication.\n');
  cli(bin, dir, env, ['complete', 'initial_plan', '--notes', 'Wrote docs/plan.md']);
  return dir;
}

/** A repo whose workflow has one phase of `count` items without verification, started. */
export function manyItemsRepo(dir: string, bin: string, env: NodeJS.ProcessEnv, count: number): { dir: string; itemIds: string[] } {
  makeGitRepo(dir);
  const itemIds = Array.from({ length: count }, (_, i) => `item_${String(i + 1).padStart(3, '0')}`);
  const items = itemIds
    .map((id, i) => `      - id: ${id}\n        name: "Step ${i + 1}"\n        description: "Do step ${i + 1} of the bench task."\n        verification:\n          type: none\n`)
    .join('');
  const yaml = `name: "Bench: many items"\nversion: "1.0"\ndescription: "One phase of items without verification, for complete round trips."\nsettings:\n  docs_dir: "docs"\nphases:\n  - id: WORK\n    name: "Work"\n    description: "Every item is completed once by the bench."\n    items:\n${items}  - id: WRAP\n    name: "Wrap up"\n    items:\n      - id: done\n        name: "Done"\n`;
  writeFileSync(join(dir, 'workflow.yaml'), yaml);
  cli(bin, dir, env, ['start', 'Bench complete round trips']);
  return { dir, itemIds };
}

// ---- a large, realistic session log -------------------------------------------------------------

/** Python's json.dumps with default separators (", " and ": ") and ensure_ascii=True. */
export function pyDumps(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(pyDumps).join(', ') + ']';
  return '{' + Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyDumps(k)}: ${pyDumps(x)}`).join(', ') + '}';
}

/** Python's datetime.isoformat() + "Z": microseconds. */
function pyTimestamp(ms: number, micro: number): string {
  return new Date(ms).toISOString().slice(0, 19) + '.' + String((ms % 1000) * 1000 + micro).padStart(6, '0') + 'Z';
}

interface DefShape {
  name?: string;
  phases?: { id: string; name?: string; items?: { id: string; step_type?: string; verification?: { type?: string } }[] }[];
}

/**
 * Grows the session log to `total` lines: history is written BEFORE the session's own events, so
 * the file still ends with the real workflow. The history replays whole workflows of the
 * session's definition (start, phases, items completed, skipped, verified) in the Python tool's
 * line shape, as a long-lived log accumulates them.
 */
export function growLog(sessionPath: string, total: number): { lines: number; bytes: number } {
  const logPath = join(sessionPath, 'log.jsonl');
  const state = JSON.parse(readFileSync(join(sessionPath, 'state.json'), 'utf8')) as { workflow_definition?: DefShape };
  const def = state.workflow_definition ?? {};
  const phases = (def.phases ?? []).map((p) => ({ id: p.id, name: p.name ?? p.id, items: p.items ?? [] }));
  if (phases.length === 0) throw new MeasurementError(`${sessionPath}/state.json has no workflow_definition to replay`);
  const own = readFileSync(logPath, 'utf8');
  const existing = own.split('\n').filter((l) => l.trim() !== '').length;
  let need = total - existing;
  const tmp = `${logPath}.bench-tmp`;
  writeFileSync(tmp, '');
  let t = Date.UTC(2025, 0, 6, 9, 0, 0);
  let seq = 0;
  let wfn = 0;
  const chunk: string[] = [];
  const flush = () => {
    if (chunk.length) appendFileSync(tmp, chunk.join('\n') + '\n');
    chunk.length = 0;
  };
  const emit = (workflowId: string, event: string, phase: string | null, item: string | null, message: string, details: Record<string, unknown>) => {
    if (need <= 0) return;
    t += 150 + ((seq * 7919) % 60000);
    seq++;
    chunk.push(
      pyDumps({
        timestamp: pyTimestamp(t, (seq * 337) % 1000),
        event_type: event,
        workflow_id: workflowId,
        phase_id: phase,
        item_id: item,
        message,
        details,
        actor: 'system',
      }),
    );
    need--;
    if (chunk.length >= 5000) flush();
  };
  while (need > 0) {
    wfn++;
    const wf = `wf_${((wfn * 2654435761) >>> 0).toString(16).padStart(8, '0').slice(0, 8)}`;
    const task = `Task ${wfn}: fix issue #${100 + wfn} in the API layer`;
    emit(wf, 'workflow_started', null, null, `Started workflow: ${task}`, { project: null, workflow_type: def.name ?? 'workflow' });
    for (const [pi, p] of phases.entries()) {
      emit(wf, 'phase_started', p.id, null, `Started phase: ${p.name}`, {});
      for (const [ii, it] of p.items.entries()) {
        const stepType = it.step_type ?? 'flexible';
        const vtype = it.verification?.type ?? 'none';
        if ((ii + wfn) % 5 === 4) {
          const reason = `Not applicable to this change: the task touches only internal code paths (workflow ${wfn}).`;
          emit(wf, 'skip_validated', p.id, it.id, 'Skip reasoning validated', { reason_length: reason.length });
          emit(wf, 'item_skipped', p.id, it.id, `Skipped item: ${it.id}`, { reason, step_type: stepType, forced: stepType === 'gate' });
          continue;
        }
        if (vtype === 'command' || vtype === 'file_exists') {
          emit(wf, 'verification_passed', p.id, it.id, `Verification passed for ${it.id}`, {
            type: vtype,
            exit_code: vtype === 'command' ? 0 : null,
            duration_ms: 1200 + ((seq * 31) % 9000),
          });
        }
        emit(wf, 'item_completed', p.id, it.id, `Completed item: ${it.id}`, {
          notes: `Done for workflow ${wfn}: checked ${it.id} against the plan and recorded the outcome`,
          step_type: stepType,
          has_evidence: vtype !== 'none',
        });
      }
      emit(wf, 'phase_completed', p.id, null, `Completed phase: ${p.name}`, { phase_index: pi });
    }
    emit(wf, 'workflow_completed', null, null, `Completed workflow: ${task}`, { summary: { phases: phases.length } });
  }
  flush();
  appendFileSync(tmp, own);
  renameSync(tmp, logPath);
  const lines = readFileSync(logPath, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
  return { lines, bytes: statSync(logPath).size };
}
