// bootstrap.sh as a user meets it: `curl -fsSL <base>/bootstrap.sh | sh -s -- ARGS` against a real
// HTTP server on 127.0.0.1, with real curl (and wget), real sh (dash here), a real cache directory.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, PROJECT_ROOT, makeRepo, tempDir } from './helpers/cli.ts';

const VERSION = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).version as string;
const SCRIPT = readFileSync(join(PROJECT_ROOT, 'bootstrap.sh'));
const BUNDLE = readFileSync(BIN);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A loopback server: /bootstrap.sh and /orchestrator.js, whose bytes a test may swap. */
class Mirror {
  server: Server;
  bundle: Buffer = BUNDLE;
  script: Buffer = SCRIPT;
  hits = { bundle: 0, script: 0 };
  base = '';
  constructor() {
    this.server = createServer((req, res) => {
      if (req.url === '/bootstrap.sh') {
        this.hits.script++;
        res.end(this.script);
      } else if (req.url === '/orchestrator.js') {
        this.hits.bundle++;
        res.end(this.bundle);
      } else {
        res.statusCode = 404;
        res.end('not found');
      }
    });
  }
  async start(): Promise<void> {
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    return new Promise((ok) => this.server.close(() => ok()));
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `curl -fsSL $base/bootstrap.sh | sh -s -- ARGS`, exactly as documented, in a real shell. */
function curlPipe(base: string, args: string[], env: Record<string, string>, cwd?: string): Promise<Run> {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return sh(`curl -fsSL '${base}/bootstrap.sh' | sh -s -- ${quoted}`, env, cwd);
}

function sh(command: string, env: Record<string, string>, cwd?: string): Promise<Run> {
  return new Promise((done) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: cwd ?? tempDir('orch-boot-cwd-'),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tempDir('orch-home-'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else out.push(rel + e.name);
    }
  };
  walk(dir, '');
  return out;
}

/** A bin directory holding only the named tools, so a test can take one away from PATH. */
function pathWith(tools: string[]): string {
  const dir = tempDir('orch-bin-');
  for (const t of tools) {
    const where = spawnSync('/bin/sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
    if (where) symlinkSync(where, join(dir, t));
  }
  return dir;
}
const BASIC_TOOLS = ['sh', 'sha256sum', 'cut', 'mkdir', 'chmod', 'find', 'id', 'mv', 'rm', 'cp', 'tr'];

describe('bootstrap.sh', () => {
  const mirror = new Mirror();
  before(() => mirror.start());
  after(() => mirror.stop());

  test('the pinned hash is the committed bundle\'s', () => {
    const pinned = /^ORCHESTRATOR_PINNED_SHA256="([0-9a-f]{64})"$/m.exec(SCRIPT.toString())?.[1];
    assert.equal(pinned, sha256(BUNDLE));
    assert.match(SCRIPT.toString(), new RegExp(`^ORCHESTRATOR_PINNED_VERSION="${VERSION.replace(/\./g, '\\.')}"$`, 'm'));
    // Everything runs from one function called on the very last line.
    assert.equal(SCRIPT.toString().trimEnd().split('\n').at(-1), 'orchestrator_bootstrap "$@"');
  });

  test('is plain POSIX sh: shellcheck -s sh finds nothing', { skip: !spawnSync('/bin/sh', ['-c', 'command -v shellcheck']).stdout.length && 'shellcheck not installed' }, () => {
    const r = spawnSync('shellcheck', ['-s', 'sh', join(PROJECT_ROOT, 'bootstrap.sh')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test('curl | sh -s -- --version downloads, verifies, caches and runs; a second run needs no network', async () => {
    const cache = tempDir('orch-cache-');
    const env = { ORCHESTRATOR_BASE_URL: mirror.base, XDG_CACHE_HOME: cache };
    const before = mirror.hits.bundle;
    const r = await curlPipe(mirror.base, ['--version'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`);
    assert.equal(mirror.hits.bundle, before + 1);
    assert.deepEqual(filesUnder(join(cache, 'orchestrator')), [`${VERSION}/orchestrator.js`]);
    assert.equal(sha256(readFileSync(join(cache, 'orchestrator', VERSION, 'orchestrator.js'))), sha256(BUNDLE));

    // Cached: the bundle is not fetched again, and with the server gone it still runs.
    const again = await sh(`sh -s -- --version < '${join(PROJECT_ROOT, 'bootstrap.sh')}'`, env);
    assert.equal(again.stdout, `${VERSION}\n`);
    assert.equal(mirror.hits.bundle, before + 1);
    const offline = await sh(`sh -s -- --version < '${join(PROJECT_ROOT, 'bootstrap.sh')}'`, {
      ...env,
      ORCHESTRATOR_BASE_URL: 'http://127.0.0.1:9/unreachable',
    });
    assert.equal(offline.code, 0, offline.stderr);
    assert.equal(offline.stdout, `${VERSION}\n`);
  });

  test('arguments pass through and the tool\'s exit code comes back', async () => {
    const repo = makeRepo();
    const env = { ORCHESTRATOR_BASE_URL: mirror.base, XDG_CACHE_HOME: tempDir('orch-cache-') };
    const r = await curlPipe(mirror.base, ['complete', 'no_such_item', '--notes', "it's done"], env, repo);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /orchestrator: error: no workflow in this repo yet/);
    const s = await curlPipe(mirror.base, ['start', 'Bootstrapped task'], env, repo);
    assert.equal(s.code, 0, s.stderr);
    const st = await curlPipe(mirror.base, ['status', '--json'], env, repo);
    assert.equal(JSON.parse(st.stdout).task, 'Bootstrapped task');
  });

  test('a bundle with one changed byte is refused: nothing runs, the cache stays clean', async () => {
    const cache = tempDir('orch-cache-');
    const tampered = Buffer.from(BUNDLE);
    // Change the version string: had the bundle run, it would have printed the altered version.
    const at = tampered.indexOf(Buffer.from(`"${VERSION}"`));
    assert.ok(at > 0);
    tampered[at + 1] = tampered[at + 1] === 0x39 ? 0x38 : tampered[at + 1]! + 1;
    mirror.bundle = tampered;
    try {
      const r = await curlPipe(mirror.base, ['--version'], { ORCHESTRATOR_BASE_URL: mirror.base, XDG_CACHE_HOME: cache });
      assert.equal(r.code, 4);
      assert.equal(r.stdout, '', 'nothing of the bundle ran');
      assert.match(r.stderr, new RegExp(`expected ${sha256(BUNDLE)}, found ${sha256(tampered)}; nothing was run`));
      assert.deepEqual(filesUnder(cache), [], 'no bundle and no temp file left in the cache');
    } finally {
      mirror.bundle = BUNDLE;
    }
  });

  test('a cached copy that no longer has the pinned hash is fetched again, never run', async () => {
    const cache = tempDir('orch-cache-');
    const dir = join(cache, 'orchestrator', VERSION);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'orchestrator.js'), 'require("fs").writeFileSync("RAN", "x"); console.log("evil")');
    const cwd = tempDir('orch-boot-cwd-');
    const r = await curlPipe(mirror.base, ['--version'], { ORCHESTRATOR_BASE_URL: mirror.base, XDG_CACHE_HOME: cache }, cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`);
    assert.ok(!existsSync(join(cwd, 'RAN')));
    assert.equal(sha256(readFileSync(join(dir, 'orchestrator.js'))), sha256(BUNDLE));
  });

  test('a download cut short runs nothing', async () => {
    const cache = tempDir('orch-cache-');
    const text = SCRIPT.toString();
    mirror.script = Buffer.from(text.slice(0, text.indexOf('exec node "$ob_bundle" "$@"')));
    try {
      const r = await curlPipe(mirror.base, ['--version'], { ORCHESTRATOR_BASE_URL: mirror.base, XDG_CACHE_HOME: cache });
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      assert.deepEqual(filesUnder(cache), [], 'not even the cache directory was made');
    } finally {
      mirror.script = SCRIPT;
    }
  });

  test('no node on PATH, or a node older than 20: exit 4 saying what to install', async () => {
    const script = join(PROJECT_ROOT, 'bootstrap.sh');
    const noNode = await sh(`/bin/sh '${script}' --version`, { PATH: pathWith([...BASIC_TOOLS, 'curl']) });
    assert.equal(noNode.code, 4);
    assert.match(noNode.stderr, /node not found on PATH: orchestrator needs Node\.js >= 20; install it/);
    const old = pathWith([...BASIC_TOOLS, 'curl']);
    writeFileSync(join(old, 'node'), '#!/bin/sh\necho v18.19.1\n', { mode: 0o755 });
    const tooOld = await sh(`/bin/sh '${script}' --version`, { PATH: old });
    assert.equal(tooOld.code, 4);
    assert.match(tooOld.stderr, /node v18\.19\.1 is too old: orchestrator needs Node\.js >= 20/);
  });

  test('without curl it downloads with wget', { skip: !spawnSync('/bin/sh', ['-c', 'command -v wget']).stdout.length && 'wget not installed' }, async () => {
    const cache = tempDir('orch-cache-');
    const path = pathWith([...BASIC_TOOLS, 'node', 'wget']);
    const before = mirror.hits.bundle;
    const r = await sh(`sh -s -- --version < '${join(PROJECT_ROOT, 'bootstrap.sh')}'`, {
      PATH: path,
      ORCHESTRATOR_BASE_URL: mirror.base,
      XDG_CACHE_HOME: cache,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`);
    assert.equal(mirror.hits.bundle, before + 1);
  });

  test('plain http is refused except to this machine; bad settings exit 2 before any download', async () => {
    const script = `sh -s -- --version < '${join(PROJECT_ROOT, 'bootstrap.sh')}'`;
    const cache = tempDir('orch-cache-');
    const before = mirror.hits.bundle;
    const http = await sh(script, { ORCHESTRATOR_BASE_URL: 'http://example.com/dist', XDG_CACHE_HOME: cache });
    assert.equal(http.code, 2);
    assert.match(http.stderr, /must be https:\/\/ \(http only to 127\.0\.0\.1 or localhost\)/);
    const none = await sh(script, { XDG_CACHE_HOME: cache });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /set ORCHESTRATOR_BASE_URL/);
    const version = await sh(script, { ORCHESTRATOR_BASE_URL: mirror.base, XDG_CACHE_HOME: cache, ORCHESTRATOR_VERSION: '9.9.9' });
    assert.equal(version.code, 2);
    assert.match(version.stderr, /also set ORCHESTRATOR_SHA256/);
    const badHash = await sh(script, { ORCHESTRATOR_BASE_URL: mirror.base, XDG_CACHE_HOME: cache, ORCHESTRATOR_SHA256: 'abc' });
    assert.equal(badHash.code, 2);
    assert.equal(mirror.hits.bundle, before, 'nothing was downloaded');
  });

  test('ORCHESTRATOR_SHA256 pins another hash; ORCHESTRATOR_BUNDLE uses a local file', async () => {
    const script = `sh -s -- --version < '${join(PROJECT_ROOT, 'bootstrap.sh')}'`;
    const wrong = await sh(script, {
      ORCHESTRATOR_BASE_URL: mirror.base,
      XDG_CACHE_HOME: tempDir('orch-cache-'),
      ORCHESTRATOR_SHA256: 'f'.repeat(64),
    });
    assert.equal(wrong.code, 4);
    assert.match(wrong.stderr, new RegExp(`expected ${'f'.repeat(64)}, found ${sha256(BUNDLE)}`));
    const before = mirror.hits.bundle;
    const local = await sh(script, { ORCHESTRATOR_BUNDLE: BIN, XDG_CACHE_HOME: tempDir('orch-cache-') });
    assert.equal(local.code, 0, local.stderr);
    assert.equal(local.stdout, `${VERSION}\n`);
    assert.equal(mirror.hits.bundle, before);
  });

  test('an unwritable cache home falls back to a private directory under TMPDIR', async () => {
    const tmp = tempDir('orch-tmpdir-');
    const r = await sh(`sh -s -- --version < '${join(PROJECT_ROOT, 'bootstrap.sh')}'`, {
      ORCHESTRATOR_BASE_URL: mirror.base,
      XDG_CACHE_HOME: '/proc/orchestrator-cannot-write-here',
      TMPDIR: tmp,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`);
    const uid = String(process.getuid?.() ?? 0);
    const dir = join(tmp, `orchestrator-${uid}`);
    assert.deepEqual(filesUnder(dir), [`${VERSION}/orchestrator.js`]);
    const mode = spawnSync('stat', ['-c', '%a', dir], { encoding: 'utf8' }).stdout.trim();
    assert.equal(mode, '700');
  });
});
