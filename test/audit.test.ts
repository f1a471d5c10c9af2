// The audit trail: every state change appends a hash-chained record in the Python tool's format,
// the Python tool's own chain verifies and ours continues it (checked by Python itself), and
// `doctor` names the first record that was edited, removed or cut.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { expectCode, FIXTURES, makeRepo, ok, repoFromFixture, runCli, runCliAsync } from './helpers/cli.ts';

const AUDIT = (repo: string) => join(repo, '.orchestrator', 'audit.jsonl');
const records = (repo: string) => readFileSync(AUDIT(repo), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));

/** The Python tool's own formula, run by Python: prints "ok N" or "broken LINE". */
const PY_VERIFY = `
import hashlib, json, sys
prev = None
n = 0
for i, line in enumerate(open(sys.argv[1]), 1):
    if not line.strip():
        continue
    r = json.loads(line)
    body = json.dumps({"timestamp": r["timestamp"], "event": r["event"], "data": r["data"]}, sort_keys=True)
    h = hashlib.sha256(((prev + ":") if prev else "").encode() + body.encode()).hexdigest()[:32]
    if r.get("prev_hash") != prev or r["hash"] != h:
        print("broken", i); sys.exit(0)
    prev = r["hash"]; n += 1
print("ok", n)
`;

function pythonVerdict(file: string): string {
  const r = spawnSync('python3', ['-c', PY_VERIFY, file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** The bundled workflow's PLAN phase walked into: start, then two items completed. */
function walk(repo: string): void {
  ok(repo, ['start', 'Audit trail']);
  ok(repo, ['complete', 'understand_task', '--notes', 'read the issue']);
  mkdirSync(join(repo, 'docs'));
  writeFileSync(join(repo, 'docs', 'plan.md'), '# Plan\n');
  ok(repo, ['complete', 'initial_plan']);
}

describe('records', () => {
  test('each state change appends chained records that Python verifies with its own formula', () => {
    const repo = makeRepo();
    walk(repo);
    const rs = records(repo);
    assert.deepEqual(rs.map((r) => r.event), ['workflow_start', 'phase_started', 'item_completed', 'verification_passed', 'item_completed']);
    const sid = readFileSync(join(repo, '.orchestrator', 'current'), 'utf8');
    assert.ok(rs.every((r) => r.data.session_id === sid && /^wf_/.test(r.data.workflow_id)));
    assert.equal(rs[0].prev_hash, undefined, 'the first record has no prev_hash');
    for (let i = 1; i < rs.length; i++) assert.equal(rs[i].prev_hash, rs[i - 1].hash);
    assert.deepEqual([rs[2].data.phase_id, rs[2].data.item_id], ['PLAN', 'understand_task']);
    assert.equal(pythonVerdict(AUDIT(repo)), 'ok 5');
    // A refused command changes no state and adds no record.
    expectCode(runCli(repo, ['complete', 'no_such_item']), 2);
    assert.equal(records(repo).length, 5);
  });

  test("the Python tool's 40-record chain verifies, and ours continues it", () => {
    const repo = makeRepo();
    ok(repo, ['init']);
    copyFileSync(join(FIXTURES, 'audit-chain', 'audit.jsonl'), AUDIT(repo));
    assert.match(ok(repo, ['doctor']).stdout, /audit\.jsonl: 40 records, hash chain verified/);
    walk(repo);
    const rs = records(repo);
    assert.equal(rs.length, 45);
    assert.equal(rs[40].prev_hash, rs[39].hash);
    assert.equal(pythonVerdict(AUDIT(repo)), 'ok 45');
    assert.match(ok(repo, ['doctor']).stdout, /audit\.jsonl: 45 records, hash chain verified/);
  });

  test("the v3 fixture's own audit trail verifies and continues with the next state change", () => {
    const repo = repoFromFixture('v3-sessions');
    const before = records(repo).length;
    assert.equal(pythonVerdict(AUDIT(repo)), `ok ${before}`);
    ok(repo, ['approve-item', 'questions_answered']);
    const rs = records(repo);
    assert.equal(rs.length, before + 1);
    assert.deepEqual([rs.at(-1).event, rs.at(-1).data.item_id, rs.at(-1).prev_hash], ['item_completed', 'questions_answered', rs.at(-2).hash]);
    assert.equal(pythonVerdict(AUDIT(repo)), `ok ${before + 1}`);
  });

  test('concurrent commands in four sessions: one unbroken chain', async () => {
    const repo = makeRepo();
    const ids = [1, 2, 3, 4].map(() => JSON.parse(ok(repo, ['session', 'new', '--json']).stdout).current as string);
    const runs = await Promise.all(ids.map((id) => runCliAsync(repo, ['start', `Task ${id}`, '--session', id])));
    for (const r of runs) expectCode(r, 0, r.stderr);
    assert.equal(pythonVerdict(AUDIT(repo)), 'ok 8');
    assert.deepEqual(new Set(records(repo).map((r) => r.data.session_id)), new Set(ids));
  });

  test('layout: legacy keeps the old files and writes no audit trail', () => {
    const repo = repoFromFixture('v2-root-small');
    ok(repo, ['skip', 'risk_analysis', '--reason', 'not needed for this change'], { env: { ORCHESTRATOR_LAYOUT: 'legacy' } });
    assert.equal(existsSync(AUDIT(repo)), false);
  });
});

describe('doctor names the first broken record', () => {
  const cases: { name: string; change: (lines: string[]) => string[]; line: number; reason: RegExp }[] = [
    { name: 'one byte of a record edited', change: (l) => l.map((x, i) => (i === 2 ? x.replace('understand_task', 'understand_tasK') : x)), line: 3, reason: /hash does not match its content/ },
    { name: 'one byte of the first record edited', change: (l) => l.map((x, i) => (i === 0 ? x.replace('workflow_start', 'workflow_starT') : x)), line: 1, reason: /hash does not match/ },
    { name: 'a record removed', change: (l) => l.filter((_, i) => i !== 1), line: 2, reason: /prev_hash .* is not the previous record's hash/ },
    { name: 'the first record removed', change: (l) => l.slice(1), line: 1, reason: /first record must not have a prev_hash/ },
    { name: 'the last line cut', change: (l) => [...l.slice(0, -1), l.at(-1)!.slice(0, 40)], line: 5, reason: /not a complete JSON line/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const repo = makeRepo();
      walk(repo);
      const lines = readFileSync(AUDIT(repo), 'utf8').trimEnd().split('\n');
      writeFileSync(AUDIT(repo), c.change(lines).join('\n') + '\n');
      const r = expectCode(runCli(repo, ['doctor']), 1, c.name);
      assert.match(r.stdout, new RegExp(`PROBLEM  \\.orchestrator/audit\\.jsonl:${c.line}: audit chain broken at record ${c.line}: `));
      assert.match(r.stdout, c.reason);
      const j = JSON.parse(expectCode(runCli(repo, ['doctor', '--json']), 1).stdout);
      assert.ok(j.findings.some((f: any) => f.level === 'problem' && f.subject === `.orchestrator/audit.jsonl:${c.line}`));
    });
  }
});
