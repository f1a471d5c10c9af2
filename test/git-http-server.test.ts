// The git smart-HTTP test server, driven by the real system git as a client: push, clone, auth,
// refused refs, injected failures, byte counts, gzip and chunked bodies, and a clean close().
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { tempDir } from './helpers/cli.ts';
import { startGitHttpServer, type GitHttpServer } from './helpers/git-http-server.ts';

const TOKEN = 'x-access-token:test-token';
const basic = (cred: string) => `Basic ${Buffer.from(cred).toString('base64')}`;
const AUTH = ['-c', `http.extraHeader=Authorization: ${basic(TOKEN)}`];
const ID = ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid'];
// No system or global config, and a 401 fails at once instead of prompting.
const clientEnv = { PATH: process.env.PATH, HOME: tempDir('git-client-home-'), GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };

interface GitResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs git asynchronously: the server lives in this process, so spawnSync would deadlock it. */
function git(cwd: string, args: string[], env: Record<string, string> = {}): Promise<GitResult> {
  return new Promise((done) => {
    const child = spawn('git', args, { cwd, env: { ...clientEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

async function gitOk(cwd: string, args: string[], env: Record<string, string> = {}): Promise<GitResult> {
  const r = await git(cwd, args, env);
  assert.equal(r.code, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** A local repo with one commit holding hello.txt; `origin` is the server's repo `name`. */
async function localRepo(srv: GitHttpServer, name: string): Promise<string> {
  const dir = tempDir('git-client-');
  await gitOk(dir, ['init', '-q', '-b', 'main']);
  writeFileSync(join(dir, 'hello.txt'), 'hello over http\n');
  await gitOk(dir, ['add', 'hello.txt']);
  await gitOk(dir, [...ID, 'commit', '-q', '-m', 'first']);
  await gitOk(dir, ['remote', 'add', 'origin', `${srv.url}/${name}.git`]);
  return dir;
}

async function server(t: TestContext, opts?: Parameters<typeof startGitHttpServer>[0]): Promise<GitHttpServer> {
  const srv = await startGitHttpServer(opts);
  t.after(() => srv.close());
  return srv;
}

function serverRefs(bareRepo: string): string {
  return spawnSync('git', ['for-each-ref', '--format=%(refname)'], { cwd: bareRepo, env: clientEnv, encoding: 'utf8' }).stdout;
}

test('push a commit, clone it back (token in a header, then in the URL)', async (t) => {
  const srv = await server(t);
  srv.createRepo('demo');
  const local = await localRepo(srv, 'demo');
  await gitOk(local, [...AUTH, 'push', '-q', 'origin', 'main']);

  const viaHeader = join(tempDir('git-clone-'), 'c');
  await gitOk('/', [...AUTH, 'clone', '-q', `${srv.url}/demo.git`, viaHeader]);
  assert.equal(readFileSync(join(viaHeader, 'hello.txt'), 'utf8'), 'hello over http\n');

  // Credentials in the URL: curl asks without them first, gets the 401 challenge, then retries.
  const viaUrl = join(tempDir('git-clone-'), 'c');
  const before = srv.requests.length;
  await gitOk('/', ['clone', '-q', `${srv.url.replace('//', `//${TOKEN}@`)}/demo.git`, viaUrl]);
  assert.equal(readFileSync(join(viaUrl, 'hello.txt'), 'utf8'), 'hello over http\n');
  assert.deepEqual(
    srv.requests.slice(before, before + 2).map((r) => [r.method, r.path, r.status]),
    [
      ['GET', '/demo.git/info/refs?service=git-upload-pack', 401],
      ['GET', '/demo.git/info/refs?service=git-upload-pack', 200],
    ],
  );
  assert.ok(srv.requests.every((r) => r.status === 401 || r.outBytes > 0));
});

test('every request needs the token: none or a wrong one gets 401 with a Basic challenge', async (t) => {
  const srv = await server(t, { user: 'alice', password: 's3cret' });
  srv.createRepo('demo');
  const url = `${srv.url}/demo.git/info/refs?service=git-upload-pack`;
  const status = async (authorization?: string) => {
    const res = await fetch(url, authorization ? { headers: { authorization } } : {});
    await res.arrayBuffer();
    return [res.status, res.headers.get('www-authenticate')];
  };
  const challenge = [401, 'Basic realm="git"'];
  assert.deepEqual(await status(), challenge);
  assert.deepEqual(await status(basic('alice:wrong')), challenge);
  assert.deepEqual(await status(basic('bob:s3cret')), challenge);
  assert.deepEqual(await status('Bearer wrong'), challenge);
  assert.deepEqual(await status(basic('alice:s3cret')), [200, null]);
  assert.deepEqual(await status('Bearer s3cret'), [200, null]);

  const r = await git('/', ['-c', `http.extraHeader=Authorization: ${basic('alice:nope')}`, 'ls-remote', `${srv.url}/demo.git`]);
  assert.notEqual(r.code, 0);
  assert.equal(srv.requests.at(-1)!.status, 401);
});

test('refuseRefs: a push to a matching ref gets 403, a push to another branch goes through', async (t) => {
  const srv = await server(t, { refuseRefs: /^refs\/heads\/forbidden$/ });
  const bare = srv.createRepo('demo');
  const local = await localRepo(srv, 'demo');

  const refused = await git(local, [...AUTH, 'push', 'origin', 'main:refs/heads/forbidden']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /403/);
  assert.equal(srv.requests.at(-1)!.status, 403);
  assert.equal(serverRefs(bare), '');

  // A pack over http.postBuffer: git first sends a probe (a bare flush-pkt, which passes), then
  // the commands and pack chunked.
  writeFileSync(join(local, 'noise.bin'), randomBytes(100_000));
  await gitOk(local, ['add', 'noise.bin']);
  await gitOk(local, [...ID, 'commit', '-q', '-m', 'noise']);
  const big = await git(local, [...AUTH, '-c', 'http.postBuffer=65536', 'push', 'origin', 'main:refs/heads/forbidden']);
  assert.notEqual(big.code, 0);
  assert.deepEqual(
    srv.requests.slice(-2).map((r) => [r.path, r.status]),
    [
      ['/demo.git/git-receive-pack', 200],
      ['/demo.git/git-receive-pack', 403],
    ],
  );
  assert.equal(serverRefs(bare), '');

  // Several refs in one push: one forbidden ref refuses the whole push.
  assert.notEqual((await git(local, [...AUTH, 'push', 'origin', 'main:refs/heads/ok', 'main:refs/heads/forbidden'])).code, 0);
  assert.equal(serverRefs(bare), '');

  await gitOk(local, [...AUTH, 'push', '-q', 'origin', 'main:refs/heads/claude/allowed']);
  assert.equal(serverRefs(bare), 'refs/heads/claude/allowed\n');
});

test('failNext fails exactly the next matching requests, then requests succeed again', async (t) => {
  const srv = await server(t);
  srv.createRepo('demo');
  const remote = `${srv.url}/demo.git`;
  srv.failNext(/^\/demo\.git\/info\/refs\?service=git-upload-pack$/, 500, 2);
  srv.failNext(/\/nothing-matches-this$/, 403);

  for (let i = 0; i < 2; i++) {
    const r = await git('/', [...AUTH, 'ls-remote', remote]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /500/);
  }
  await gitOk('/', [...AUTH, 'ls-remote', remote]);
  const INFO = '/demo.git/info/refs?service=git-upload-pack';
  assert.deepEqual(
    srv.requests.map((r) => [r.path, r.status]),
    [
      [INFO, 500],
      [INFO, 500],
      [INFO, 200],
      ['/demo.git/git-upload-pack', 200], // protocol v2 ls-refs
    ],
  );
});

test('byte counts; chunked and gzip-encoded request bodies', async (t) => {
  const srv = await server(t);
  srv.createRepo('demo');
  const local = await localRepo(srv, 'demo');
  assert.equal(srv.pushedBytes(), 0);
  await gitOk(local, [...AUTH, 'push', '-q', 'origin', 'main']);
  const small = srv.pushedBytes();
  assert.ok(small > 0);

  // 300 KB that do not compress, pushed with a small post buffer: git streams it chunked.
  writeFileSync(join(local, 'noise.bin'), randomBytes(300_000));
  await gitOk(local, ['add', 'noise.bin']);
  await gitOk(local, [...ID, 'commit', '-q', '-m', 'noise']);
  const push = await gitOk(local, [...AUTH, '-c', 'http.postBuffer=65536', 'push', 'origin', 'main'], { GIT_TRACE_CURL: '1' });
  assert.match(push.stderr, /=> Send header: Transfer-Encoding: chunked/i);
  assert.ok(srv.pushedBytes() - small > 300_000, `pushed ${srv.pushedBytes() - small} bytes`);

  // Many refs make a want list over 1 KB, which git sends gzip-encoded.
  const branches = Array.from({ length: 60 }, (_, i) => `main:refs/heads/b${i}`);
  await gitOk(local, [...AUTH, 'push', '-q', 'origin', ...branches]);
  const clone = join(tempDir('git-clone-'), 'c');
  const fetched = await gitOk('/', [...AUTH, 'clone', '--mirror', `${srv.url}/demo.git`, clone], { GIT_TRACE_CURL: '1' });
  assert.match(fetched.stderr, /=> Send header: Content-Encoding: gzip/i);
  assert.equal(serverRefs(clone).split('\n').filter(Boolean).length, 61);

  const fetches = srv.requests.filter((r) => r.method === 'POST' && r.path === '/demo.git/git-upload-pack');
  assert.ok(fetches.every((r) => r.inBytes > 0));
  assert.ok(fetches.some((r) => r.outBytes > 300_000), JSON.stringify(fetches));
});

/** The git processes below this one (their command lines). */
function gitDescendants(): { pid: number; args: string }[] {
  const rows = spawnSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
  const tree = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rows) if (tree.has(r.ppid) && !tree.has(r.pid)) grew = tree.add(r.pid) !== undefined;
  }
  return rows.filter((r) => tree.has(r.pid) && /^(\S*\/)?git(-\S+)?( |$)/.test(r.args));
}

/** Gone, or a zombie waiting for a reaper: either way no longer running. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('close() kills in-flight CGIs with their git processes and removes the temp dirs', async () => {
  const srv = await startGitHttpServer();
  srv.createRepo('demo');
  // A push whose body never comes: http-backend and git-receive-pack wait on stdin.
  const req = request(`${srv.url}/demo.git/git-receive-pack`, {
    method: 'POST',
    headers: { authorization: basic(TOKEN), 'content-type': 'application/x-git-receive-pack-request', 'transfer-encoding': 'chunked' },
  });
  const aborted = new Promise<void>((done) => req.on('error', () => done()).on('close', () => done()));
  req.flushHeaders();

  let procs: ReturnType<typeof gitDescendants> = [];
  for (let i = 0; i < 100 && !procs.some((p) => p.args.includes('receive-pack')); i++) {
    await new Promise((r) => setTimeout(r, 50));
    procs = gitDescendants();
  }
  // git, the git-http-backend it runs, and the git receive-pack that one runs.
  assert.equal(procs.length, 3, JSON.stringify(procs));
  const pids = procs.map((p) => p.pid);

  await srv.close();
  await aborted;
  assert.deepEqual(pids.filter(running), []);
  assert.deepEqual(gitDescendants(), []);
  assert.ok(!existsSync(srv.root));
});
