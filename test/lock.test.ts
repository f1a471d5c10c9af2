// The repo lock (src/store/lock.ts), through the built CLI and directly: a dead owner's lock is
// broken at once, a live owner's lock makes others wait and then fail with exit 3 naming the lock
// and its holder, a reused pid is not mistaken for the owner, nothing is left behind, and
// 6 processes x 30 locked increments give exactly 180.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { LockTimeoutError } from '../src/errors.ts';
import { acquireLock, readOwner, type LockOwner } from '../src/store/lock.ts';
import { diffTrees, expectCode, makeRepo, runCli, snapshotTree, tempDir } from './helpers/cli.ts';
import { bundleDriver } from './fixtures/bundle-driver.ts';

const HAS_PROC = existsSync('/proc/self/stat');

function lockPathOf(repo: string): string {
  return join(repo, '.orchestrator', 'locks', 'repo.lock');
}

function locksDirEntries(repo: string): string[] {
  const dir = join(repo, '.orchestrator', 'locks');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** A started workflow with a few plain items a..f. */
function startedRepo(): string {
  const repo = makeRepo();
  const items = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => `      - id: ${id}\n        name: Item ${id}\n        verification: {type: none}`);
  writeFileSync(join(repo, 'workflow.yaml'), `name: locks\nversion: "1.0"\nphases:\n  - id: WORK\n    name: Work\n    items:\n${items.join('\n')}\n`);
  expectCode(runCli(repo, ['start', 'lock test']), 0, 'start');
  return repo;
}

function itemStatus(repo: string, id: string): string {
  return JSON.parse(expectCode(runCli(repo, ['status', '--json']), 0).stdout).items.find((i: any) => i.id === id).status;
}

/** The pid of a process that has exited and been reaped. */
function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('close', () => {
      assert.throws(() => process.kill(child.pid!, 0), /ESRCH/, 'the pid is free');
      resolve(child.pid!);
    });
  });
}

/** Kernel start time of a process, the way lock.ts records it (field 22 of /proc/PID/stat). */
function procStart(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
  } catch {
    return null;
  }
}

function writeLockRecord(path: string, owner: Partial<LockOwner>): LockOwner {
  const record: LockOwner = {
    pid: process.pid,
    host: hostname(),
    start: null,
    token: 'feedfacefeedface',
    acquired_at: new Date().toISOString(),
    command: 'complete',
    ...owner,
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(record));
  return record;
}

function age(path: string, seconds: number): void {
  const t = new Date(Date.now() - seconds * 1000);
  utimesSync(path, t, t);
}

interface Holder {
  child: ChildProcessWithoutNullStreams;
  owner: LockOwner;
  release(): Promise<void>;
  kill(): Promise<void>;
}

/** Starts test/fixtures/lock-holder on `lockPath` and resolves once it holds the lock. */
function startHolder(lockPath: string): Promise<Holder> {
  const child = spawn(process.execPath, [bundleDriver('lock-holder'), lockPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.on('close', (code) => reject(new Error(`lock-holder exited ${code} before holding the lock: ${err}`)));
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"held"'));
      if (!line) return;
      child.stdout.removeAllListeners('data');
      const owner = JSON.parse(line).held as LockOwner;
      resolve({
        child,
        owner,
        release: () =>
          new Promise((done) => {
            child.stdout.on('data', (x) => String(x).includes('released') && done());
            child.stdin.write('release\n');
          }),
        kill: () => {
          child.kill('SIGKILL');
          return closed;
        },
      });
    });
  });
}

test('a lock left by a process that has exited is broken at once by the next command', async (t) => {
  const repo = startedRepo();
  const pid = await deadPid();
  writeLockRecord(lockPathOf(repo), { pid, start: '4242', token: '0123456789abcdef' });
  const doctor = JSON.parse(runCli(repo, ['doctor', '--json']).stdout);
  const note = doctor.findings.find((f: any) => f.subject.endsWith('repo.lock'));
  assert.match(note?.message ?? '', new RegExp(`stale \\(owner pid ${pid} is not running\\)`), 'doctor explains the stale lock');

  // With a 5 s timeout, success proves the lock was broken, not waited out (no time-based expiry
  // applies to a fresh lock on this host).
  const t0 = Date.now();
  const r = runCli(repo, ['complete', 'a'], { env: { ORCHESTRATOR_LOCK_TIMEOUT: '5' } });
  const cliMs = Date.now() - t0;
  expectCode(r, 0, 'complete over a dead owner lock');
  assert.equal(itemStatus(repo, 'a'), 'completed');
  assert.deepEqual(locksDirEntries(repo), [], 'the stale lock is gone and the new one released');

  // The same, in process: how long acquireLock takes to break it.
  const dir = tempDir('orch-lock-');
  const path = join(dir, 'repo.lock');
  writeLockRecord(path, { pid: await deadPid(), start: '4242' });
  const t1 = performance.now();
  const h = acquireLock(path, { timeoutMs: 5_000 });
  const breakMs = performance.now() - t1;
  assert.equal((readOwner(path) as LockOwner).token, h.owner.token, 'the lock is ours now');
  h.release();
  assert.equal(existsSync(path), false);
  t.diagnostic(`stale lock (dead pid): broken by acquireLock in ${breakMs.toFixed(2)} ms; whole CLI complete took ${cliMs} ms`);
});

test('a real holder killed with SIGKILL while holding the lock does not block the next command', async () => {
  const repo = startedRepo();
  const holder = await startHolder(lockPathOf(repo));
  const onDisk = readOwner(lockPathOf(repo)) as LockOwner;
  assert.equal(onDisk.pid, holder.child.pid, 'the lock file names the holder');
  assert.equal(onDisk.token, holder.owner.token);
  await holder.kill();
  expectCode(runCli(repo, ['complete', 'a'], { env: { ORCHESTRATOR_LOCK_TIMEOUT: '5' } }), 0, 'complete after the holder died');
  assert.equal(itemStatus(repo, 'a'), 'completed');
  assert.deepEqual(locksDirEntries(repo), []);
});

test('a holder killed but not yet reaped by its parent (a zombie) does not block the next command', { skip: !HAS_PROC && 'needs /proc' }, async () => {
  const repo = startedRepo();
  // sh starts the holder in the background, then becomes `sleep`, which never waits for children:
  // once killed, the holder stays a zombie until the sleep ends.
  const parent = spawn('sh', ['-c', `"$0" "$1" "$2" & exec sleep 60`, process.execPath, bundleDriver('lock-holder'), lockPathOf(repo)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const parentClosed = new Promise<void>((resolve) => parent.on('close', () => resolve()));
  try {
    const owner = await new Promise<LockOwner>((resolve, reject) => {
      let out = '';
      parent.stdout.on('data', (d) => {
        out += d;
        const line = out.split('\n').find((l) => l.startsWith('{"held"'));
        if (line) resolve(JSON.parse(line).held as LockOwner);
      });
      parent.on('close', () => reject(new Error('the holder did not start')));
    });
    process.kill(owner.pid, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (procState(owner.pid) !== 'Z' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(procState(owner.pid), 'Z', 'the holder is a zombie: dead, but its pid still exists');
    expectCode(runCli(repo, ['complete', 'a'], { env: { ORCHESTRATOR_LOCK_TIMEOUT: '3' } }), 0, 'complete over a zombie-owned lock');
    assert.equal(itemStatus(repo, 'a'), 'completed');
    assert.deepEqual(locksDirEntries(repo), []);
  } finally {
    parent.kill('SIGKILL');
    await parentClosed;
  }
});

test('a live holder makes complete wait, then exit 3 naming the lock and the holder, with nothing changed', async () => {
  const repo = startedRepo();
  const lock = lockPathOf(repo);
  const holder = await startHolder(lock);
  try {
    const before = snapshotTree(repo);
    const r = runCli(repo, ['complete', 'a'], { env: { ORCHESTRATOR_LOCK_TIMEOUT: '1' } });
    expectCode(r, 3, 'complete while the lock is held');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${r.stderr}`);
    assert.ok(lines[0]!.includes(lock), `names the lock file: ${lines[0]}`);
    assert.ok(lines[0]!.includes(`pid ${holder.owner.pid}`), `names the holder pid: ${lines[0]}`);
    assert.match(lines[0]!, /ORCHESTRATOR_LOCK_TIMEOUT/, 'says how to wait longer');
    const j = runCli(repo, ['skip', 'b', '--reason', 'not needed in this test', '--json'], { env: { ORCHESTRATOR_LOCK_TIMEOUT: '1' } });
    expectCode(j, 3, 'skip --json while the lock is held');
    const err = JSON.parse(j.stdout).error;
    assert.equal(err.code, 'LOCK_TIMEOUT');
    assert.equal(err.holder.pid, holder.owner.pid);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), [], 'every file is as it was');

    await holder.release();
    assert.equal(existsSync(lock), false, 'the holder released its lock');
    expectCode(runCli(repo, ['complete', 'a'], { env: { ORCHESTRATOR_LOCK_TIMEOUT: '1' } }), 0, 'complete once the lock is free');
    assert.equal(itemStatus(repo, 'a'), 'completed');
  } finally {
    await holder.kill();
  }
});

test('a lock naming a live pid with another start time (a reused pid) is stale; with the right start time it holds', { skip: !HAS_PROC && 'needs /proc' }, () => {
  const repo = startedRepo();
  const lock = lockPathOf(repo);
  // This test process is alive. With its real start time it owns the lock; so does a record that
  // cannot tell (start: null). Either way the command must wait and give up.
  for (const start of [procStart(process.pid), null]) {
    writeLockRecord(lock, { pid: process.pid, start });
    const before = snapshotTree(repo);
    const r = runCli(repo, ['complete', 'a'], { env: { ORCHESTRATOR_LOCK_TIMEOUT: '1' } });
    expectCode(r, 3, `lock of a live pid, start ${start}`);
    assert.ok(r.stderr.includes(`pid ${process.pid}`), r.stderr);
    assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
  }
  // The same pid with a start time it never had: the pid was reused, the owner is gone.
  writeLockRecord(lock, { pid: process.pid, start: '1' });
  const doctor = JSON.parse(runCli(repo, ['doctor', '--json']).stdout);
  assert.match(doctor.findings.find((f: any) => f.subject.endsWith('repo.lock'))?.message ?? '', /reused/);
  expectCode(runCli(repo, ['complete', 'a'], { env: { ORCHESTRATOR_LOCK_TIMEOUT: '5' } }), 0, 'complete over a reused-pid lock');
  assert.equal(itemStatus(repo, 'a'), 'completed');
  assert.deepEqual(locksDirEntries(repo), []);
});

test('no lock file or lock temp file is left behind by commands, whether they succeed or fail', () => {
  const repo = makeRepo();
  writeFileSync(join(repo, 'workflow.yaml'), 'name: locks\nversion: "1.0"\nphases:\n  - id: WORK\n    name: Work\n    items:\n      - id: a\n        name: A\n      - id: b\n        name: B\n');
  const steps: [string[], number][] = [
    [['start', 'lock test'], 0],
    [['start', 'again'], 3],
    [['status'], 0],
    [['complete', 'a', '--notes', 'done'], 0],
    [['complete', 'a'], 3],
    [['complete', 'nope'], 2],
    [['skip', 'b', '--reason', 'short'], 2],
    [['skip', 'b', '--reason', 'not needed in this test'], 0],
    [['doctor'], 0],
    [['doctor', '--reseal'], 0],
    [['log', '-n', '5'], 0],
    [['finish'], 0],
  ];
  for (const [args, code] of steps) {
    expectCode(runCli(repo, args), code, args.join(' '));
    assert.deepEqual(locksDirEntries(repo), [], `nothing left in locks/ after: ${args.join(' ')}`);
  }
});

test('6 processes x 30 locked increments through withLock give exactly 180, never two inside at once', async () => {
  const dir = tempDir('orch-lock-count-');
  const lock = join(dir, 'locks', 'repo.lock');
  const counter = join(dir, 'counter');
  writeFileSync(counter, '0');
  const driver = bundleDriver('lock-counter');
  const procs = Array.from({ length: 6 }, () => {
    const child = spawn(process.execPath, [driver, lock, counter, '30'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const ready = new Promise<void>((resolve) => child.stdout.on('data', (d) => ((out += d), out.startsWith('ready\n') && resolve())));
    const done = new Promise<{ overlaps: number }>((resolve, reject) =>
      child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`counter driver exited ${code}: ${err}`)))),
    );
    return { child, ready, done };
  });
  await Promise.all(procs.map((p) => p.ready));
  for (const p of procs) p.child.stdin.end('go\n');
  const results = await Promise.all(procs.map((p) => p.done));
  assert.deepEqual(
    results.map((r) => r.overlaps),
    [0, 0, 0, 0, 0, 0],
    'no two processes were ever inside the lock together',
  );
  assert.equal(readFileSync(counter, 'utf8'), '180');
  assert.deepEqual(readdirSync(join(dir, 'locks')), [], 'the lock and its temp files are gone');
});

// ---- acquireLock directly ----------------------------------------------------------------------

test('acquireLock: a second acquire of a held lock times out with a LockTimeoutError naming the holder', () => {
  const path = join(tempDir('orch-lock-'), 'repo.lock');
  const h = acquireLock(path, { timeoutMs: 1_000, command: 'first' });
  try {
    assert.throws(
      () => acquireLock(path, { timeoutMs: 100 }),
      (e: unknown) =>
        e instanceof LockTimeoutError &&
        e.exitCode === 3 &&
        e.message.startsWith(`${path}: `) &&
        e.message.includes(`pid ${process.pid}`) &&
        e.message.includes('(first)') &&
        (e.data.holder as LockOwner).token === h.owner.token,
    );
  } finally {
    h.release();
  }
  assert.equal(existsSync(path), false);
});

test('acquireLock: release removes only its own lock, and twice is harmless', () => {
  const path = join(tempDir('orch-lock-'), 'repo.lock');
  const h = acquireLock(path, { timeoutMs: 1_000 });
  // Someone judged our lock stale and another process took it: releasing must not delete theirs.
  const theirs = writeLockRecord(path, { token: 'aaaaaaaaaaaaaaaa' });
  h.release();
  assert.equal((readOwner(path) as LockOwner).token, theirs.token, 'the other lock survives our release');
  writeLockRecord(path, h.owner);
  h.release();
  assert.equal(existsSync(path), true, 'a second release is a no-op');
});

test('acquireLock: unreadable and foreign-host locks are respected while fresh, broken once old', () => {
  const dir = tempDir('orch-lock-');
  const path = join(dir, 'repo.lock');
  const cases: [string, () => void, number][] = [
    ['unreadable', () => writeFileSync(path, 'not json'), 10],
    ['another host', () => void writeLockRecord(path, { host: 'some-other-host.invalid', pid: 1 }), 11 * 60],
  ];
  for (const [what, make, oldSeconds] of cases) {
    make();
    assert.throws(() => acquireLock(path, { timeoutMs: 150 }), LockTimeoutError, `a fresh ${what} lock is held`);
    age(path, oldSeconds);
    const h = acquireLock(path, { timeoutMs: 2_000 });
    assert.equal((readOwner(path) as LockOwner).token, h.owner.token, `an old ${what} lock is broken`);
    h.release();
  }
  assert.deepEqual(readdirSync(dir), []);
});

test('acquireLock: a breaker file left by a killed breaker does not block breaking a stale lock for good', async () => {
  const dir = tempDir('orch-lock-');
  const path = join(dir, 'repo.lock');
  for (const breakerAge of [10, 0]) {
    writeLockRecord(path, { pid: await deadPid() });
    writeFileSync(`${path}.break`, '');
    age(`${path}.break`, breakerAge);
    const h = acquireLock(path, { timeoutMs: 10_000 });
    assert.equal((readOwner(path) as LockOwner).token, h.owner.token, `stale lock broken despite a ${breakerAge} s old breaker`);
    h.release();
    assert.deepEqual(readdirSync(dir), [], 'breaker and lock gone');
  }
});
