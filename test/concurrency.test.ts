// Many processes, one repo: 8 real OS processes each run 25 mutating commands of the BUILT CLI at
// the same moment. Every event must reach the log exactly once, the state must stay valid
// (schema + checksum), and its counts must match the log. When the processes race on the same
// items, exactly one of them wins each item and the others are told it is already done (exit 3).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseJsonLines } from '../src/store/jsonl.ts';
import { BIN, cliEnv, expectCode, makeRepo, runCli, sessionDir } from './helpers/cli.ts';
import { bundleDriver } from './fixtures/bundle-driver.ts';
import { pythonVerifiesChecksum, verifyStateFile } from './fixtures/state-check.ts';

const PROCS = 8;
const PER_PROC = 25;
const SKIP_REASON = 'not needed for this concurrency test';

const itemId = (p: number, i: number) => `t_${p}_${i}`;

/** A workflow whose first phase holds procs x PER_PROC plain items, then a small second phase. */
function workflowYaml(procs: number): string {
  const lines = ['name: concurrency', 'version: "1.0"', 'phases:', '  - id: BUILD', '    name: Build', '    items:'];
  for (let p = 0; p < procs; p++) {
    for (let i = 0; i < PER_PROC; i++) {
      lines.push(`      - id: ${itemId(p, i)}`, `        name: Item ${p}/${i}`, '        required: true', '        verification: {type: none}');
    }
  }
  lines.push('  - id: WRAP', '    name: Wrap up', '    items:', '      - id: wrap_up', '        name: Wrap up');
  return lines.join('\n') + '\n';
}

/** A started workflow with `procs` x PER_PROC items in its first phase. */
function startedRepo(procs: number): string {
  const repo = makeRepo();
  writeFileSync(join(repo, 'workflow.yaml'), workflowYaml(procs));
  expectCode(runCli(repo, ['start', 'concurrency test']), 0, 'start');
  return repo;
}

interface RunnerResult {
  pid: number;
  results: { args: string[]; code: number | null; signal: string | null; stderr: string }[];
}

/** Starts one runner per command list, releases them all at once, and returns their results. */
async function runAtOnce(repo: string, lists: string[][][]): Promise<RunnerResult[]> {
  const driver = bundleDriver('cli-runner');
  const env = cliEnv({ ORCHESTRATOR_LOCK_TIMEOUT: '120' });
  const children = lists.map((commands) => {
    const child = spawn(process.execPath, [driver, JSON.stringify({ bin: BIN, cwd: repo, commands })], { cwd: repo, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const ready = new Promise<void>((resolve) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (out.startsWith('ready\n')) resolve();
      });
    });
    child.stderr.on('data', (d) => (err += d));
    const done = new Promise<RunnerResult>((resolve, reject) =>
      child.on('close', (code) => {
        const last = out.trim().split('\n').at(-1) ?? '';
        if (code !== 0 || !last.startsWith('{')) reject(new Error(`runner exited ${code}: ${err}${out}`));
        else resolve(JSON.parse(last) as RunnerResult);
      }),
    );
    return { child, ready, done };
  });
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.child.stdin.end('go\n');
  return Promise.all(children.map((c) => c.done));
}

interface LogView {
  lines: number;
  bad: number;
  events: Record<string, unknown>[];
}

function readLog(repo: string): LogView {
  const text = readFileSync(join(sessionDir(repo), 'log.jsonl'), 'utf8');
  const { records, bad } = parseJsonLines(text);
  return { lines: text.split('\n').filter((l) => l.trim() !== '').length, bad: bad.length, events: records.map((r) => r.value as Record<string, unknown>) };
}

/** item id -> the item events the log holds for it, in order. */
function itemEvents(log: LogView): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of log.events) {
    if (e.event_type !== 'item_completed' && e.event_type !== 'item_skipped') continue;
    const id = String(e.item_id);
    out.set(id, [...(out.get(id) ?? []), String(e.event_type)]);
  }
  return out;
}

function assertCleanDirs(repo: string): void {
  const locks = join(repo, '.orchestrator', 'locks');
  assert.deepEqual(existsSync(locks) ? readdirSync(locks) : [], [], 'no lock file or lock temp file is left behind');
  assert.deepEqual(
    readdirSync(sessionDir(repo)).filter((n) => n.includes('.tmp-')),
    [],
    'no temp file of an atomic write is left behind',
  );
}

/** State and log agree item by item, and `status --json` agrees with both. */
function assertStateMatchesLog(repo: string, log: LogView, expectedDone: number, totalItems: number): any {
  const statePath = join(sessionDir(repo), 'state.json');
  const verdict = verifyStateFile(statePath);
  assert.ok(verdict.ok, `state.json is valid and its checksum verifies: ${verdict.ok ? '' : verdict.why}`);
  assert.notEqual(pythonVerifiesChecksum(statePath), false, 'python3 agrees with the checksum');
  const state = verdict.state;
  const items = state.phases.BUILD.items as Record<string, { status: string; completed_at: string | null; skipped_at: string | null }>;
  const perItem = itemEvents(log);
  let completed = 0;
  let skipped = 0;
  for (const [id, it] of Object.entries(items)) {
    if (it.status === 'completed') completed++;
    if (it.status === 'skipped') skipped++;
    const events = perItem.get(id) ?? [];
    if (it.status === 'pending') assert.deepEqual(events, [], `${id} is pending, so the log has no event for it`);
    else assert.deepEqual(events, [it.status === 'completed' ? 'item_completed' : 'item_skipped'], `${id}: exactly one matching event`);
  }
  const logCompleted = log.events.filter((e) => e.event_type === 'item_completed').length;
  const logSkipped = log.events.filter((e) => e.event_type === 'item_skipped').length;
  assert.equal(completed, logCompleted, 'completed items in state = item_completed events in the log');
  assert.equal(skipped, logSkipped, 'skipped items in state = item_skipped events in the log');
  assert.equal(completed + skipped, expectedDone);
  for (const e of log.events) assert.equal(e.workflow_id, state.workflow_id, 'every event belongs to this workflow');

  const status = JSON.parse(expectCode(runCli(repo, ['status', '--json']), 0, 'status').stdout);
  assert.equal(status.progress.phase_done, expectedDone, 'status --json: items done in the phase');
  assert.equal(status.progress.done, expectedDone, 'status --json: items done overall');
  assert.equal(status.progress.total, totalItems);
  for (const it of status.items) assert.equal(it.status, items[it.id]!.status, `status --json agrees on ${it.id}`);
  return state;
}

test('8 processes x 25 commands on their own items: every event logged exactly once, state valid and equal to the log', async () => {
  const repo = startedRepo(PROCS);
  // Process p completes its items t_p_*, skipping every sixth one with a valid reason.
  const isSkip = (i: number) => i % 6 === 5;
  const lists = Array.from({ length: PROCS }, (_, p) =>
    Array.from({ length: PER_PROC }, (_, i) =>
      isSkip(i) ? ['skip', itemId(p, i), '--reason', SKIP_REASON] : ['complete', itemId(p, i), '--notes', `by process ${p}`],
    ),
  );
  const runners = await runAtOnce(repo, lists);

  for (const r of runners) {
    for (const c of r.results) assert.equal(c.code, 0, `${c.args.join(' ')} exits 0: ${c.stderr}`);
  }
  const log = readLog(repo);
  assert.equal(log.bad, 0, 'every log line parses');
  assert.equal(log.lines, 2 + PROCS * PER_PROC, 'workflow_started + phase_started + one line per command');
  assert.equal(log.events.filter((e) => e.event_type === 'workflow_started').length, 1);
  assert.equal(log.events.filter((e) => e.event_type === 'phase_started').length, 1);

  const perItem = itemEvents(log);
  for (let p = 0; p < PROCS; p++) {
    for (let i = 0; i < PER_PROC; i++) {
      assert.deepEqual(perItem.get(itemId(p, i)), [isSkip(i) ? 'item_skipped' : 'item_completed'], `${itemId(p, i)} logged exactly once`);
    }
  }
  assert.equal(perItem.size, PROCS * PER_PROC, 'no event for an item nobody touched');

  const state = assertStateMatchesLog(repo, log, PROCS * PER_PROC, PROCS * PER_PROC + 1);
  const skips = PROCS * Array.from({ length: PER_PROC }, (_, i) => i).filter(isSkip).length;
  assert.equal(Object.values(state.phases.BUILD.items).filter((it: any) => it.status === 'skipped').length, skips);
  for (let p = 0; p < PROCS; p++) {
    const it = state.phases.BUILD.items[itemId(p, 0)];
    assert.equal(it.notes, `by process ${p}`, 'each command wrote its own notes');
  }
  // The 8 runs really overlapped: their events are interleaved in the log, not in 8 blocks.
  const order = log.events.filter((e) => typeof e.item_id === 'string').map((e) => String(e.item_id).split('_')[1]);
  const switches = order.filter((p, k) => k > 0 && p !== order[k - 1]).length;
  assert.ok(switches > PROCS, `the processes ran at the same time (${switches} switches between processes in the log)`);
  assertCleanDirs(repo);
});

test('8 processes racing on the same 25 items: exactly one wins each item, the rest exit 3, each event logged once', async () => {
  // Only the shared items exist: a smaller state keeps the 200 commands cheap.
  const repo = startedRepo(1);
  const shared = Array.from({ length: PER_PROC }, (_, i) => itemId(0, i));
  // Even processes complete, odd ones skip; half go forwards, half start in the middle, so each
  // item is contended both ways.
  const lists = Array.from({ length: PROCS }, (_, p) => {
    const order = p % 4 < 2 ? shared : [...shared.slice(12), ...shared.slice(0, 12)];
    return order.map((id) => (p % 2 === 0 ? ['complete', id] : ['skip', id, '--reason', SKIP_REASON]));
  });
  const runners = await runAtOnce(repo, lists);

  const winners = new Map<string, string[]>();
  for (const r of runners) {
    for (const c of r.results) {
      const id = c.args[1]!;
      if (c.code === 0) winners.set(id, [...(winners.get(id) ?? []), c.args[0]!]);
      else {
        assert.equal(c.code, 3, `${c.args.join(' ')} lost the race, so it exits 3: ${c.stderr}`);
        assert.match(c.stderr, new RegExp(`item "${id}" is already (completed|skipped)`), 'the loser is told the item is already done');
        assert.equal(c.stderr.trim().split('\n').length, 1, 'one line');
      }
    }
  }
  const log = readLog(repo);
  assert.equal(log.bad, 0, 'every log line parses');
  assert.equal(log.lines, 2 + PER_PROC, 'one event per item, no more');
  const perItem = itemEvents(log);
  for (const id of shared) {
    const won = winners.get(id) ?? [];
    assert.equal(won.length, 1, `${id}: exactly one process succeeded (${won.join(', ') || 'none'})`);
    assert.deepEqual(perItem.get(id), [won[0] === 'complete' ? 'item_completed' : 'item_skipped'], `${id}: the log records the winner only`);
  }
  const state = assertStateMatchesLog(repo, log, PER_PROC, PER_PROC + 1);
  for (const id of shared) {
    assert.equal(state.phases.BUILD.items[id].status, winners.get(id)![0] === 'complete' ? 'completed' : 'skipped', `${id}: state shows the winner`);
  }
  assertCleanDirs(repo);
});
