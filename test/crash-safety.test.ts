// Crash safety: a process killed with SIGKILL at a random moment never leaves an unparsable or
// half-written state file. Two layers: the real writeStateFile in a driver that is killed and
// restarted until it has made 200 writes, and real `complete` commands of the built CLI killed
// mid-flight. After EVERY kill the files on disk are checked as a suspicious reader would.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { parseJsonLines } from '../src/store/jsonl.ts';
import { readOwner, staleReason } from '../src/store/lock.ts';
import { BIN, cliEnv, expectCode, makeRepo, runCli, sessionDir, tempDir } from './helpers/cli.ts';
import { bundleDriver } from './fixtures/bundle-driver.ts';
import { pythonVerifiesChecksum, verifyStateText } from './fixtures/state-check.ts';

const WRITES = 200;
const STATE_TMP = /^\.state\.json\.tmp-\d+-[0-9a-f]+$/;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when our SIGKILL reached a live process (it did not finish first). */
  killed: boolean;
}

/**
 * Runs a process and SIGKILLs it `killAfterMs` after it prints "ready" (or after spawn when
 * `fromSpawn`); `null` lets it finish. Resolves once the process has exited and been reaped.
 */
function runAndKill(argv: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; killAfterMs: number | null; fromSpawn?: boolean }): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { cwd: opts.cwd, env: opts.env ?? cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let exited = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (opts.killAfterMs === null || timer) return;
      timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, opts.killAfterMs);
    };
    if (opts.fromSpawn) arm();
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.startsWith('ready\n')) arm();
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', () => (exited = true));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, killed: signal === 'SIGKILL' });
    });
  });
}

const randomInt = (max: number) => Math.floor(Math.random() * (max + 1));

/** The notes the state-writer driver gives item k (see test/fixtures/state-writer.ts). */
const writerNotes = (k: number) => `write ${k}: ` + `${k.toString(36)}-`.repeat(60);

/**
 * What a directory holding the state-writer's file may contain after a kill: nothing yet, or a
 * whole, sealed, self-consistent version, plus temp files of an interrupted write. Returns the
 * problems found and the version (number of writes) on disk.
 */
function checkWriterDir(dir: string): { problems: string[]; version: number; temps: number } {
  const problems: string[] = [];
  const names = readdirSync(dir);
  const extras = names.filter((n) => n !== 'state.json');
  for (const n of extras) if (!STATE_TMP.test(n)) problems.push(`unexpected file ${n}`);
  if (!names.includes('state.json')) return { problems, version: 0, temps: extras.length };
  const verdict = verifyStateText(readFileSync(join(dir, 'state.json'), 'utf8'));
  if (!verdict.ok) return { problems: [...problems, `state.json: ${verdict.why}`], version: -1, temps: extras.length };
  const s = verdict.state;
  const version = Number(s.metadata?.counter);
  const items = s.phases?.P?.items ?? {};
  if (Object.keys(items).length !== version) problems.push(`version ${version} holds ${Object.keys(items).length} items`);
  for (let k = 1; k <= version; k++) {
    if (items[`i_${k}`]?.notes !== writerNotes(k)) {
      problems.push(`item i_${k} of version ${version} is not what write ${k} wrote`);
      break;
    }
  }
  return { problems, version, temps: extras.length };
}

test('the crash checker itself rejects torn, tampered and foreign files', async () => {
  const dir = tempDir('orch-crash-check-');
  const good = join(tempDir('orch-crash-good-'), 'state.json');
  // A real sealed version from the driver, to damage in different ways.
  const r = await runAndKill([bundleDriver('state-writer'), good, '3'], { cwd: dir, killAfterMs: null });
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(good, 'utf8');
  writeFileSync(join(dir, 'state.json'), text);
  assert.deepEqual(checkWriterDir(dir), { problems: [], version: 3, temps: 0 });
  writeFileSync(join(dir, 'state.json'), text.slice(0, Math.floor(text.length / 2)));
  assert.match(checkWriterDir(dir).problems.join(), /not JSON/);
  writeFileSync(join(dir, 'state.json'), text.replace('survive SIGKILL', 'survive SIGKILL!'));
  assert.match(checkWriterDir(dir).problems.join(), /checksum/);
  writeFileSync(join(dir, 'state.json'), '');
  assert.match(checkWriterDir(dir).problems.join(), /not JSON/);
  writeFileSync(join(dir, 'state.json'), text);
  writeFileSync(join(dir, '.state.json.tmp-123-abcd'), text.slice(0, 10));
  assert.deepEqual(checkWriterDir(dir).problems, [], 'a temp file of an interrupted write is allowed');
  writeFileSync(join(dir, 'state.json.bak'), text);
  assert.match(checkWriterDir(dir).problems.join(), /unexpected file state\.json\.bak/);
});

test('writeStateFile SIGKILLed at random moments during 200 writes never leaves a torn or unsealed state file', async (t) => {
  const dir = tempDir('orch-crash-lib-');
  const path = join(dir, 'state.json');
  const driver = bundleDriver('state-writer');
  const deadline = Date.now() + 25_000;
  let kills = 0;
  let runs = 0;
  let version = 0;
  let maxTemps = 0;
  let writtenByKilledRuns = 0;
  while (version < WRITES) {
    runs++;
    assert.ok(runs < 2_000, 'the driver makes progress between kills');
    // Until the time budget is spent, every run is killed: mostly while writing (after "ready"),
    // sometimes while it is still starting up or reading the file back.
    const killing = kills < 60 && Date.now() < deadline;
    const early = Math.random() < 0.1;
    const r = await runAndKill([driver, path, String(WRITES)], {
      cwd: dir,
      killAfterMs: killing ? randomInt(early ? 150 : 60) : null,
      fromSpawn: early,
    });
    if (r.killed) kills++;
    else assert.equal(r.code, 0, `the driver ran cleanly: ${r.stderr}`);
    const seen = checkWriterDir(dir);
    assert.deepEqual(seen.problems, [], `after run ${runs} (${r.killed ? 'SIGKILL' : 'exit ' + r.code}) the directory is sound`);
    assert.ok(seen.version >= version, `the file never goes back to an older version (${version} -> ${seen.version})`);
    if (r.killed) writtenByKilledRuns += seen.version - version;
    version = seen.version;
    maxTemps = Math.max(maxTemps, seen.temps);
  }
  assert.equal(version, WRITES);
  assert.ok(kills >= 10, `enough kills happened to mean something (${kills})`);
  assert.notEqual(pythonVerifiesChecksum(path), false, 'python3 agrees with the final checksum');
  t.diagnostic(
    `library: ${kills} SIGKILLs over ${runs} runs; ${writtenByKilledRuns} of the ${WRITES} writes were made by runs that were then killed; ` +
      `at most ${maxTemps} temp file(s) of interrupted writes left at once`,
  );
});

// ---- CLI level -------------------------------------------------------------------------------

const ITEMS = 200;

function itemsRepo(): string {
  const repo = makeRepo();
  const lines = ['name: crash', 'version: "1.0"', 'phases:', '  - id: WORK', '    name: Work', '    items:'];
  for (let i = 0; i < ITEMS; i++) lines.push(`      - id: c_${i}`, `        name: Item ${i}`, '        required: true', '        verification: {type: none}');
  writeFileSync(join(repo, 'workflow.yaml'), lines.join('\n') + '\n');
  expectCode(runCli(repo, ['start', 'crash test']), 0, 'start');
  return repo;
}

interface Observed {
  state: any;
  torn: number | null;
  /** item id -> how many item_completed events the log holds for it. */
  completedEvents: Map<string, number>;
}

/**
 * Everything a following reader relies on, checked after a kill: status works, the state verifies,
 * every log line parses but a torn LAST line (which doctor must report), the state never claims
 * an item the log does not record, and a lock left behind belongs to a dead process.
 */
function checkRepoAfterKill(repo: string, what: string, knownTorn: Set<number> = new Set()): Observed {
  const sdir = sessionDir(repo);
  const status = expectCode(runCli(repo, ['status', '--json']), 0, `status after ${what}`);
  const view = JSON.parse(status.stdout);
  const verdict = verifyStateText(readFileSync(join(sdir, 'state.json'), 'utf8'));
  assert.ok(verdict.ok, `state.json after ${what}: ${verdict.ok ? '' : verdict.why}`);
  const items = verdict.state.phases.WORK.items as Record<string, { status: string }>;
  const done = Object.values(items).filter((i) => i.status === 'completed').length;
  assert.equal(view.progress.done, done, 'status --json agrees with the state');

  const text = readFileSync(join(sdir, 'log.jsonl'), 'utf8');
  const { records, bad } = parseJsonLines(text);
  const lastLine = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
  let torn: number | null = null;
  const fresh = bad.filter((b) => !knownTorn.has(b.line));
  assert.ok(fresh.length <= 1, `at most one new bad log line after ${what}`);
  if (fresh.length) {
    assert.equal(fresh[0]!.line, lastLine, 'a new torn line can only be the last one');
    torn = fresh[0]!.line;
    knownTorn.add(torn);
  }
  if (knownTorn.size) {
    const doctor = runCli(repo, ['doctor', '--json']);
    assert.equal(doctor.code, 1, 'doctor reports a torn line');
    const problems = JSON.parse(doctor.stdout).findings.filter((x: any) => x.level === 'problem').map((x: any) => x.subject);
    for (const line of knownTorn) assert.ok(problems.some((p: string) => p.endsWith(`log.jsonl:${line}`)), `doctor names log.jsonl:${line}: ${doctor.stdout}`);
  }
  const completedEvents = new Map<string, number>();
  for (const r of records) {
    const e = r.value as any;
    if (e.event_type === 'item_completed') completedEvents.set(e.item_id, (completedEvents.get(e.item_id) ?? 0) + 1);
  }
  for (const [id, it] of Object.entries(items)) {
    if (it.status === 'completed') assert.ok(completedEvents.has(id), `${id} is completed in the state, so the log records it`);
  }

  const lockPath = join(repo, '.orchestrator', 'locks', 'repo.lock');
  const owner = readOwner(lockPath);
  if (owner !== 'missing') assert.ok(staleReason(lockPath, owner), `a lock left after ${what} belongs to a dead process: ${JSON.stringify(owner)}`);
  for (const n of readdirSync(dirname(lockPath))) {
    assert.match(n, /^repo\.lock(\.break|\.[0-9a-f]+\.\d+)?$/, `only the lock and its own temp files may be left in locks/ (${n})`);
  }
  const strays = readdirSync(sdir).filter((n) => !['state.json', 'log.jsonl', 'meta.json'].includes(n));
  for (const n of strays) assert.match(n, STATE_TMP, `only temp files of an interrupted write may be left in the session (${n})`);
  return { state: verdict.state, torn, completedEvents };
}

test('complete commands SIGKILLed at random moments: status works, the state verifies, every log line parses', async (t) => {
  const repo = itemsRepo();
  const env = cliEnv({ ORCHESTRATOR_LOCK_TIMEOUT: '20' });
  const pending = (state: any) => Object.keys(state.phases.WORK.items).find((id) => state.phases.WORK.items[id].status === 'pending')!;
  // Calibrate: kills are spread over the whole run time of a complete on this machine right now.
  let obs = checkRepoAfterKill(repo, 'start');
  const durations: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t0 = Date.now();
    const r = await runAndKill([BIN, 'complete', pending(obs.state)], { cwd: repo, env, killAfterMs: null });
    durations.push(Date.now() - t0);
    assert.equal(r.code, 0, r.stderr);
    obs = checkRepoAfterKill(repo, 'an unkilled complete');
  }
  const span = Math.max(150, Math.round(1.1 * durations.sort((a, b) => a - b)[1]!));

  const deadline = Date.now() + 35_000;
  let kills = 0;
  let finished = 0;
  const torn = new Set<number>();
  let logAhead = 0;
  while (kills < 60 && Date.now() < deadline) {
    const id = pending(obs.state);
    const eventsBefore = obs.completedEvents.get(id) ?? 0;
    const r = await runAndKill([BIN, 'complete', id], { cwd: repo, env, killAfterMs: randomInt(span), fromSpawn: true });
    if (r.killed) kills++;
    else {
      finished++;
      assert.equal(r.code, 0, `complete ${id} ran to the end, so it succeeded: ${r.stderr}`);
    }
    obs = checkRepoAfterKill(repo, `${r.killed ? 'SIGKILL of' : 'exit of'} complete ${id}`, torn);
    if (r.killed && (obs.completedEvents.get(id) ?? 0) > eventsBefore && obs.state.phases.WORK.items[id].status !== 'completed') logAhead++;
  }
  assert.ok(kills >= 10, `enough kills happened to mean something (${kills})`);
  // After all that, an ordinary command still works and cleans up after itself.
  const id = pending(obs.state);
  expectCode(runCli(repo, ['complete', id], { env: { ORCHESTRATOR_LOCK_TIMEOUT: '20' } }), 0, 'complete after the kills');
  obs = checkRepoAfterKill(repo, 'the final complete', torn);
  assert.equal(obs.state.phases.WORK.items[id].status, 'completed');
  assert.equal(existsSync(join(repo, '.orchestrator', 'locks', 'repo.lock')), false, 'the final command released the lock');
  const lockTemps = readdirSync(join(repo, '.orchestrator', 'locks')).length;
  const duplicated = [...obs.completedEvents.values()].filter((n) => n > 1).length;
  assert.notEqual(pythonVerifiesChecksum(join(sessionDir(repo), 'state.json')), false, 'python3 agrees with the final checksum');
  t.diagnostic(
    `cli: ${kills} SIGKILLs (kill delay 0-${span} ms), ${finished} commands finished first, ${torn.size} torn log lines seen, ` +
      `${logAhead} kills landed between the log append and the state write ` +
      `(${duplicated} item(s) now have more than one item_completed in the log), ${lockTemps} lock temp file(s) left in locks/`,
  );
});

test('a torn last log line is reported by doctor and never breaks the following commands', () => {
  const repo = itemsRepo();
  expectCode(runCli(repo, ['complete', 'c_0']), 0);
  const log = join(sessionDir(repo), 'log.jsonl');
  // What a crash in the middle of an append would leave: the start of a line, no newline.
  appendFileSync(log, '{"timestamp": "2025-01-01T00:00:00Z", "event_type": "item_comp');
  const tornLine = readFileSync(log, 'utf8').split('\n').length;
  const doctor = runCli(repo, ['doctor', '--json']);
  assert.equal(doctor.code, 1);
  assert.ok(JSON.parse(doctor.stdout).findings.some((f: any) => f.level === 'problem' && f.subject.endsWith(`log.jsonl:${tornLine}`)), doctor.stdout);
  expectCode(runCli(repo, ['status', '--json']), 0, 'status with a torn log line');
  expectCode(runCli(repo, ['complete', 'c_1']), 0, 'complete with a torn log line');
  const { records, bad } = parseJsonLines(readFileSync(log, 'utf8'));
  assert.deepEqual(bad.map((b) => b.line), [tornLine], 'the torn line is kept as it was, and only it is bad');
  const last = records.at(-1)!;
  assert.equal(last.line, tornLine + 1, 'the next event starts on a line of its own');
  assert.equal((last.value as any).item_id, 'c_1');
  const obs = checkRepoAfterKill(repo, 'a torn line and a complete', new Set([tornLine]));
  assert.equal(obs.torn, null, 'no new torn line');
});
