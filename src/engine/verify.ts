// Runs an item's verification. `file_exists` stays inside the repo; `command` runs without a shell,
// with a timeout, and keeps the exit code and the tail of its output.
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, normalize, relative, resolve, sep } from 'node:path';
import { UnsafePathError } from '../errors.ts';
import { buildArgv } from './command-line.ts';
import type { ItemDefinition } from './definition.ts';
import { substituteVars } from './definition.ts';
import type { VerificationResult } from './workflow-state.ts';

export const DEFAULT_COMMAND_TIMEOUT_S = 600;
const OUTPUT_TAIL_BYTES = 4000;

export interface VerifyContext {
  root: string;
  vars: Record<string, string>;
  now: () => string;
  /** For messages: "workflow.yaml" or "(bundled default)". */
  source: string;
  env: NodeJS.ProcessEnv;
}

/** null when the item's verification needs nothing run (none, manual_gate). */
export async function runVerification(item: ItemDefinition, ctx: VerifyContext): Promise<VerificationResult | null> {
  const v = item.verification;
  const where = `${ctx.source}: item ${item.id}`;
  if (v.type === 'file_exists') return checkFileExists(item, ctx, where);
  if (v.type === 'command') {
    const argv = buildArgv(v.command ?? '', ctx.vars, where);
    return runCommand(argv, v.expect_exit_code ?? 0, (v.timeout ?? DEFAULT_COMMAND_TIMEOUT_S) * 1000, ctx);
  }
  return null;
}

/** Resolves a repo-relative path and proves it cannot leave the repo, symlinks included. */
export function resolveInsideRepo(root: string, rel: string, where: string): string {
  if (rel.trim() === '') throw new UnsafePathError(`${where}: empty path; give a path relative to the repo root`);
  if (isAbsolute(rel)) {
    throw new UnsafePathError(`${where}: path ${JSON.stringify(rel)} is absolute; give a path relative to the repo root`);
  }
  const norm = normalize(rel);
  if (norm === '..' || norm.startsWith('..' + sep)) {
    throw new UnsafePathError(`${where}: path ${JSON.stringify(rel)} leaves the repository; give a path inside it`);
  }
  const target = resolve(root, norm);
  // Follow symlinks on the deepest part that exists: a link anywhere on the way may point out.
  const realRoot = realpathSync(root);
  let probe = target;
  while (!existsSync(probe) && probe !== root) probe = dirname(probe);
  const realProbe = realpathSync(probe);
  const back = relative(realRoot, realProbe);
  if (back === '..' || back.startsWith('..' + sep) || isAbsolute(back)) {
    throw new UnsafePathError(
      `${where}: path ${JSON.stringify(rel)} resolves through a symlink to ${realProbe}, outside the repository; point it inside the repo`,
    );
  }
  return target;
}

function checkFileExists(item: ItemDefinition, ctx: VerifyContext, where: string): VerificationResult {
  const rel = substituteVars(item.verification.path ?? '', ctx.vars);
  const target = resolveInsideRepo(ctx.root, rel, where);
  return { type: 'file_exists', passed: existsSync(target), path: rel, checked_at: ctx.now() };
}

function runCommand(argv: string[], expect: number, timeoutMs: number, ctx: VerifyContext): Promise<VerificationResult> {
  const started = Date.now();
  return new Promise((resolveResult) => {
    // 'error' (spawn failed) and 'close' can both fire: the first one decides.
    let settled = false;
    const done = (r: VerificationResult) => {
      if (!settled) resolveResult(r);
      settled = true;
    };
    let tail = Buffer.alloc(0);
    const keep = (chunk: Buffer) => {
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > OUTPUT_TAIL_BYTES * 2) tail = tail.subarray(tail.length - OUTPUT_TAIL_BYTES);
    };
    let timedOut = false;
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: ctx.root,
      env: ctx.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group, so a timeout kills the command's children too.
      detached: true,
    });
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 2000).unref();
    }, timeoutMs);
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const result = (exit: number | null, extra: string): VerificationResult => {
      let text = tail.subarray(Math.max(0, tail.length - OUTPUT_TAIL_BYTES)).toString('utf8') + extra;
      if (text.length > OUTPUT_TAIL_BYTES) text = text.slice(-OUTPUT_TAIL_BYTES);
      return {
        type: 'command',
        passed: !timedOut && exit === expect,
        exit_code: exit,
        expected_exit_code: expect,
        timed_out: timedOut,
        command: argv,
        output_tail: text,
        duration_ms: Date.now() - started,
        checked_at: ctx.now(),
      };
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = err.code === 'ENOENT' ? `command not found: ${argv[0]}` : `${argv[0]}: ${err.message}`;
      done(result(null, why));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done(result(code, timedOut ? `\n[timed out after ${timeoutMs / 1000} s]` : signal ? `\n[killed by ${signal}]` : ''));
    });
  });
}
