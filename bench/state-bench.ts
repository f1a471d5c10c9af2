// Issue 5: the state branch.
//   1. `state save` after one small change (one new log event), the whole process, against
//      `node -e 0` followed by git's own plumbing doing the same save (a temporary index,
//      `git add -A -f .orchestrator`, write-tree, commit-tree, update-ref). Target: at most 1.0x.
//   2. Bytes a `state push` sends after one new event in a session with a 50 MB log, measured on
//      the wire by a git smart-HTTP server on 127.0.0.1. Target: under 256 KiB.
// Usage: npm run bench -- --only state [--json] [--n N] [--log-mb M]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startGitHttpServer } from '../test/helpers/git-http-server.ts';

const ROOT = resolve(import.meta.dirname ?? __dirname, '..');
const BIN = join(ROOT, 'dist', 'orchestrator.js');

interface Options {
  json: boolean;
  n: number;
  logMb: number;
}

function parse(argv: string[]): Options {
  const o: Options = { json: false, n: 20, logMb: 50 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') o.json = true;
    else if (a === '--n') o.n = Number(argv[++i]);
    else if (a === '--log-mb') o.logMb = Number(argv[++i]);
    else throw new Error(`unknown option ${a}; usage: npm run bench -- --only state [--json] [--n N] [--log-mb M]`);
  }
  if (!(o.n >= 3) || !(o.logMb >= 1)) throw new Error('--n takes a whole number of at least 3, --log-mb a positive number');
  return o;
}

const IDENTITY = { GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.invalid' };

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...IDENTITY } });
}

function cli(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`orchestrator ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
}

function timed(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sessionLog(repo: string): string {
  const sessions = join(repo, '.orchestrator', 'sessions');
  return join(sessions, readdirSync(sessions)[0]!, 'log.jsonl');
}

function event(n: number): string {
  return JSON.stringify({ timestamp: new Date().toISOString(), event_type: 'bench_event', workflow_id: 'wf_bench', phase_id: 'PLAN', item_id: null, message: `event ${n}`, details: { n }, actor: 'bench' }) + '\n';
}

/** A started workflow in a fresh repo; `logBytes` of extra events in its log. */
function repoWithState(work: string, name: string, logBytes: number): string {
  const repo = join(work, name);
  mkdirSync(repo);
  git(repo, ['init', '-q', '-b', 'main']);
  git(repo, ['commit', '-q', '--allow-empty', '-m', 'root']);
  cli(repo, ['start', 'Bench the state branch']);
  // Distinct lines (a counter and a hash each), like a real log: repeated lines would compress to
  // nothing and hide what a push really sends.
  for (let written = 0, n = 0; written < logBytes; ) {
    const lines: string[] = [];
    for (let size = 0; size < 1 << 20; n++) {
      const line = event(n).replace('"details":{', `"details":{"sha":"${createHash('sha1').update(String(n)).digest('hex')}",`);
      lines.push(line);
      size += line.length;
    }
    const chunk = lines.join('');
    appendFileSync(sessionLog(repo), chunk);
    written += chunk.length;
  }
  return repo;
}

const NATIVE = [
  'node -e 0',
  'export GIT_INDEX_FILE="$1"',
  'git add -A -f .orchestrator/sessions .orchestrator/meta.json .orchestrator/current',
  'tree=$(git write-tree)',
  'parent=$(git rev-parse -q --verify refs/heads/native-state || true)',
  'commit=$(echo save | git commit-tree "$tree" ${parent:+-p "$parent"})',
  'git update-ref refs/heads/native-state "$commit" $parent',
].join(' && ');

async function pushBytes(work: string, logMb: number): Promise<{ logBytes: number; firstPush: number; oneEventPush: number }> {
  const server = await startGitHttpServer();
  try {
    server.createRepo('bench');
    const repo = repoWithState(work, 'push', logMb * (1 << 20));
    git(repo, ['remote', 'add', 'origin', `${server.url}/bench.git`]);
    const env = { ORCHESTRATOR_GIT_TOKEN: 'test-token' };
    const run = (args: string[]) =>
      new Promise<void>((ok, fail) => {
        // Asynchronous: the server runs in this process.
        const child = spawn(process.execPath, [BIN, ...args], { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d) => (err += d));
        child.on('close', (code) => (code === 0 ? ok() : fail(new Error(`orchestrator ${args.join(' ')}: exit ${code}: ${err}`))));
      });
    cli(repo, ['state', 'save']);
    let before = server.pushedBytes();
    await run(['state', 'push']);
    const firstPush = server.pushedBytes() - before;
    appendFileSync(sessionLog(repo), event(1));
    cli(repo, ['state', 'save']);
    before = server.pushedBytes();
    await run(['state', 'push']);
    return { logBytes: Number(execFileSync('stat', ['-c', '%s', sessionLog(repo)], { encoding: 'utf8' })), firstPush, oneEventPush: server.pushedBytes() - before };
  } finally {
    await server.close();
  }
}

export async function stateMain(argv: string[]): Promise<number> {
  const o = parse(argv);
  const work = mkdtempSync(join(tmpdir(), 'orch-state-bench-'));
  try {
    // Save: the same repo content twice, one saved by orchestrator, one by git's plumbing.
    const ours = repoWithState(work, 'ours', 5 << 20);
    const native = repoWithState(work, 'native', 5 << 20);
    const index = join(work, 'native.index');
    cli(ours, ['state', 'save']);
    spawnSync('sh', ['-c', NATIVE, 'sh', index], { cwd: native, env: { ...process.env, ...IDENTITY } });
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < o.n; i++) {
      appendFileSync(sessionLog(ours), event(i));
      appendFileSync(sessionLog(native), event(i));
      // Alternate which goes first, so drift in machine load hits both alike.
      const runOurs = () => a.push(timed(process.execPath, [BIN, 'state', 'save'], ours));
      const runNative = () => b.push(timed('sh', ['-c', NATIVE, 'sh', index], native, { ...process.env, ...IDENTITY }));
      if (i % 2) (runOurs(), runNative());
      else (runNative(), runOurs());
    }
    const push = await pushBytes(work, o.logMb);
    const result = {
      save_ms: median(a),
      native_ms: median(b),
      ratio: median(a) / median(b),
      target_ratio: 1.0,
      push_log_bytes: push.logBytes,
      first_push_bytes: push.firstPush,
      one_event_push_bytes: push.oneEventPush,
      target_push_bytes: 256 * 1024,
      runs: o.n,
    };
    if (o.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else {
      const ok = (good: boolean) => (good ? 'ok' : 'MISSED');
      process.stdout.write(
        [
          `state branch bench: node ${process.version}, median of ${o.n} runs, one new event before each save (5 MB log)`,
          `  state save (whole process)                 ${result.save_ms.toFixed(1)} ms`,
          `  node -e 0 + git plumbing (add/write-tree/commit-tree/update-ref)  ${result.native_ms.toFixed(1)} ms`,
          `  ratio                                      ${result.ratio.toFixed(2)}x  ${ok(result.ratio <= 1.0)} (target <= 1.0x)`,
          `  push after one new event, ${(push.logBytes / 1e6).toFixed(1)} MB log: ${(push.oneEventPush / 1024).toFixed(1)} KiB sent  ${ok(push.oneEventPush < 256 * 1024)} (target < 256 KiB; first push ${(push.firstPush / 1e6).toFixed(1)} MB)`,
        ].join('\n') + '\n',
      );
    }
    return 0;
  } finally {
    if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  }
}
