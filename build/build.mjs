// Builds dist/orchestrator.js: one self-contained CommonJS file for Node >= 20, plus its sha256.
// Deterministic: the same sources give the same bytes (no timestamps, no absolute paths).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWasm } from './build-wasm.mjs';
import { lazyGroups } from './lazy-groups.mjs';
import { lazyModules } from './lazy-modules.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outfile = process.env.ORCHESTRATOR_OUTFILE ?? join(root, 'dist', 'orchestrator.js');

// The WebAssembly JSON check is bundled as a generated source file: make it first.
await buildWasm();
mkdirSync(dirname(outfile), { recursive: true });
const options = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  define: { __ORCHESTRATOR_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
};
// Only some commands need these; `status` must not pay to load them (isomorphic-git: push and
// pull; tar: snapshot export and import).
const lazyPackages = ['yaml', 'isomorphic-git', 'isomorphic-git/http/node', 'tar'];
// Commands that most sessions never run, with the modules only they use: each group is compiled
// when one of its entries is first import()ed (build/lazy-groups.mjs). Entries that share modules
// go in one group; `finish` loads the feedback group, main.ts the migrate group after a crash.
const lazyCommandGroups = {
  init: ['src/commands/init.ts'],
  feedback: ['src/commands/feedback.ts', 'src/feedback/on-finish.ts'],
  checkpoint: ['src/commands/checkpoint.ts', 'src/commands/resume.ts', 'src/commands/handoff.ts'],
  state: ['src/commands/state.ts'],
  snapshot: ['src/commands/snapshot.ts'],
  hooks: ['src/commands/hooks.ts'],
  secrets: ['src/commands/secrets.ts', 'src/commands/secrets-doctor.ts'],
  migrate: ['src/commands/migrate.ts'],
  doctor: ['src/commands/doctor.ts'],
  repos: ['src/commands/repos.ts'],
  config: ['src/commands/config.ts'],
};
const entry = 'src/cli/main.ts';
await build({
  ...options,
  entryPoints: [entry],
  outfile,
  legalComments: 'eof',
  plugins: [
    await lazyGroups(lazyCommandGroups, { root, entry, options, packages: lazyPackages }),
    lazyModules(lazyPackages, { root, minify: true }),
  ],
});
chmodSync(outfile, 0o755);
const hash = createHash('sha256').update(readFileSync(outfile)).digest('hex');
writeFileSync(`${outfile}.sha256`, `${hash}  orchestrator.js\n`);
pinBootstrap(pkg.version, hash);
console.log(`built ${outfile.slice(root.length + 1)} (${readFileSync(outfile).length} bytes, sha256 ${hash.slice(0, 12)}…)`);

/** bootstrap.sh carries the version and sha256 of the bundle it may run (only for the real dist/). */
function pinBootstrap(version, sha256) {
  if (process.env.ORCHESTRATOR_OUTFILE) return;
  const path = join(root, 'bootstrap.sh');
  const text = readFileSync(path, 'utf8');
  const pinned = text
    .replace(/^ORCHESTRATOR_PINNED_VERSION=".*"$/m, `ORCHESTRATOR_PINNED_VERSION="${version}"`)
    .replace(/^ORCHESTRATOR_PINNED_SHA256=".*"$/m, `ORCHESTRATOR_PINNED_SHA256="${sha256}"`);
  if (pinned !== text) writeFileSync(path, pinned);
}
