// What a legacy file must hold before it may move: every JSON file parses, every JSON Lines line
// parses, a checksummed state verifies. The checks see the bytes chunk by chunk, so the migration
// runs them on the very bytes it copies (one read of a 1 GiB log, not two) and the dry run on a
// plain read.
import { closeSync, openSync, readSync } from 'node:fs';
import { WorkflowStateSchema } from '../engine/workflow-state.ts';
import { ExitCode, type ExitCodeValue } from '../errors.ts';
import { stateChecksum } from '../store/python-json.ts';
import { isJsonText, linesCheck } from './json-syntax.ts';
import type { LegacyRule } from './legacy-layout.ts';
import type { ChunkWorker } from './chunk-worker.ts';
import type { ChunkSink } from './tree.ts';

export interface ContentProblem {
  /** Appended to the file's path: `:LINE` for a bad log line, else ''. */
  at: string;
  message: string;
  exitCode: ExitCodeValue;
}

export interface ContentCheck {
  sink: ChunkSink;
  /** After the last chunk: what is wrong with the file, or null. */
  result(): ContentProblem | null | Promise<ContentProblem | null>;
}

function badLine(line: number | null): ContentProblem | null {
  if (line === null) return null;
  return { at: `:${line}`, message: 'is not a complete JSON line (a crash may have cut it); repair or delete that line, then migrate again', exitCode: ExitCode.badInput };
}

/**
 * The check for one file of a legacy entry, or null when its content is not interpreted. With a
 * worker, JSON Lines are checked there (the chunks must then lie in its chunk area).
 */
export function contentCheckFor(kind: LegacyRule['kind'], rel: string, worker?: ChunkWorker<'lines'>): ContentCheck | null {
  if (kind === 'log' || kind === 'jsonl') {
    if (worker) {
      const stream = worker.stream();
      return { sink: stream.feed, result: async () => badLine(await stream.end()) };
    }
    const lines = linesCheck();
    return { sink: lines.feed, result: () => badLine(lines.end()) };
  }
  if (kind === 'state' || kind === 'json' || (kind === 'checkpoints' && rel.endsWith('.json'))) {
    // Whole JSON documents are small (a state, a checkpoint): judged on the bytes when the file came
    // in one chunk, else kept and judged at the end.
    let problem: ContentProblem | null | undefined;
    const parts: Buffer[] = [];
    return {
      sink: (chunk, whole) => {
        if (whole) problem = jsonProblem(kind, chunk);
        else parts.push(Buffer.from(chunk));
      },
      result: () => (problem !== undefined ? problem : jsonProblem(kind, Buffer.concat(parts))),
    };
  }
  return null;
}

function jsonProblem(kind: LegacyRule['kind'], bytes: Buffer): ContentProblem | null {
  // The byte check is 4x faster than JSON.parse; only a state needs the parsed value.
  if (kind !== 'state' && isJsonText(bytes, 0, bytes.length)) return null;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return {
      at: '',
      message: `is not valid JSON (${(err as Error).message.replace(/\s+/g, ' ')}); restore it from git or a backup, then migrate again`,
      exitCode: ExitCode.badInput,
    };
  }
  if (kind !== 'state') return null;
  const parsed = WorkflowStateSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      at: '',
      message: `is not a workflow state (${issue.path.join('.') || '(root)'}: ${issue.message}); restore it from git or a backup, then migrate again`,
      exitCode: ExitCode.badInput,
    };
  }
  if (typeof parsed.data._checksum === 'string' && stateChecksum(value as Record<string, unknown>) !== parsed.data._checksum) {
    return { at: '', message: 'its _checksum does not match its content: it was edited outside the tool; restore it from git, then migrate again', exitCode: ExitCode.badInput };
  }
  return null;
}

/** Runs a check made without a worker over a whole file (the dry run's read). */
export function checkFile(path: string, check: ContentCheck, buf = Buffer.allocUnsafe(1 << 20)): ContentProblem | null {
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      check.sink(buf.subarray(0, n), false);
    }
  } finally {
    closeSync(fd);
  }
  return check.result() as ContentProblem | null;
}
