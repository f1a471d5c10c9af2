// The shipped bundle is one self-contained, reproducible file (issue 3): rebuilding gives the
// committed bytes, it needs nothing but Node, and a lone copy of it in an empty directory outside
// the project passes the end-to-end suite. The same suite runs on the @vercel/ncc build of the
// same sources (build/build-ncc.mjs), the bundler it is compared with in `npm run bench`.
//
// The end-to-end runs are nested `node --test` processes with ORCHESTRATOR_TEST_BIN pointing at
// the copy; they run one after the other, so this file keeps one core busy while `npm test` runs
// the other files on the second.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT, tempDir } from './helpers/cli.ts';

const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
const DIST = join(PROJECT_ROOT, 'dist', 'orchestrator.js');
/** The end-to-end workflow test of the foundation issue. */
const E2E = 'test/e2e-workflow.test.ts';
/** The rest of the end-to-end suite: every command's surface, through the built CLI. */
const CLI_SURFACE = 'test/cli-surface.test.ts';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/** The environment of this process minus anything that could lend the bundle a module or a setting. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('ORCHESTRATOR_')) delete env[k];
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  // Set by the outer `node --test` for its children; a nested runner would report to it instead of printing TAP.
  delete env.NODE_TEST_CONTEXT;
  return { ...env, ...extra };
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A new empty directory under the OS temp dir with no node_modules in it or any directory above it. */
function isolatedDir(prefix: string): string {
  const dir = tempDir(prefix);
  assert.ok(relative(PROJECT_ROOT, dir).startsWith('..'), `${dir} must be outside the project`);
  for (let d = dir; ; d = dirname(d)) {
    assert.ok(!existsSync(join(d, 'node_modules')), `${join(d, 'node_modules')} exists: a bundle there could borrow modules from it`);
    if (dirname(d) === d) break;
  }
  return dir;
}

/** Copies the bundle ALONE into an isolated directory. */
function loneCopy(bundle: string, prefix: string): string {
  const dir = isolatedDir(prefix);
  const copy = join(dir, 'orchestrator.js');
  copyFileSync(bundle, copy);
  assert.deepEqual(readdirSync(dir), ['orchestrator.js']);
  return copy;
}

/**
 * Every module the bundle asks Node for, by literal name: `require("x")` and `import("x")`, also
 * inside embedded sources (the lazily compiled `yaml` is a string with escaped quotes). A call
 * with a computed argument is reported as `<dynamic: ...>`: it could load anything.
 */
function requiredModules(code: string): string[] {
  const names = new Set<string>();
  for (const m of code.matchAll(/\b(require|import)\s*\(\s*(\\?["'`])?([^)\n]{0,60})/g)) {
    const quote = m[2];
    if (!quote) {
      names.add(`<dynamic: ${m[1]}(${m[3]}>`);
      continue;
    }
    const q = quote.at(-1)!;
    const end = m[3]!.indexOf(quote.length === 2 ? `\\${q}` : q);
    names.add(end < 0 ? `<dynamic: ${m[1]}(${quote}${m[3]}>` : m[3]!.slice(0, end));
  }
  if (/\beval\(\s*["'`]require["'`]\s*\)/.test(code)) names.add('<dynamic: eval("require")>');
  return [...names].sort();
}

function assertOnlyBuiltins(bundle: string): void {
  const builtins = new Set(builtinModules);
  const names = requiredModules(readFileSync(bundle, 'utf8'));
  const foreign = names.filter((n) => !n.startsWith('node:') && !builtins.has(n));
  assert.deepEqual(foreign, [], `${bundle} requires modules that Node does not provide`);
  assert.ok(names.includes('node:fs'), `the scan found the bundle's requires (${names.join(', ')})`);
}

async function assertVersion(bundle: string): Promise<void> {
  const r = await run([bundle, '--version'], { cwd: dirname(bundle), env: bareEnv(), timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${pkg.version}\n`);
}

/** Runs test files from the project on `bundle` in a nested test runner; passes when every test passed. */
async function assertSuitePasses(bundle: string, files: string[]): Promise<void> {
  const r = await run(['--import', 'tsx', '--test', '--test-reporter=tap', '--test-concurrency=1', ...files], {
    cwd: PROJECT_ROOT,
    env: bareEnv({ ORCHESTRATOR_TEST_BIN: bundle }),
    // A limit against a hung run, not a speed target: cli-surface runs every command, and a busy
    // 2-core CI machine took over 300 s for it beside the rest of the suite.
    timeoutMs: 900_000,
  });
  const count = (what: string) => Number(new RegExp(`^# ${what} (\\d+)$`, 'm').exec(r.stdout)?.[1] ?? NaN);
  const failed = r.stdout
    .split('\n')
    .filter((l) => /^\s*not ok /.test(l))
    .join('\n');
  const why = `${files.join(' ')} on ${bundle}: exit ${r.code ?? r.signal}\n${failed}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`;
  assert.equal(r.code, 0, why);
  assert.ok(count('pass') > 0, `no test passed: ${why}`);
  assert.equal(count('fail'), 0, why);
  assert.equal(count('cancelled'), 0, why);
}

test('the build is reproducible: a rebuild gives the bytes of dist/orchestrator.js, and its .sha256 is right', async () => {
  const out = join(tempDir('orch-rebuild-'), 'orchestrator.js');
  const r = await run(['build/build.mjs'], { cwd: PROJECT_ROOT, env: bareEnv({ ORCHESTRATOR_OUTFILE: out }), timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readFileSync(out).equals(readFileSync(DIST)), 'dist/orchestrator.js is not what the sources build: run `npm run build` and commit dist/');
  const hash = sha256(DIST);
  assert.equal(readFileSync(`${DIST}.sha256`, 'utf8'), `${hash}  orchestrator.js\n`);
  assert.equal(readFileSync(`${out}.sha256`, 'utf8'), `${hash}  orchestrator.js\n`);
  assert.equal(resolve(PROJECT_ROOT, pkg.bin.orchestrator!), DIST, 'package.json bin is the bundle');
});

test('the bundle needs nothing but Node: it requires only built-ins, and a lone copy prints the version', async () => {
  assertOnlyBuiltins(DIST);
  await assertVersion(loneCopy(DIST, 'orch-alone-'));
});

test('the bundle copied alone into an empty directory outside the project passes the end-to-end workflow test', { timeout: 960_000 }, async () => {
  const copy = loneCopy(DIST, 'orch-alone-');
  assert.ok(copy.startsWith(resolve(tmpdir())));
  await assertSuitePasses(copy, [E2E]);
});

test('the @vercel/ncc bundle of the same sources is one self-contained file that passes the same end-to-end suite', { timeout: 1_200_000 }, async () => {
  const dir = isolatedDir('orch-ncc-');
  const bundle = join(dir, 'orchestrator.js');
  const r = await run(['build/build-ncc.mjs'], { cwd: PROJECT_ROOT, env: bareEnv({ ORCHESTRATOR_NCC_OUTFILE: bundle }), timeoutMs: 180_000 });
  assert.equal(r.code, 0, `build/build-ncc.mjs failed:\n${r.stdout}${r.stderr}`);
  assert.deepEqual(readdirSync(dir), ['orchestrator.js'], 'ncc emitted nothing but the bundle');
  assertOnlyBuiltins(bundle);
  await assertVersion(bundle);
  await assertSuitePasses(bundle, [E2E, CLI_SURFACE]);
});
