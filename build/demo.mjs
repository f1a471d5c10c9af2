// `npm run demo`: the BUILT CLI (dist/orchestrator.js) driving one task through the bundled default
// workflow in a throwaway git repository, step by step, the way an AI coding agent would use it.
//
// Plain text, no colours, never reads stdin (works in CI). Every orchestrator command is printed as
// `$ orchestrator ...` followed by its real output. Exits 0 when every command gave the exit code
// it should, 1 otherwise. The temporary directory is deleted at the end; DEMO_KEEP=1 keeps it.
// DEMO_BIN=PATH runs another bundle.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = resolve(process.env.DEMO_BIN ?? join(ROOT, 'dist', 'orchestrator.js'));
const KEEP = Boolean(process.env.DEMO_KEEP) && process.env.DEMO_KEEP !== '0';

const work = mkdtempSync(join(tmpdir(), 'orchestrator-demo-'));
const repo = join(work, 'greeter');
mkdirSync(repo);

// The CLI sees the user's environment minus orchestrator settings, without colour; its global
// directory points into the temp dir so the demo leaves nothing behind.
const cliEnv = { ...process.env, NO_COLOR: '1' };
for (const k of Object.keys(cliEnv)) if (k.startsWith('ORCHESTRATOR_')) delete cliEnv[k];
cliEnv.ORCHESTRATOR_HOME = join(work, 'orchestrator-home');
// git gets a fixed identity and ignores the user's global config (hooks, signing, templates).
const gitEnv = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Demo',
  GIT_AUTHOR_EMAIL: 'demo@example.invalid',
  GIT_COMMITTER_NAME: 'Demo',
  GIT_COMMITTER_EMAIL: 'demo@example.invalid',
};

class DemoFailure extends Error {}

function out(s = '') {
  process.stdout.write(s.endsWith('\n') ? s : s + '\n');
}

/** Quotes a word the way you would type it in a shell. */
function shellWord(w) {
  if (/^[A-Za-z0-9_\-.,/:=@+%]+$/.test(w)) return w;
  if (!/["$`\\!]/.test(w)) return `"${w}"`;
  return `'${w.replace(/'/g, `'\\''`)}'`;
}

let stepNo = 0;
function step(title, explanation = '') {
  stepNo++;
  out('');
  out(`=== ${stepNo}. ${title} ${'='.repeat(Math.max(3, 72 - title.length - String(stepNo).length - 7))}`);
  if (explanation) out(explanation);
}

function note(text) {
  out(`# ${text}`);
}

/** Runs a program in the repo, prints `$ NAME ARGS` and its output, checks the exit code. */
function runProgram(shown, file, args, env, expect) {
  out('');
  out(`$ ${[shown, ...args].map(shellWord).join(' ')}`);
  const r = spawnSync(file, file === process.execPath ? [BIN, ...args] : args, {
    cwd: repo,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error) throw new DemoFailure(`could not run ${shown}: ${r.error.message}`);
  if (r.stdout) out(r.stdout.trimEnd());
  if (r.stderr) out(r.stderr.trimEnd());
  const code = r.status ?? `signal ${r.signal}`;
  if (code !== expect) {
    throw new DemoFailure(`${shown} ${args.join(' ')}: exit code ${code}, expected ${expect}`);
  }
  if (code !== 0) out(`(exit code ${code}: refused, as expected)`);
  return r.stdout;
}

const orchestrator = (args, expect = 0) => runProgram('orchestrator', process.execPath, args, cliEnv, expect);
const git = (args, expect = 0) => runProgram('git', 'git', args, gitEnv, expect);

function writeFile(rel, content, why) {
  note(`${why}: ${rel}`);
  mkdirSync(dirname(join(repo, rel)), { recursive: true });
  writeFileSync(join(repo, rel), content);
}

function demo() {
  out('orchestrator demo: one task through the default workflow, with the real CLI');
  out(`bundle: ${BIN}`);
  out(`scratch repository: ${repo}`);

  step('A small project in a git repository');
  git(['init', '-q', '-b', 'main']);
  writeFile('greet.js', "exports.greet = (name) => `Hello, ${name}!`;\n", 'the project');
  git(['add', 'greet.js']);
  git(['commit', '-q', '-m', 'Initial commit']);

  step('Set up orchestrator', 'init writes workflow.yaml (the bundled default workflow) and .orchestrator/ (ignored by git).');
  orchestrator(['init']);
  // Commands run WITHOUT a shell; a setting used as a whole word ({{test_command}}) expands to several words.
  const wfPath = join(repo, 'workflow.yaml');
  const before = readFileSync(wfPath, 'utf8');
  const testCommand = 'node greet.test.js';
  const after = before.replace(/^(\s*test_command:\s*).*$/m, `$1"${testCommand}"`);
  if (after === before) throw new DemoFailure('workflow.yaml has no test_command setting to edit');
  writeFileSync(wfPath, after);
  note(`edit workflow.yaml, settings: test_command: "${testCommand}"  (runs without a shell)`);
  orchestrator(['validate']);

  step('Start a task', 'The agent starts the workflow and asks what to do next.');
  orchestrator(['start', 'Add a farewell function']);
  orchestrator(['status']);

  step('PLAN: understand, write the plan, get it approved');
  orchestrator(['complete', 'understand_task', '--notes', 'Need farewell(name) next to greet(name); no open questions']);
  note('try to move on before the plan exists: refused');
  orchestrator(['advance'], 3);
  note('completing the plan item checks that its file exists: refused while it does not');
  orchestrator(['complete', 'initial_plan'], 1);
  writeFile(
    'docs/plan.md',
    '# Plan: farewell(name)\n\nGoal: export farewell(name) from greet.js.\nSteps: test first, then code.\nTest: node greet.test.js\n',
    'the agent writes the plan',
  );
  orchestrator(['complete', 'initial_plan', '--notes', 'Plan in docs/plan.md']);
  note('a manual gate: the human approves (the agent must not)');
  orchestrator(['approve-item', 'user_approval', '--notes', 'Plan looks good']);
  orchestrator(['advance']);

  step('EXECUTE: tests first, then the code');
  writeFile(
    'greet.test.js',
    "const assert = require('node:assert');\nconst { greet, farewell } = require('./greet.js');\nassert.strictEqual(greet('Ada'), 'Hello, Ada!');\nassert.strictEqual(farewell('Ada'), 'Goodbye, Ada!');\nconsole.log('2 tests passed');\n",
    'the agent writes a test',
  );
  orchestrator(['complete', 'write_tests', '--notes', 'greet.test.js covers greet and farewell']);
  writeFile(
    'greet.js',
    "exports.greet = (name) => `Hello, ${name}!`;\nexports.farewell = (name) => `Goodbye, ${name}!`;\n",
    'the agent implements the change',
  );
  orchestrator(['complete', 'implement', '--notes', 'Added farewell() to greet.js']);
  orchestrator(['skip', 'update_docs', '--reason', 'No README or docs mention greet.js yet']);
  git(['add', 'greet.js', 'greet.test.js', 'docs/plan.md']);
  git(['commit', '-q', '-m', 'Add farewell()']);
  orchestrator(['advance']);

  step('REVIEW: read the diff');
  orchestrator(['complete', 'self_review', '--notes', 'Read the diff: two lines of code and a test, nothing else']);
  orchestrator(['skip', 'second_opinion', '--reason', 'Two-line change; no reviewer needed']);
  orchestrator(['advance']);

  step('VERIFY: the test command really runs', `complete run_tests runs "${testCommand}" and records its exit code.`);
  orchestrator(['complete', 'run_tests']);
  orchestrator(['complete', 'check_acceptance', '--notes', 'farewell exported and tested, as docs/plan.md says']);
  orchestrator(['advance']);

  step('LEARN, then finish');
  orchestrator(['complete', 'record_learnings', '--notes', 'Nothing unexpected; the plan held']);
  orchestrator(['skip', 'propose_improvements', '--reason', 'No follow-up work from this change']);
  orchestrator(['finish']);

  step('What was recorded', 'Every step is an event in the session log (.orchestrator/sessions/<id>/log.jsonl).');
  orchestrator(['log', '-n', '10']);

  step('What git sees', 'Everything orchestrator keeps lives in .orchestrator/, which git ignores; only workflow.yaml is yours to commit.');
  const porcelain = git(['status', '--porcelain']);
  const visible = porcelain.split('\n').filter((l) => l.trim() !== '');
  if (visible.length !== 1 || visible[0] !== '?? workflow.yaml') {
    throw new DemoFailure(`git status --porcelain should list only "?? workflow.yaml", got: ${JSON.stringify(visible)}`);
  }
}

let code = 0;
try {
  demo();
  out('');
  out('Demo finished: every command gave the exit code it should.');
} catch (err) {
  code = 1;
  out('');
  out(`DEMO FAILED: ${err instanceof DemoFailure ? err.message : (err?.stack ?? String(err))}`);
  if (!KEEP) out('(run with DEMO_KEEP=1 to keep the scratch repository)');
} finally {
  if (KEEP) out(`kept the scratch repository: ${repo}`);
  else rmSync(work, { recursive: true, force: true });
}
process.exitCode = code;
