// Commands run without a shell: what the template says is what runs, and settings cannot inject.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildArgv } from '../src/engine/command-line.ts';
import { UnsafeCommandError } from '../src/errors.ts';

const where = 'workflow.yaml: item t';

test('splits words with sh-like quoting', () => {
  assert.deepEqual(buildArgv(`pytest -k "not slow" 'a b' c\\ d`, {}, where), ['pytest', '-k', 'not slow', 'a b', 'c d']);
});

test('a whole-word placeholder expands into several words', () => {
  assert.deepEqual(buildArgv('{{test_command}} --ci', { test_command: 'npm run test' }, where), ['npm', 'run', 'test', '--ci']);
  assert.deepEqual(buildArgv('{{ runner }}', { runner: `node -e "process.exit(0)"` }, where), ['node', '-e', 'process.exit(0)']);
});

test('an embedded placeholder substitutes text inside one word', () => {
  assert.deepEqual(buildArgv('cat {{docs_dir}}/plan.md', { docs_dir: 'my docs' }, where), ['cat', 'my docs/plan.md']);
});

test('shell syntax in the template is refused, naming the character', () => {
  for (const bad of ['npm test && npm run lint', 'a; b', 'a | b', 'a > out', 'echo $(id)', 'echo `id`', 'echo $HOME', 'ls *.ts']) {
    assert.throws(() => buildArgv(bad, {}, where), (e: unknown) => e instanceof UnsafeCommandError && e.exitCode === 2 && /shell/.test(e.message), bad);
  }
});

test('shell syntax carried by a setting is refused for both kinds of placeholder', () => {
  assert.throws(() => buildArgv('{{test_command}}', { test_command: 'npm test; rm -rf /' }, where), UnsafeCommandError);
  assert.throws(() => buildArgv('run {{x}}', { x: 'a;b' }, where), UnsafeCommandError);
  assert.throws(() => buildArgv('run {{x}}', { x: '$(id)' }, where), UnsafeCommandError);
  assert.throws(() => buildArgv('run "{{x}}"', { x: 'a`id`' }, where), UnsafeCommandError);
});

test('quoted metacharacters are plain text, as in sh', () => {
  assert.deepEqual(buildArgv(`node -e 'a && b; c | d'`, {}, where), ['node', '-e', 'a && b; c | d']);
});

test('an unknown placeholder and an empty command are errors that say what to add', () => {
  assert.throws(() => buildArgv('{{nope}}', {}, where), /add nope: under settings:/);
  assert.throws(() => buildArgv('   ', {}, where), /empty/);
  assert.throws(() => buildArgv(`echo 'open`, {}, where), /unterminated/);
});
