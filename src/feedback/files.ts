// Where feedback lives (CONTRACT §1): .orchestrator/feedback/{process,tool}.jsonl, or, in legacy
// mode, the Python tool's files in the repo root. Resolution only.
import { join } from 'node:path';
import type { RepoContext } from '../store/workflow-session.ts';
import type { RepoPaths } from '../store/paths.ts';

export interface FeedbackFiles {
  process: string;
  tool: string;
}

export function feedbackFiles(ctx: Pick<RepoContext, 'paths' | 'legacy'>): FeedbackFiles {
  if (ctx.legacy) {
    return { process: join(ctx.paths.root, '.workflow_process_feedback.jsonl'), tool: join(ctx.paths.root, '.workflow_tool_feedback.jsonl') };
  }
  const dir = join(ctx.paths.container, 'feedback');
  return { process: join(dir, 'process.jsonl'), tool: join(dir, 'tool.jsonl') };
}

export type SourceKind = 'process' | 'tool' | 'combined';

/**
 * Every file `feedback review` reads, ours first. `combined` is the Python tool's first format
 * (.workflow_feedback.jsonl, migrated to feedback/workflow.jsonl); its tool files are read for
 * the skip lists it kept there.
 */
export function reviewSources(paths: RepoPaths): { path: string; kind: SourceKind }[] {
  const dir = join(paths.container, 'feedback');
  return [
    { path: join(dir, 'process.jsonl'), kind: 'process' },
    { path: join(dir, 'tool.jsonl'), kind: 'tool' },
    { path: join(dir, 'workflow.jsonl'), kind: 'combined' },
    { path: join(paths.root, '.workflow_process_feedback.jsonl'), kind: 'process' },
    { path: join(paths.root, '.workflow_tool_feedback.jsonl'), kind: 'tool' },
    { path: join(paths.root, '.workflow_feedback.jsonl'), kind: 'combined' },
  ];
}

const MEANS_NO = new Set(['', '0', 'false', 'no', 'off']);

/** ORCHESTRATOR_SKIP_FEEDBACK set to anything but an explicit "no" turns capture off (as in the Python tool). */
export function feedbackSkipped(env: NodeJS.ProcessEnv): boolean {
  const v = env.ORCHESTRATOR_SKIP_FEEDBACK;
  return v !== undefined && !MEANS_NO.has(v.trim().toLowerCase());
}
