// Builds dist/orchestrator.js: one self-contained CommonJS file for Node >= 20, plus its sha256.
// Deterministic: the same sources give the same bytes (no timestamps, no absolute paths).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lazyModules } from './lazy-modules.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outfile = process.env.ORCHESTRATOR_OUTFILE ?? join(root, 'dist', 'orchestrator.js');

mkdirSync(dirname(outfile), { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  legalComments: 'eof',
  define: { __ORCHESTRATOR_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
  // Only some commands need these; `status` must not pay to load them (isomorphic-git: push and pull).
  plugins: [lazyModules(['yaml', 'isomorphic-git', 'isomorphic-git/http/node'], { root, minify: true })],
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
