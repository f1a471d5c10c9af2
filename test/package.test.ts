// `package.json` bin: `npm i -g` of the packed package puts a working `orchestrator` on the PATH,
// offline, because the package carries only the self-contained bundle and depends on nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT, makeRepo, tempDir } from './helpers/cli.ts';

const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));

function npm(args: string[], cwd = PROJECT_ROOT) {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  assert.equal(r.status, 0, `npm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('the package has no runtime dependencies and its bin is the bundle', () => {
  assert.equal(pkg.dependencies, undefined, 'everything is bundled: runtime dependencies would be installed for nothing');
  assert.deepEqual(pkg.bin, { orchestrator: 'dist/orchestrator.js' });
  assert.ok(readFileSync(join(PROJECT_ROOT, pkg.bin.orchestrator), 'utf8').startsWith('#!/usr/bin/env node\n'));
});

test('npm i -g of the packed package works offline and runs as `orchestrator`', () => {
  const dir = tempDir('orch-pack-');
  npm(['pack', '--pack-destination', dir]);
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  assert.ok(tgz, 'npm pack made a tarball');
  const prefix = join(dir, 'global');
  npm(['install', '--global', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, join(dir, tgz)], dir);
  const bin = join(prefix, 'bin', 'orchestrator');
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout, `${pkg.version}\n`);
  const repo = makeRepo();
  const start = spawnSync(bin, ['start', 'Installed globally'], { cwd: repo, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  assert.equal(start.status, 0, start.stderr);
  assert.match(start.stdout, /NEXT: orchestrator complete /);
});
