// `feedback capture`: derives both records from the chosen session's state and log and appends
// each to its file under the repo lock. A file that already holds a record with the same
// capture_id (same workflow, same state, same events) gets nothing, so capturing twice without a
// change writes nothing, and a capture cut short between the two files is completed next time.
import { NoWorkflowError } from '../errors.ts';
import { bundledDefinition } from '../engine/load-definition.ts';
import type { LogEvent } from '../engine/workflow-state.ts';
import { readTextIfExists } from '../store/file-reads.ts';
import { appendJsonLines, parseJsonLines } from '../store/jsonl.ts';
import { checksumError } from '../store/state-file.ts';
import { openWorkflow, underRepoLock, type OpenWorkflow, type RepoContext } from '../store/workflow-session.ts';
import { VERSION } from '../version.ts';
import {
  deriveProcessFeedback,
  deriveToolFeedback,
  type CaptureMode,
  type DefaultVocabulary,
  type ProcessFeedback,
  type ToolFeedback,
} from './derive.ts';
import { feedbackFiles, feedbackSkipped, type FeedbackFiles } from './files.ts';

export interface CaptureResult {
  outcome: 'captured' | 'unchanged' | 'disabled' | 'no_workflow';
  files: FeedbackFiles;
  /** The files a line was appended to. */
  written: string[];
  process: ProcessFeedback | null;
  tool: ToolFeedback | null;
}

/**
 * Captures feedback for the chosen session's workflow. With ORCHESTRATOR_SKIP_FEEDBACK it touches
 * nothing. In auto mode a repo without a workflow is "nothing to capture", not an error.
 */
export function captureFeedback(ctx: RepoContext, mode: CaptureMode): CaptureResult {
  const files = feedbackFiles(ctx);
  const none = (outcome: CaptureResult['outcome']): CaptureResult => ({ outcome, files, written: [], process: null, tool: null });
  if (feedbackSkipped(ctx.env)) return none('disabled');
  // Checked before locking: taking the lock creates locks/, and "nothing to capture" changes nothing.
  try {
    verified(openWorkflow(ctx));
  } catch (err) {
    if (mode === 'auto' && err instanceof NoWorkflowError) return none('no_workflow');
    throw err;
  }
  const vocab = defaultVocabulary();
  return underRepoLock(ctx, () => {
    const wf = verified(openWorkflow(ctx));
    const input = {
      state: wf.loaded.state,
      definition: wf.definition,
      events: readEvents(wf.session.log, ctx.paths.rel(wf.session.log)),
      sessionId: wf.choice.id,
      mode,
      now: ctx.now(),
    };
    const process = deriveProcessFeedback(input);
    const tool = deriveToolFeedback(process, input, vocab, VERSION);
    const written: string[] = [];
    for (const [path, record] of [
      [files.process, process],
      [files.tool, tool],
    ] as const) {
      if (holdsCapture(path, record.capture_id, ctx.paths.rel(path))) continue;
      appendJsonLines(path, [record]);
      written.push(path);
    }
    return { outcome: written.length ? 'captured' : 'unchanged', files, written, process, tool };
  });
}

function verified(wf: OpenWorkflow): OpenWorkflow {
  if (wf.loaded.checksumProblem) throw checksumError(wf.stateShown, wf.loaded.checksumProblem);
  return wf;
}

/** Ids of the bundled default workflow: tool feedback names no phase or item outside them. */
export function defaultVocabulary(): DefaultVocabulary {
  const { definition, checksum } = bundledDefinition();
  return {
    phases: new Set(definition.phases.map((p) => p.id)),
    items: new Set(definition.phases.flatMap((p) => p.items.map((i) => i.id))),
    checksum,
  };
}

/** The session log's events; lines that do not parse are left out (doctor reports them). */
function readEvents(path: string, shown: string): Partial<LogEvent>[] {
  return parseJsonLines(readTextIfExists(path, shown) ?? '')
    .records.map((r) => r.value)
    .filter((v): v is Partial<LogEvent> => typeof v === 'object' && v !== null && !Array.isArray(v));
}

function holdsCapture(path: string, captureId: string, shown: string): boolean {
  return parseJsonLines(readTextIfExists(path, shown) ?? '').records.some((r) => (r.value as { capture_id?: unknown } | null)?.capture_id === captureId);
}

