// The repo lock: one file created atomically with link(2) so it always holds its full owner record
// (pid, host, process start time, token). Waiters poll up to a timeout. A lock whose owner is a dead
// process on this host is broken at once; breaking is serialised by a second, short-lived lock so
// two waiters can never both "break" and one of them delete a fresh, live lock.
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { LockTimeoutError, environmentErrorFrom } from '../errors.ts';
import { randomHex } from './random-id.ts';

export interface LockOwner {
  pid: number;
  host: string;
  /** Kernel start time of the owner process (Linux), to tell a reused pid from the owner. */
  start: string | null;
  token: string;
  acquired_at: string;
  command?: string;
}

export interface LockOptions {
  timeoutMs: number;
  /** Shown in the lock file and in "held by" messages. */
  command?: string;
}

export interface LockHandle {
  readonly path: string;
  readonly owner: LockOwner;
  release(): void;
}

// Another host's lock cannot be probed; it is only presumed dead when this old (holds last ms).
const FOREIGN_STALE_MS = 10 * 60_000;
// The breaker lock is held for microseconds; an older one was left by a killed process.
const BREAKER_STALE_MS = 2_000;

const held = new Set<LockHandle>();

export function acquireLock(path: string, opts: LockOptions): LockHandle {
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    start: processStartTime(process.pid),
    token: randomHex(8),
    acquired_at: new Date().toISOString(),
    ...(opts.command ? { command: opts.command } : {}),
  };
  const deadline = Date.now() + opts.timeoutMs;
  let delay = 1;
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw environmentErrorFrom(err, dirname(path));
  }
  for (;;) {
    if (tryCreate(path, owner)) break;
    const current = readOwner(path);
    if (current === 'missing') continue;
    if (isStale(path, current)) {
      breakStale(path, current);
      continue;
    }
    if (Date.now() >= deadline) {
      const who =
        current === 'unreadable' ? 'an unknown process' : `pid ${current.pid} on ${current.host}${current.command ? ` (${current.command})` : ''}`;
      throw new LockTimeoutError(
        `${path}: repo lock held by ${who} for more than ${Math.round(opts.timeoutMs / 1000)} s; wait for it to finish and retry (ORCHESTRATOR_LOCK_TIMEOUT sets the wait in seconds)`,
        { path, holder: current === 'unreadable' ? null : current },
      );
    }
    sleepMs(delay);
    delay = Math.min(delay * 2, 25);
  }
  const handle: LockHandle = {
    path,
    owner,
    release() {
      if (!held.delete(handle)) return;
      const now = readOwner(path);
      if (typeof now === 'object' && now.token === owner.token) {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }
    },
  };
  held.add(handle);
  return handle;
}

export function withLock<T>(path: string, opts: LockOptions, fn: () => T): T {
  const lock = acquireLock(path, opts);
  try {
    return fn();
  } finally {
    lock.release();
  }
}

export async function withLockAsync<T>(path: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = acquireLock(path, opts);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** For signal handlers: give back every lock this process holds. */
export function releaseAllLocks(): void {
  for (const h of [...held]) h.release();
}

/** Reads a lock file: its owner, 'missing', or 'unreadable' (foreign or damaged content). */
export function readOwner(path: string): LockOwner | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    return 'unreadable';
  }
  try {
    const o = JSON.parse(text) as LockOwner;
    if (typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.token === 'string') return o;
  } catch {
    // fall through
  }
  return 'unreadable';
}

/** Why a lock is stale, or null when its owner may still be alive. */
export function staleReason(path: string, owner: LockOwner | 'unreadable'): string | null {
  if (owner === 'unreadable') {
    return ageMs(path) > BREAKER_STALE_MS ? 'unreadable lock file' : null;
  }
  if (owner.host !== hostname()) {
    return ageMs(path) > FOREIGN_STALE_MS ? `held by another host for over ${FOREIGN_STALE_MS / 60_000} min` : null;
  }
  if (!pidAlive(owner.pid)) return `owner pid ${owner.pid} is not running`;
  const start = processStartTime(owner.pid);
  if (owner.start && start && start !== owner.start) return `pid ${owner.pid} was reused by another process`;
  return null;
}

function isStale(path: string, owner: LockOwner | 'unreadable'): boolean {
  return staleReason(path, owner) !== null;
}

function tryCreate(path: string, owner: LockOwner): boolean {
  // Write the record to a private file first, then link it into place: link fails with EEXIST
  // when the lock exists, and a lock file is never seen empty or half-written.
  const tmp = `${path}.${owner.token}.${process.pid}`;
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeSync(fd, JSON.stringify(owner));
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  } catch (err) {
    throw environmentErrorFrom(err, path);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean
    }
  }
}

function breakStale(path: string, seen: LockOwner | 'unreadable'): void {
  const breaker = `${path}.break`;
  let fd: number;
  try {
    fd = openSync(breaker, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw environmentErrorFrom(err, breaker);
    if (ageMs(breaker) > BREAKER_STALE_MS) {
      try {
        unlinkSync(breaker);
      } catch {
        // another waiter removed it
      }
    } else {
      sleepMs(1);
    }
    return;
  }
  try {
    // Under the breaker: only delete the very lock we judged stale, not a newer one.
    const now = readOwner(path);
    const same = seen === 'unreadable' ? now === 'unreadable' : typeof now === 'object' && now.token === seen.token;
    if (same) {
      try {
        unlinkSync(path);
      } catch {
        // gone already
      }
    }
  } finally {
    closeSync(fd);
    try {
      unlinkSync(breaker);
    } catch {
      // gone already
    }
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A killed owner whose parent has not reaped it yet (a zombie) still answers kill(pid, 0), but
  // it has exited and will never release the lock.
  const state = procStatFields(pid)?.[0];
  return state !== 'Z' && state !== 'X';
}

/** Field 22 of /proc/PID/stat (start time in clock ticks); null where /proc does not exist. */
function processStartTime(pid: number): string | null {
  return procStatFields(pid)?.[19] ?? null;
}

/** /proc/PID/stat from field 3 (the state) on; null where /proc does not exist. */
function procStatFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}
