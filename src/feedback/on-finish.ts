// The capture `finish` runs by itself. The workflow is finished whatever happens here: a failure
// becomes one notice, never an error of `finish`.
import type { RepoContext } from '../store/workflow-session.ts';
import { captureFeedback } from './capture.ts';

export function captureOnFinish(ctx: RepoContext): string | null {
  try {
    captureFeedback(ctx, 'auto');
    return null;
  } catch (err) {
    const why = String((err as Error)?.message ?? err).split('\n')[0];
    return `feedback was not captured (${why}); the workflow is finished all the same; capture it with: orchestrator feedback capture`;
  }
}
