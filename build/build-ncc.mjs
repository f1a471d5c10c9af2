// `npm run build:ncc`: the same CLI bundled by @vercel/ncc instead of esbuild, for comparison
// (`npm run bench`, test/bundle.test.ts). Not committed: the shipped bundle is dist/orchestrator.js.
//
//   ORCHESTRATOR_NCC_OUTFILE=PATH node build/build-ncc.mjs    (default .tmp/ncc/orchestrator.js)
//
// ncc cannot load TypeScript 7 (it has no JS API), so esbuild first transpiles (no bundling)
// every src/**/*.ts file to plain JavaScript under .tmp/ncc-src/<run>/, with the `.ts` import
// specifiers rewritten to `.js` and __ORCHESTRATOR_VERSION__ defined as in build.mjs; then ncc
// bundles that, minified, no source map, no cache. Modules stay ES modules (so webpack can drop
// the parts of zod/mini we do not use) except the entry, which is CommonJS: in an ES module
// webpack replaces `module` with a wrapper, so main.ts's `require.main === module` would be
// false and the CLI would silently do nothing, while for CommonJS ncc rewrites that test to one
// that holds in the bundle. Dynamic `import()`s get webpackMode "eager", or webpack would split
// each command (and each lazily imported package) into a chunk file next to the bundle. Any extra file ncc wants to emit, any
// require of a non-built-in module left in the output, or a bundle that does not print the
// version fails the build.
//
// The output is deterministic: ncc runs with the working directory set to the per-run source
// directory, and webpack's module ids are hashes of paths relative to it.
import { transform } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const started = process.hrtime.bigint();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outfile = resolve(process.env.ORCHESTRATOR_NCC_OUTFILE ?? join(root, '.tmp', 'ncc', 'orchestrator.js'));
const ENTRY = 'cli/main.ts';
const elapsed = (since) => Number(process.hrtime.bigint() - since) / 1e6;

class BuildFailure extends Error {}

function fail(message) {
  throw new BuildFailure(message);
}

// ---- 1. transpile src/**/*.ts to JavaScript -------------------------------------------------------

/** Relative import specifiers ending in .ts, in `from "x"`, `import "x"`, `import("x")`, `require("x")`. */
const TS_SPECIFIER = /(\bfrom\s*|\bimport\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)(["'])(\.\.?\/[^"'\n]*?)\.ts\2/g;

/** Dynamic imports of packages (`import("isomorphic-git")`): eager too, or webpack splits them off. */
const PACKAGE_IMPORT = /\bimport\s*\(\s*(["'])([^"'./][^"'\n]*)\1/g;

function rewriteSpecifiers(code, file) {
  const out = code
    .replace(TS_SPECIFIER, (_m, lead, quote, path) => {
      const eager = /import\s*\(\s*$/.test(lead) ? '/* webpackMode: "eager" */ ' : '';
      return `${lead}${eager}${quote}${path}.js${quote}`;
    })
    .replace(PACKAGE_IMPORT, (_m, quote, name) => `import(/* webpackMode: "eager" */ ${quote}${name}${quote}`);
  const left = /(["'])\.\.?\/[^"'\n]*\.ts\1/.exec(out);
  if (left) fail(`${file}: import specifier ${left[0]} was not rewritten to .js`);
  return out;
}

const srcRoot = join(root, 'src');
// One directory per run, so concurrent builds (a test and a bench) cannot trip over each other.
const workDir = join(root, '.tmp', 'ncc-src', `${process.pid}-${randomBytes(4).toString('hex')}`);
const t0 = process.hrtime.bigint();
// src/wasm/ is AssemblyScript, compiled by build/build-wasm.mjs into src/migrate/json-syntax-wasm.ts.
const files = readdirSync(srcRoot, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => f.split('\\').join('/'))
  .filter((f) => !f.startsWith('wasm/'))
  .sort();
if (!files.includes(ENTRY)) {
  process.stderr.write(`build-ncc: src/${ENTRY} not found\n`);
  process.exit(1);
}
mkdirSync(workDir, { recursive: true });
try {
  await Promise.all(
    files.map(async (file) => {
      const source = readFileSync(join(srcRoot, file), 'utf8');
      const { code } = await transform(source, {
        loader: 'ts',
        format: file === ENTRY ? 'cjs' : 'esm',
        target: 'node20',
        platform: 'node',
        sourcefile: `src/${file}`,
        define: { __ORCHESTRATOR_VERSION__: JSON.stringify(pkg.version) },
        logLevel: 'warning',
        // A lazy `require('node:crypto')` in an ES module is fine: webpack handles it.
        logOverride: { 'unsupported-require-call': 'silent' },
      });
      const out = join(workDir, file.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, rewriteSpecifiers(code, `src/${file}`));
    }),
  );
  const transpileMs = elapsed(t0);

  // ---- 2. bundle with ncc -------------------------------------------------------------------------

  const t1 = process.hrtime.bigint();
  const ncc = createRequire(import.meta.url)('@vercel/ncc');
  const cwd = process.cwd();
  process.chdir(workDir);
  // ncc reports some trouble only on the console (a failed minification leaves the output
  // unminified and says so): collect it, and fail on anything that is not a plain summary.
  const said = [];
  const { log, warn, error } = console;
  console.log = console.warn = console.error = (...args) => said.push(args.map(String).join(' '));
  let result;
  try {
    result = await ncc(join(workDir, ENTRY.replace(/\.ts$/, '.js')), {
      minify: true,
      sourceMap: false,
      sourceMapRegister: false,
      cache: false,
      v8cache: false,
      quiet: true,
    });
  } catch (e) {
    fail(`ncc failed: ${e?.stack ?? e}`);
  } finally {
    Object.assign(console, { log, warn, error });
    process.chdir(cwd);
  }
  const nccMs = elapsed(t1);
  if (said.length) fail(`ncc said:\n${said.join('\n')}`);
  const warnings = result.stats?.compilation?.warnings ?? [];
  if (warnings.length) fail(`webpack warnings:\n${warnings.map((w) => w.message ?? String(w)).join('\n')}`);

  const extra = [...Object.keys(result.assets ?? {}), ...Object.keys(result.symlinks ?? {})];
  if (extra.length) fail(`ncc wants to emit files besides the bundle (${extra.join(', ')}): the bundle must be one file`);
  if (result.map) fail('ncc produced a source map although none was asked for');
  const code = result.code;

  const bad = foreignRequires(code);
  if (bad.length) fail(`the bundle still requires modules that are not Node built-ins: ${bad.join(', ')}`);

  // ---- 3. write, check it runs, report ------------------------------------------------------------

  mkdirSync(dirname(outfile), { recursive: true });
  const tmp = `${outfile}.${process.pid}.tmp`;
  writeFileSync(tmp, code.startsWith('#!') ? code : `#!/usr/bin/env node\n${code}`);
  chmodSync(tmp, 0o755);
  const run = spawnSync(process.execPath, [tmp, '--version'], { cwd: dirname(outfile), encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0 || run.stdout.trim() !== pkg.version) {
    rmSync(tmp, { force: true });
    fail(`the bundle's --version: exit ${run.status ?? run.signal}, printed ${JSON.stringify(run.stdout.trim())}, expected ${pkg.version}\n${run.stderr}`);
  }
  renameSync(tmp, outfile);

  const bytes = readFileSync(outfile);
  const hash = createHash('sha256').update(bytes).digest('hex');
  const shown = relative(root, outfile).startsWith('..') ? outfile : relative(root, outfile);
  console.log(
    `built ${shown} with @vercel/ncc ${nccVersion()} (${bytes.length} bytes, sha256 ${hash}); ` +
      `transpile ${transpileMs.toFixed(0)} ms, ncc ${nccMs.toFixed(0)} ms, total ${elapsed(started).toFixed(0)} ms`,
  );
} catch (e) {
  if (!(e instanceof BuildFailure)) throw e;
  process.stderr.write(`build-ncc: ${e.message}\n`);
  process.exitCode = 1;
} finally {
  if (!process.env.ORCHESTRATOR_NCC_KEEP_SRC) rmSync(workDir, { recursive: true, force: true });
}

/** `require("x")` / `import("x")` of anything but a Node built-in (also inside embedded strings). */
function foreignRequires(code) {
  const builtins = new Set(builtinModules);
  const found = new Set();
  for (const m of code.matchAll(/\b(?:require|import)\s*\(\s*\\?(["'`])([^"'`\\\n]+)\\?\1\s*\)/g)) {
    const name = m[2];
    if (!name.startsWith('node:') && !builtins.has(name)) found.add(name);
  }
  return [...found].sort();
}

function nccVersion() {
  return JSON.parse(readFileSync(join(root, 'node_modules', '@vercel', 'ncc', 'package.json'), 'utf8')).version;
}
