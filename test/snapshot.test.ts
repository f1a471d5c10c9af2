// Snapshots (issue 7): `snapshot export` packs the persisted .orchestrator/ and workflow.yaml into
// one .tar.gz; `snapshot import` in a fresh clone gives the identical persisted set. Crafted
// archives (a path leaving the folder, an absolute path, links and devices, a 1 GiB entry) are
// refused with nothing written; another repo's snapshot needs --force; secrets travel only
// encrypted.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { diffTrees, expectCode, git, makeRepo, ok, readJson, refuses, runCli, snapshotTree, tempDir } from './helpers/cli.ts';
import { rawTarGz, type RawEntry } from './helpers/raw-tar.ts';

const ORIGIN = 'https://example.invalid/team/project.git';
const SECRET = 'the-secret-value-7f3a9c';
const PASS = { env: { SNAP_PASS: 'correct horse battery staple' } };
const MACHINE_LOCAL = /^(secrets|cache|locks|backups)\//;

/** The persisted set: .orchestrator/ but secrets/, cache/, locks/, backups/, plus workflow.yaml. */
function persisted(repo: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, hash] of snapshotTree(join(repo, '.orchestrator'))) if (!MACHINE_LOCAL.test(path)) out.set(path, hash);
  if (existsSync(join(repo, 'workflow.yaml'))) out.set('../workflow.yaml', snapshotTree(repo).get('workflow.yaml')!);
  return out;
}

/** Repo A: an origin, workflow.yaml, a session with a log, a checkpoint, config, a secret, and machine-local files. */
function sourceRepo(): { repo: string; sid: string } {
  const repo = makeRepo();
  git(repo, ['remote', 'add', 'origin', ORIGIN]);
  ok(repo, ['init']);
  git(repo, ['add', 'workflow.yaml']);
  git(repo, ['-c', 'user.name=T', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'workflow']);
  const sid = JSON.parse(ok(repo, ['start', 'Snapshot task', '--json']).stdout).started.session_id;
  ok(repo, ['complete', 'understand_task', '--notes', 'read it']);
  const dir = join(repo, '.orchestrator');
  mkdirSync(join(dir, 'sessions', sid, 'checkpoints'), { recursive: true });
  writeFileSync(join(dir, 'sessions', sid, 'checkpoints', 'cp_20260101_000000_000000_0001_abcd.json'), '{"checkpoint_id": "cp_1", "message": "halfway"}\n');
  writeFileSync(join(dir, 'config.yaml'), 'lock:\n  timeout: 12\n');
  mkdirSync(join(dir, 'feedback'), { recursive: true });
  writeFileSync(join(dir, 'feedback', 'process.jsonl'), '{"note": "fine"}\n');
  mkdirSync(join(dir, 'prd', 'empty'), { recursive: true });
  mkdirSync(join(dir, 'secrets'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'secrets', 'store.json'), `{"value": "${SECRET}"}\n`, { mode: 0o600 });
  mkdirSync(join(dir, 'cache'), { recursive: true });
  writeFileSync(join(dir, 'cache', 'local-only'), 'cache\n');
  return { repo, sid };
}

/** A fresh clone of A: same root commit and origin, no .orchestrator/. */
function cloneOf(repo: string): string {
  const dir = join(tempDir('orch-clone-'), 'clone');
  git(repo, ['clone', '-q', repo, dir]);
  git(dir, ['remote', 'set-url', 'origin', ORIGIN]);
  assert.ok(!existsSync(join(dir, '.orchestrator')));
  return dir;
}

function exportTo(repo: string, args: string[] = [], opts = {}): { file: string; json: any } {
  const file = join(tempDir('orch-snap-'), 'snap.tar.gz');
  const json = JSON.parse(ok(repo, ['snapshot', 'export', file, ...args, '--json'], opts).stdout);
  return { file, json };
}

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('snapshot export + import', () => {
  test('a fresh clone gets the identical persisted set and workflow.yaml; secrets/ and cache/ never travel', () => {
    const { repo: a, sid } = sourceRepo();
    const { file, json } = exportTo(a);
    assert.equal(json.ok, true);
    assert.equal(json.encrypted, false);
    assert.equal(json.repo_id, readJson(join(a, '.orchestrator', 'meta.json')).repo_id);
    const tar = gunzipSync(readFileSync(file));
    assert.equal(tar.includes(SECRET), false, 'the secret is in the archive');
    assert.equal(tar.includes('local-only'), false, 'cache/ is in the archive');

    const b = cloneOf(a);
    const r = JSON.parse(ok(b, ['snapshot', 'import', file, '--json']).stdout);
    assert.equal(r.ok, true);
    assert.equal(r.files, json.files);
    assert.equal(r.workflow_yaml, 'unchanged', 'the clone has the committed workflow.yaml');
    assert.deepEqual(diffTrees(persisted(a), persisted(b)), []);
    assert.ok(persisted(b).has('prd/empty/'), 'an empty directory travels too');
    assert.equal(existsSync(join(b, '.orchestrator', 'secrets')), false);
    assert.equal(existsSync(join(b, '.orchestrator', 'cache', 'local-only')), false);
    assert.equal(readFileSync(join(b, '.orchestrator', 'current'), 'utf8'), sid);
    assert.match(ok(b, ['status']).stdout, /Snapshot task/);
  });

  test('the default file name carries the repo id and the time; an existing FILE needs --force', () => {
    const { repo } = sourceRepo();
    const cwd = tempDir('orch-snapdir-');
    const r = JSON.parse(ok(repo, ['snapshot', 'export', '--json', '--root', repo]).stdout);
    assert.match(r.file, /\/orchestrator-snapshot-r_[0-9a-f]{16}-\d{8}T\d{6}Z\.tar\.gz$/);
    assert.ok(existsSync(r.file));
    const target = join(cwd, 'snap.tar.gz');
    writeFileSync(target, 'keep me\n');
    refuses(cwd, ['snapshot', 'export', target, '--root', repo], 3, [/exists/, /--force/]);
    assert.equal(readFileSync(target, 'utf8'), 'keep me\n');
    ok(repo, ['snapshot', 'export', target, '--force']);
    assert.equal(readFileSync(target).subarray(0, 2).toString('hex'), '1f8b');
  });

  test('import replaces the persisted set and keeps cache/, locks/, backups/ and secrets/ as they are', () => {
    const { repo: a } = sourceRepo();
    const { file } = exportTo(a);
    const b = cloneOf(a);
    ok(b, ['start', 'Local work in the clone']);
    const dir = join(b, '.orchestrator');
    for (const d of ['cache', 'backups', 'secrets']) {
      mkdirSync(join(dir, d), { recursive: true });
      writeFileSync(join(dir, d, 'mine'), `${d} of b\n`);
    }
    ok(b, ['snapshot', 'import', file]);
    assert.deepEqual(diffTrees(persisted(a), persisted(b)), []);
    for (const d of ['cache', 'backups', 'secrets']) assert.equal(readFileSync(join(dir, d, 'mine'), 'utf8'), `${d} of b\n`);
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('snapshot-') || n.includes('.tmp-')), []);
    assert.deepEqual(readdirSync(join(dir, 'cache')).filter((n) => n.startsWith('snapshot-')), [], 'the staging directory is gone');
  });

  test('a snapshot of another repository is refused (exit 3, naming --force) with nothing written; --force takes it and keeps this repo\'s id', () => {
    const { repo: a } = sourceRepo();
    const { file, json } = exportTo(a);
    const c = makeRepo();
    const r = refuses(c, ['snapshot', 'import', file], 3, [/another|repo r_/, /--force/]);
    assert.match(r.stderr, new RegExp(json.repo_id));
    assert.equal(existsSync(join(c, '.orchestrator')), false);
    const j = JSON.parse(expectCode(runCli(c, ['snapshot', 'import', file, '--json']), 3).stdout);
    assert.equal(j.error.code, 'SNAPSHOT_OTHER_REPO');

    const forced = JSON.parse(ok(c, ['snapshot', 'import', file, '--force', '--json']).stdout);
    assert.equal(forced.other_repo, true);
    assert.equal(forced.workflow_yaml, 'written');
    assert.equal(readFileSync(join(c, 'workflow.yaml'), 'utf8'), readFileSync(join(a, 'workflow.yaml'), 'utf8'));
    const own = readJson(join(c, '.orchestrator', 'meta.json'));
    assert.notEqual(own.repo_id, json.repo_id);
    assert.equal(own.root_commit, git(c, ['rev-list', '--max-parents=0', 'HEAD']).trim());
    const withoutMeta = (m: Map<string, string>) => new Map([...m].filter(([p]) => p !== 'meta.json'));
    assert.deepEqual(diffTrees(withoutMeta(persisted(a)), withoutMeta(persisted(c))), []);
  });
});

describe('encrypted snapshots', () => {
  test('--include-secrets needs --passphrase-env; the archive is encrypted and round-trips secrets/', () => {
    const { repo: a } = sourceRepo();
    refuses(a, ['snapshot', 'export', join(tempDir('orch-snap-'), 'x'), '--include-secrets'], 2, [/--passphrase-env/]);
    refuses(a, ['snapshot', 'export', join(tempDir('orch-snap-'), 'x'), '--include-secrets', '--passphrase-env', 'SNAP_PASS'], 2, [/SNAP_PASS is not set/]);
    const { file, json } = exportTo(a, ['--include-secrets', '--passphrase-env', 'SNAP_PASS'], PASS);
    assert.equal(json.encrypted, true);
    assert.equal(json.includes_secrets, true);
    const bytes = readFileSync(file);
    assert.equal(bytes.includes(SECRET), false);
    assert.notEqual(bytes.subarray(0, 2).toString('hex'), '1f8b', 'not a plain gzip');
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const b = cloneOf(a);
    refuses(b, ['snapshot', 'import', file], 2, [/encrypted/, /--passphrase-env/]);
    refuses(b, ['snapshot', 'import', file, '--passphrase-env', 'SNAP_PASS'], 2, [/SNAP_PASS/]);
    refuses(b, ['snapshot', 'import', file, '--passphrase-env', 'SNAP_PASS'], 2, [/wrong passphrase/, /SNAP_PASS/], { env: { SNAP_PASS: 'wrong' } });
    assert.equal(existsSync(join(b, '.orchestrator')), false);

    const r = JSON.parse(ok(b, ['snapshot', 'import', file, '--passphrase-env', 'SNAP_PASS', '--json'], PASS).stdout);
    assert.equal(r.includes_secrets, true);
    assert.deepEqual(diffTrees(persisted(a), persisted(b)), []);
    const secretOf = (repo: string) => readFileSync(join(repo, '.orchestrator', 'secrets', 'store.json'), 'utf8');
    assert.equal(secretOf(b), secretOf(a));
    assert.equal(statSync(join(b, '.orchestrator', 'secrets', 'store.json')).mode & 0o077, 0, 'the secret file stays private');
  });

  test('an altered encrypted archive is refused like a wrong passphrase, nothing written', () => {
    const { repo: a } = sourceRepo();
    const { file } = exportTo(a, ['--passphrase-env', 'SNAP_PASS'], PASS);
    const bytes = readFileSync(file);
    bytes[bytes.length - 40]! ^= 1;
    writeFileSync(file, bytes);
    refuses(cloneOf(a), ['snapshot', 'import', file, '--passphrase-env', 'SNAP_PASS'], 2, [/wrong passphrase|altered/], PASS);
  });
});

// ---- crafted archives ---------------------------------------------------------------------------

const ROOT = 'orchestrator-snapshot';

/** A minimal valid snapshot (repo_id of no repo), plus `extra` entries at the end. */
function crafted(extra: RawEntry[], opts: { end?: boolean; current?: string; secret?: string } = {}): Buffer {
  const meta = JSON.stringify({ layout: 'contained-v1', repo_id: 'r_0000000000000000', created_at: '2026-01-01T00:00:00Z', created_with: 'test' });
  const current = 'abc';
  const manifest = {
    format: 'orchestrator-snapshot',
    version: 1,
    repo_id: 'r_0000000000000000',
    created_at: '2026-01-01T00:00:00Z',
    created_with: 'test',
    includes_secrets: opts.secret !== undefined,
    files: {
      'orchestrator/meta.json': { size: Buffer.byteLength(meta), sha256: sha256(meta) },
      'orchestrator/current': { size: 3, sha256: sha256(current) },
      ...(opts.secret === undefined ? {} : { 'orchestrator/secrets/store.json': { size: Buffer.byteLength(opts.secret), sha256: sha256(opts.secret) } }),
    },
  };
  return rawTarGz(
    [
      { name: `${ROOT}/`, type: '5' },
      { name: `${ROOT}/manifest.json`, data: JSON.stringify(manifest) },
      { name: `${ROOT}/orchestrator/`, type: '5' },
      { name: `${ROOT}/orchestrator/meta.json`, data: meta },
      { name: `${ROOT}/orchestrator/current`, data: opts.current ?? current },
      ...(opts.secret === undefined ? [] : [{ name: `${ROOT}/orchestrator/secrets/store.json`, data: opts.secret }]),
      ...extra,
    ],
    opts,
  );
}

describe('crafted archives are refused with nothing written', () => {
  const outside = tempDir('orch-evil-target-');
  const cases: [string, Buffer, RegExp][] = [
    ['a "../evil" entry', crafted([{ name: '../evil', data: 'pwned\n' }]), /"\.\." component/],
    ['a ".." inside the folder', crafted([{ name: `${ROOT}/orchestrator/../../evil`, data: 'pwned\n' }]), /"\.\." component/],
    ['a ".." path from a pax record', crafted([{ name: `${ROOT}/orchestrator/harmless`, data: 'pwned\n', pax: { path: '../evil' } }]), /"\.\." component/],
    ['an absolute path', crafted([{ name: join(outside, 'abs'), data: 'pwned\n' }]), /absolute path/],
    ['a symlink', crafted([{ name: `${ROOT}/orchestrator/sessions`, type: '2', linkname: outside }]), /SymbolicLink/],
    ['a hard link', crafted([{ name: `${ROOT}/orchestrator/link`, type: '1', linkname: '/etc/passwd' }]), /is a Link,/],
    ['a character device', crafted([{ name: `${ROOT}/orchestrator/dev`, type: '3' }]), /CharacterDevice/],
    ['a fifo', crafted([{ name: `${ROOT}/orchestrator/fifo`, type: '6' }]), /FIFO/],
    // 1 GiB by its header, followed by one block: refused by the size before any data is read.
    ['a 1 GiB entry', crafted([{ name: `${ROOT}/orchestrator/big.jsonl`, size: 1 << 30, data: 'x'.repeat(512) }], { end: false }), /1073741824 bytes, over the 268435456-byte limit/],
    ['a 1 GiB GNU sparse entry', crafted([{ name: `${ROOT}/orchestrator/sparse`, type: 'S', size: 1 << 30, data: 'x'.repeat(512) }], { end: false }), /SparseFile/],
    ['a file outside orchestrator-snapshot/', crafted([{ name: 'evil.txt', data: 'pwned\n' }]), /outside orchestrator-snapshot\//],
    ['a machine-local cache/ entry', crafted([{ name: `${ROOT}/orchestrator/cache/x`, data: 'x' }]), /machine-local/],
    ['a file not in the manifest', crafted([{ name: `${ROOT}/orchestrator/extra`, data: 'x' }]), /not in the manifest/],
    ['a file whose bytes differ from the manifest', crafted([], { current: 'abd' }), /does not match its size and sha256/],
    ['secrets/ in an unencrypted archive', crafted([], { secret: SECRET }), /holds secrets but is not encrypted/],
    ['the same name twice', crafted([{ name: `${ROOT}/orchestrator/current`, data: 'abc' }]), /appears twice/],
    ['a truncated entry', crafted([{ name: `${ROOT}/orchestrator/cut`, size: 4096, data: 'x'.repeat(512) }], { end: false }), /not a valid tar archive \(TAR_BAD_ARCHIVE: Truncated input/],
    ['something that is not gzip', Buffer.from('PK\x03\x04 not a tarball'), /not a gzip/],
  ];

  test('the crafted base archive itself is accepted (so each refusal below is the crafted part)', () => {
    const repo = makeRepo({ commit: false });
    const file = join(tempDir('orch-crafted-'), 'base.tar.gz');
    writeFileSync(file, crafted([]));
    ok(repo, ['snapshot', 'import', file]);
    assert.equal(readFileSync(join(repo, '.orchestrator', 'current'), 'utf8'), 'abc');
  });

  for (const [what, bytes, pattern] of cases) {
    test(what, () => {
      const repo = makeRepo({ commit: false });
      ok(repo, ['start', 'Existing state']);
      const file = join(tempDir('orch-crafted-'), 'evil.tar.gz');
      writeFileSync(file, bytes);
      const before = snapshotTree(repo);
      const r = refuses(repo, ['snapshot', 'import', file], 2, [pattern, /nothing was written/]);
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.deepEqual(diffTrees(before, snapshotTree(repo)), []);
      assert.equal(existsSync(join(repo, '..', 'evil')), false);
      assert.equal(existsSync(join(repo, '.orchestrator', 'evil')), false);
      assert.deepEqual(readdirSync(outside), []);
      const j = JSON.parse(expectCode(runCli(repo, ['snapshot', 'import', file, '--json']), 2).stdout);
      assert.equal(j.error.code, 'INVALID_SNAPSHOT');
    });
  }

  test('the 1 GiB entry is a tiny file: the header alone is refused', () => {
    const gz = crafted([{ name: `${ROOT}/orchestrator/big.jsonl`, size: 1 << 30, data: 'x'.repeat(512) }], { end: false });
    assert.ok(gz.length < 4096, `${gz.length} bytes`);
  });
});
