// Test helpers: real temporary git repos, the BUILT CLI run as a child process, and whole-tree
// snapshots to prove a failed command left every byte as it was.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');
/** The bundle under test: ORCHESTRATOR_TEST_BIN lets the same suite run on another build. */
export const BIN = resolve(process.env.ORCHESTRATOR_TEST_BIN ?? join(PROJECT_ROOT, 'dist', 'orchestrator.js'));
export const FIXTURES = resolve(PROJECT_ROOT, '..', 'shared', 'fixtures', 'legacy-python');

const tmpDirs: string[] = [];
process.on('exit', () => {
  if (process.env.KEEP_TMP) return;
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'orch-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}

/** A fresh git repository with one commit (so it has a root commit and a repo id). */
export function makeRepo(opts: { commit?: boolean } = {}): string {
  const dir = tempDir('orch-repo-');
  git(dir, ['init', '-q', '-b', 'main']);
  if (opts.commit !== false) {
    git(dir, ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '--allow-empty', '-m', 'root']);
  }
  return dir;
}

export function git(cwd: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Copies a folder of ../shared/fixtures/legacy-python into a new git repo (read-only source). */
export function repoFromFixture(name: string): string {
  const dir = makeRepo();
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  spawnSync('chmod', ['-R', 'u+w', dir]);
  return dir;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
}

let emptyHome: string | undefined;

/**
 * Environment for the CLI under test: no CI-specific or user-specific settings leak in. HOME is
 * an empty directory, so the developer's own global config.yaml never changes a result.
 */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  emptyHome ??= tempDir('orch-home-');
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', HOME: emptyHome };
  delete env.XDG_CONFIG_HOME;
  // The machine the tests run on must not decide what the tool does (CI turns on auto-save).
  for (const k of ['CI', 'GITHUB_ACTIONS', 'CODESPACES', 'GITPOD_WORKSPACE_ID', 'CLAUDE_CODE_REMOTE', 'CLAUDE_CODE_WEB']) delete env[k];
  for (const k of Object.keys(env)) if (k.startsWith('ORCHESTRATOR_')) delete env[k];
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function runCli(cwd: string, args: string[], opts: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    env: cliEnv(opts.env),
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export function runCliAsync(cwd: string, args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cliEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

/** Runs the CLI and asserts its exit code, returning the result (message in the failure text). */
export function expectCode(r: CliResult, code: number, what = ''): CliResult {
  if (r.code !== code) {
    throw new Error(`${what ? what + ': ' : ''}expected exit ${code}, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r;
}

/** path -> sha256 (or link target) of every file under dir, .git excluded. */
export function snapshotTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      if (rel === '' && name === '.git') continue;
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, r));
      if (st.isDirectory()) {
        out.set(r + '/', 'dir');
        walk(r);
      } else if (st.isSymbolicLink()) out.set(r, 'link:' + readlinkSync(join(dir, r)));
      else out.set(r, createHash('sha256').update(readFileSync(join(dir, r))).digest('hex'));
    }
  };
  walk('');
  return out;
}

export function diffTrees(a: Map<string, string>, b: Map<string, string>): string[] {
  const diffs: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) diffs.push(b.has(k) ? `changed ${k}` : `removed ${k}`);
  for (const k of b.keys()) if (!a.has(k)) diffs.push(`added ${k}`);
  return diffs;
}

export function readJson(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

export function sessionDir(repo: string): string {
  const id = readFileSync(join(repo, '.orchestrator', 'current'), 'utf8').trim();
  return join(repo, '.orchestrator', 'sessions', id);
}

/** Runs a command that must succeed. */
export function ok(cwd: string, args: string[], opts: CliOptions = {}): CliResult {
  return expectCode(runCli(cwd, args, opts), 0, `orchestrator ${args.join(' ')}`);
}

/**
 * Runs a command that must fail: checks the exit code, that stderr is exactly one error line
 * matching every pattern, that stdout is empty, and that no file in the repo changed.
 */
export function refuses(
  repo: string,
  args: string[],
  code: number,
  patterns: RegExp[],
  opts: CliOptions = {},
  run: (cwd: string, args: string[], opts?: CliOptions) => CliResult = runCli,
): CliResult {
  const before = snapshotTree(repo);
  const r = expectCode(run(repo, args, opts), code, `orchestrator ${args.join(' ')}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^orchestrator: error: /);
  for (const p of patterns) assert.match(lines[0]!, p, `stderr: ${r.stderr}`);
  assert.equal(r.stdout, '', 'a failed command prints nothing on stdout');
  assert.deepEqual(diffTrees(before, snapshotTree(repo)), [], `orchestrator ${args.join(' ')} changed files`);
  return r;
}
