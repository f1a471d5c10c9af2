// Sessions: sessions/<id>/{meta.json,state.json,log.jsonl}, and `current` naming the active one.
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as z from 'zod/mini';
import { CorruptFileError, NoWorkflowError, UnknownSessionError, UsageError, environmentErrorFrom } from '../errors.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { readTextIfExists } from './file-reads.ts';
import { randomHex } from './random-id.ts';
import { isValidSessionId, type RepoPaths, type SessionPaths } from './paths.ts';

export const SessionMetaSchema = z.looseObject({
  session_id: z.string(),
  created_at: z.string(),
  repo_root: z.optional(z.string()),
  environment: z.optional(z.nullable(z.string())),
});
export type SessionMeta = z.infer<typeof SessionMetaSchema>;

/** `current`, without its (optional) trailing newline; null when absent or empty. */
export function readCurrentSessionId(paths: RepoPaths): string | null {
  const id = readTextIfExists(paths.current, paths.rel(paths.current))?.trim();
  if (id === undefined) return null;
  if (id === '') return null;
  if (!isValidSessionId(id)) {
    throw new CorruptFileError(`${paths.rel(paths.current)}: "${id.slice(0, 40)}" is not a session id; pick one with: orchestrator session switch ID`);
  }
  return id;
}

export function writeCurrentSessionId(paths: RepoPaths, id: string): void {
  writeFileAtomic(paths.current, id);
}

export interface SessionChoice {
  id: string | null;
  origin: '--session' | 'ORCHESTRATOR_SESSION' | 'current' | 'legacy' | 'none';
}

/** `--session`, else ORCHESTRATOR_SESSION, else `current` (CONTRACT §1). Reads only. */
export function chooseSession(paths: RepoPaths, flag: string | undefined, env: NodeJS.ProcessEnv): SessionChoice {
  const explicit = flag ?? env.ORCHESTRATOR_SESSION;
  if (explicit) {
    const origin = flag ? '--session' : 'ORCHESTRATOR_SESSION';
    if (!isValidSessionId(explicit)) throw new UsageError(`${origin}: "${explicit}" is not a valid session id; list them with: orchestrator session list`);
    if (!sessionExists(paths.session(explicit))) {
      throw new UnknownSessionError(`${origin}: no session "${explicit}" in ${paths.rel(paths.sessionsDir)}; list them with: orchestrator session list`);
    }
    return { id: explicit, origin };
  }
  const id = readCurrentSessionId(paths);
  return id ? { id, origin: 'current' } : { id: null, origin: 'none' };
}

/** No session is chosen: say whether there are sessions to switch to or none at all. */
export function noSessionError(paths: RepoPaths): NoWorkflowError {
  return listSessionIds(paths).length > 0
    ? new NoWorkflowError('no current session; pick one with: orchestrator session switch ID (see: orchestrator session list), or start a new workflow with: orchestrator start "TASK"')
    : new NoWorkflowError('no workflow in this repo yet; start one with: orchestrator start "TASK"');
}

export function sessionExists(s: SessionPaths): boolean {
  try {
    return statSync(s.dir).isDirectory();
  } catch {
    return false;
  }
}

export function newSessionId(): string {
  return randomHex(4);
}

export function createSession(paths: RepoPaths, now: string, environment: string): SessionPaths {
  let id = newSessionId();
  while (sessionExists(paths.session(id))) id = newSessionId();
  const s = paths.session(id);
  try {
    mkdirSync(s.dir, { recursive: true });
  } catch (err) {
    throw environmentErrorFrom(err, paths.rel(s.dir));
  }
  const meta: SessionMeta = { session_id: id, created_at: now, repo_root: '.', environment };
  writeFileAtomic(s.meta, JSON.stringify(meta, null, 2) + '\n');
  return s;
}

export function readSessionMeta(s: SessionPaths): SessionMeta | null {
  try {
    const parsed = SessionMetaSchema.safeParse(JSON.parse(readFileSync(s.meta, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function listSessionIds(paths: RepoPaths): string[] {
  try {
    return readdirSync(paths.sessionsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && isValidSessionId(d.name))
      .map((d) => d.name);
  } catch {
    return [];
  }
}
