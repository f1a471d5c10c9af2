// Secrets (issue 6): every source serves a key in the documented order, the Python tool's
// `.secrets.enc` decrypts natively, a wrong or missing passphrase exits 2 and changes nothing, and
// no value ever shows up anywhere but on the stdout of `get` and `export`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, randomBytes, scryptSync } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  BIN,
  cliEnv,
  diffTrees,
  expectCode,
  FIXTURES,
  git,
  makeRepo,
  ok,
  refuses,
  runCli,
  snapshotTree,
  tempDir,
  type CliOptions,
  type CliResult,
} from './helpers/cli.ts';

const PW = 'leak-canary-passphrase-6c1e';
const FIXTURE_PW = 'fixture-password';
const LEGACY_FILE = join(FIXTURES, 'v2-root', '.secrets.enc');
const LEGACY_VALUES = { OPENAI_API_KEY: 'sk-fixture-not-a-real-key', GITHUB_TOKEN: 'ghp_fixturefixturefixturefixture0000' };

/** A credential helper that answers every `get` with this password. */
function helperConfig(password: string): Record<string, string> {
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'credential.helper',
    GIT_CONFIG_VALUE_0: `!f() { test "$1" = get && printf 'username=x\\npassword=%s\\n' '${password}'; }; f`,
  };
}

/** Environment for one test: its own global directory, and nothing from the machine that could serve a key. */
function envFor(home: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    ORCHESTRATOR_HOME: home,
    ORCHESTRATOR_SECRETS_PASSWORD: PW,
    GIT_CONFIG_NOSYSTEM: '1',
    GITHUB_TOKEN: undefined,
    GH_TOKEN: undefined,
    GITLAB_TOKEN: undefined,
    GIT_TOKEN: undefined,
    SECRETS_PASSWORD: undefined,
    ...extra,
  };
}

interface Ctx {
  repo: string;
  home: string;
  env: Record<string, string | undefined>;
}

function fresh(extra: Record<string, string | undefined> = {}): Ctx {
  const repo = makeRepo();
  const home = tempDir('orch-global-');
  return { repo, home, env: envFor(home, extra) };
}

function sec(c: Ctx, args: string[], opts: CliOptions = {}): CliResult {
  return runCli(c.repo, ['secrets', ...args], { ...opts, env: { ...c.env, ...opts.env } });
}

/** `secrets set` with the value on stdin, as a script would pipe it (one final newline is dropped). */
function setSecret(c: Ctx, name: string, value: string, opts: { global?: boolean; env?: Record<string, string | undefined> } = {}): CliResult {
  const args = ['set', name, ...(opts.global ? ['--global'] : [])];
  return expectCode(sec(c, args, { input: value + '\n', env: opts.env }), 0, `secrets ${args.join(' ')}`);
}

function getValue(c: Ctx, name: string, env: Record<string, string | undefined> = {}): string {
  const r = expectCode(sec(c, ['get', name], { env }), 0, `secrets get ${name}`);
  assert.ok(r.stdout.endsWith('\n'));
  return r.stdout.slice(0, -1);
}

function jsonOf(r: CliResult): any {
  return JSON.parse(r.stdout);
}

const modeOf = (p: string) => statSync(p).mode & 0o777;

/** Writes a legacy file the way the Python tool did: `openssl enc -aes-256-cbc -pbkdf2 -salt`. */
function opensslEncrypt(path: string, text: string, password: string): boolean {
  const r = spawnSync('openssl', ['enc', '-aes-256-cbc', '-pbkdf2', '-salt', '-pass', `pass:${password}`, '-out', path], { input: text });
  return r.status === 0;
}
const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0;
const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0;

describe('sources and their order', () => {
  test('each source serves a key: environment, repo store, legacy file, global store, git credential fill; the first wins', () => {
    const c = fresh(helperConfig('token-from-git-credential'));
    mkdirSync(join(c.repo, '.orchestrator', 'secrets'), { recursive: true });
    cpSync(LEGACY_FILE, join(c.repo, '.orchestrator', 'secrets', 'secrets.enc'));
    const legacyEnv = { SECRETS_PASSWORD: FIXTURE_PW };
    setSecret(c, 'GITHUB_TOKEN', 'token-from-repo-store');
    setSecret(c, 'GITHUB_TOKEN', 'token-from-global-store', { global: true });

    // All five hold it: the environment wins, and ORCHESTRATOR_KEY serves when KEY is unset.
    assert.equal(getValue(c, 'GITHUB_TOKEN', { ...legacyEnv, GITHUB_TOKEN: 'token-from-env' }), 'token-from-env');
    assert.equal(getValue(c, 'GITHUB_TOKEN', { ...legacyEnv, ORCHESTRATOR_GITHUB_TOKEN: 'token-from-prefixed-env' }), 'token-from-prefixed-env');
    assert.equal(getValue(c, 'GITHUB_TOKEN', { ...legacyEnv, GITHUB_TOKEN: 'token-from-env', ORCHESTRATOR_GITHUB_TOKEN: 'x' }), 'token-from-env');
    // An empty variable counts as unset.
    assert.equal(getValue(c, 'GITHUB_TOKEN', { ...legacyEnv, GITHUB_TOKEN: '' }), 'token-from-repo-store');
    const src = jsonOf(sec(c, ['sources', '--json'], { env: legacyEnv }));
    assert.deepEqual(
      src.keys.find((k: any) => k.name === 'GITHUB_TOKEN'),
      { name: 'GITHUB_TOKEN', source: 'repo', from: '.orchestrator/secrets/store.json', shadows: ['.orchestrator/secrets/secrets.enc', join(c.home, 'secrets', 'store.json')], unknown: [] },
    );

    ok(c.repo, ['secrets', 'unset', 'GITHUB_TOKEN'], { env: c.env });
    assert.equal(getValue(c, 'GITHUB_TOKEN', legacyEnv), LEGACY_VALUES.GITHUB_TOKEN);
    assert.equal(getValue(c, 'OPENAI_API_KEY', legacyEnv), LEGACY_VALUES.OPENAI_API_KEY);

    rmSync(join(c.repo, '.orchestrator', 'secrets', 'secrets.enc'));
    assert.equal(getValue(c, 'GITHUB_TOKEN', legacyEnv), 'token-from-global-store');

    ok(c.repo, ['secrets', 'unset', 'GITHUB_TOKEN', '--global'], { env: c.env });
    assert.equal(getValue(c, 'GITHUB_TOKEN', legacyEnv), 'token-from-git-credential');
    const viaGit = jsonOf(sec(c, ['sources', 'GITHUB_TOKEN', '--json'], { env: legacyEnv }));
    assert.deepEqual(viaGit.keys[0], { name: 'GITHUB_TOKEN', source: 'git-credential', from: 'github.com', shadows: [], unknown: [] });
  });

  test('git credential fill is asked only for git-host tokens, and never waits for a human', () => {
    const c = fresh(helperConfig('helper-answer'));
    assert.equal(getValue(c, 'GH_TOKEN'), 'helper-answer');
    expectCode(sec(c, ['get', 'OPENAI_API_KEY']), 2, 'a non-token name never reaches the helper');
    // ORCHESTRATOR_GIT_TOKEN asks about the origin's host.
    const log = join(c.home, 'asked.txt');
    git(c.repo, ['remote', 'add', 'origin', 'git@git.example.invalid:team/repo.git']);
    const recording = { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'credential.helper', GIT_CONFIG_VALUE_0: `!f() { cat >> '${log}'; printf 'username=x\\npassword=per-host\\n'; }; f` };
    assert.equal(getValue(c, 'ORCHESTRATOR_GIT_TOKEN', recording), 'per-host');
    assert.match(readFileSync(log, 'utf8'), /^host=git\.example\.invalid$/m);
    // No helper at all: git would prompt on the terminal, which is turned off; the lookup ends with exit 2.
    const none = fresh();
    const r = expectCode(runCli(none.repo, ['secrets', 'get', 'GITHUB_TOKEN'], { env: none.env, timeoutMs: 20_000 }), 2, 'no helper');
    assert.equal(r.signal, null);
    assert.match(r.stderr, /GITHUB_TOKEN is not set \(looked in: .*git credential fill for github\.com\)/);
  });

  test('the global store serves every repo; a repo store shadows it in its repo', () => {
    const c = fresh();
    setSecret(c, 'SHARED_KEY', 'global-value', { global: true });
    const other: Ctx = { ...c, repo: makeRepo() };
    assert.equal(getValue(other, 'SHARED_KEY'), 'global-value');
    const r = setSecret(c, 'SHARED_KEY', 'repo-value');
    assert.equal(getValue(c, 'SHARED_KEY'), 'repo-value');
    assert.equal(getValue(other, 'SHARED_KEY'), 'global-value');
    assert.equal(r.stdout, 'Stored SHARED_KEY in .orchestrator/secrets/store.json (1 secret).\n');
    const g = setSecret(c, 'SHARED_KEY', 'global-2', { global: true });
    assert.match(g.stderr, /SHARED_KEY is also in \.orchestrator\/secrets\/store\.json, which wins over the global store in this repo/);
    const e = setSecret(c, 'SHARED_KEY', 'repo-2', { env: { SHARED_KEY: 'from-env' } });
    assert.match(e.stderr, /SHARED_KEY is also set in the environment \(SHARED_KEY\), which wins over the store/);
  });
});

describe('legacy .secrets.enc (openssl enc -aes-256-cbc -pbkdf2)', () => {
  test('the fixture decrypts natively at the repo root (before migrate) and where migrate puts it', () => {
    const c = fresh({ ORCHESTRATOR_SECRETS_PASSWORD: FIXTURE_PW });
    cpSync(join(FIXTURES, 'v2-root'), c.repo, { recursive: true });
    spawnSync('chmod', ['-R', 'u+w', c.repo]);
    for (const [name, value] of Object.entries(LEGACY_VALUES)) assert.equal(getValue(c, name), value);
    // The Python tool's variable works too.
    assert.equal(getValue(c, 'OPENAI_API_KEY', { ORCHESTRATOR_SECRETS_PASSWORD: undefined, SECRETS_PASSWORD: FIXTURE_PW }), LEGACY_VALUES.OPENAI_API_KEY);
    const listed = jsonOf(sec(c, ['list', '--json']));
    assert.deepEqual(listed.names, ['GITHUB_TOKEN', 'OPENAI_API_KEY']);

    chmodSync(join(c.repo, '.secrets.enc'), 0o644);
    const original = readFileSync(join(c.repo, '.secrets.enc'));
    ok(c.repo, ['migrate', '--yes'], { env: c.env });
    assert.ok(!existsSync(join(c.repo, '.secrets.enc')));
    assert.ok(existsSync(join(c.repo, '.orchestrator', 'secrets', 'secrets.enc')));
    // Private once contained, whatever the legacy file's mode; secrets doctor has nothing to say about modes.
    assert.equal(modeOf(join(c.repo, '.orchestrator', 'secrets', 'secrets.enc')), 0o600);
    assert.equal(modeOf(join(c.repo, '.orchestrator', 'secrets')), 0o700);
    assert.doesNotMatch(runCli(c.repo, ['secrets', 'doctor'], { env: c.env }).stdout, /mode \d+/);
    for (const [name, value] of Object.entries(LEGACY_VALUES)) assert.equal(getValue(c, name), value);
    const src = jsonOf(sec(c, ['sources', '--json']));
    assert.deepEqual(src.keys.map((k: any) => [k.name, k.source, k.from]), [
      ['GITHUB_TOKEN', 'legacy', '.orchestrator/secrets/secrets.enc'],
      ['OPENAI_API_KEY', 'legacy', '.orchestrator/secrets/secrets.enc'],
    ]);
    // Rollback brings back the original, bytes and mode.
    ok(c.repo, ['migrate', '--rollback'], { env: c.env });
    assert.ok(readFileSync(join(c.repo, '.secrets.enc')).equals(original));
    assert.equal(modeOf(join(c.repo, '.secrets.enc')), 0o644);
  });

  test('a YAML file as the Python tool wrote it, in .manus/secrets.enc, reads too', { skip: !HAS_OPENSSL && 'no openssl binary to write the file' }, () => {
    const c = fresh({ ORCHESTRATOR_SECRETS_PASSWORD: undefined, SECRETS_PASSWORD: 'py-password' });
    mkdirSync(join(c.repo, '.manus'));
    assert.ok(opensslEncrypt(join(c.repo, '.manus', 'secrets.enc'), "OPENROUTER_API_KEY: or-yaml-value\nANTHROPIC_API_KEY: 'quoted: value'\n", 'py-password'));
    assert.equal(getValue(c, 'OPENROUTER_API_KEY'), 'or-yaml-value');
    assert.equal(getValue(c, 'ANTHROPIC_API_KEY'), 'quoted: value');
  });

  test('without a password it exits 2 naming the variable; a wrong one exits 2; neither prints a value', () => {
    const c = fresh({ ORCHESTRATOR_SECRETS_PASSWORD: undefined });
    mkdirSync(join(c.repo, '.orchestrator', 'secrets'), { recursive: true });
    cpSync(LEGACY_FILE, join(c.repo, '.orchestrator', 'secrets', 'secrets.enc'));
    refuses(c.repo, ['secrets', 'get', 'OPENAI_API_KEY'], 2, [/\.orchestrator\/secrets\/secrets\.enc is encrypted/, /set ORCHESTRATOR_SECRETS_PASSWORD/, /SECRETS_PASSWORD/], { env: c.env });
    const wrong = refuses(c.repo, ['secrets', 'get', 'OPENAI_API_KEY'], 2, [/wrong passphrase for \.orchestrator\/secrets\/secrets\.enc/], {
      env: { ...c.env, ORCHESTRATOR_SECRETS_PASSWORD: 'not-it' },
    });
    assert.doesNotMatch(wrong.stderr, /not-it/);
    // A key a later source holds does not slip past the file that could not be opened.
    setSecret(c, 'OPENAI_API_KEY', 'global-one', { global: true, env: { ORCHESTRATOR_SECRETS_PASSWORD: PW } });
    refuses(c.repo, ['secrets', 'get', 'OPENAI_API_KEY'], 2, [/secrets\.enc is encrypted/], { env: c.env });
    // Reports do not fail: list names what it could not read.
    const listed = expectCode(sec(c, ['list']), 0, 'list');
    assert.equal(listed.stdout, 'OPENAI_API_KEY\n');
    assert.match(listed.stderr, /\.orchestrator\/secrets\/secrets\.enc was not read/);
    const src = jsonOf(expectCode(sec(c, ['sources', '--json']), 0, 'sources'));
    assert.deepEqual(src.keys[0].unknown, ['.orchestrator/secrets/secrets.enc']);
  });
});

describe('the encrypted store', () => {
  test('AES-256-GCM under scrypt: parameters and salt in the file, names readable, values not; 0600 in 0700', () => {
    const c = fresh();
    setSecret(c, 'API_KEY', 'store-canary-value-91');
    const file = join(c.repo, '.orchestrator', 'secrets', 'store.json');
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /store-canary-value-91/);
    const e = JSON.parse(text);
    assert.equal(e.format, 'orchestrator-secrets');
    assert.equal(e.cipher, 'aes-256-gcm');
    assert.deepEqual({ name: e.kdf.name, N: e.kdf.N, r: e.kdf.r, p: e.kdf.p }, { name: 'scrypt', N: 16384, r: 8, p: 1 });
    assert.equal(Buffer.from(e.kdf.salt, 'base64').length, 16);
    assert.equal(Buffer.from(e.iv, 'base64').length, 12);
    assert.deepEqual(e.names, ['API_KEY']);
    assert.equal(modeOf(file), 0o600);
    assert.equal(modeOf(join(c.repo, '.orchestrator', 'secrets')), 0o700);
    // Git never shows it: .orchestrator/ got its .gitignore.
    assert.equal(git(c.repo, ['status', '--porcelain']), '');
    // Every write takes a fresh IV; the salt stays.
    setSecret(c, 'OTHER', 'x');
    const e2 = JSON.parse(readFileSync(file, 'utf8'));
    assert.notEqual(e2.iv, e.iv);
    assert.equal(e2.kdf.salt, e.kdf.salt);
    // The global store likewise.
    setSecret(c, 'API_KEY', 'global-canary', { global: true });
    assert.equal(modeOf(join(c.home, 'secrets', 'store.json')), 0o600);
    assert.equal(modeOf(join(c.home, 'secrets')), 0o700);
    // list needs no passphrase.
    assert.equal(expectCode(sec(c, ['list'], { env: { ORCHESTRATOR_SECRETS_PASSWORD: undefined } }), 0, 'list').stdout, 'API_KEY\nOTHER\n');
  });

  test('a store written with other scrypt parameters opens: they are read from the file', () => {
    const c = fresh();
    const salt = randomBytes(16).toString('base64');
    const kdf = { name: 'scrypt', N: 1024, r: 4, p: 2, salt };
    const names = ['LOW_COST'];
    const key = scryptSync(PW, Buffer.from(salt, 'base64'), 32, { N: 1024, r: 4, p: 2 });
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(JSON.stringify(['orchestrator-secrets', 1, 'scrypt', 1024, 4, 2, salt, 'aes-256-gcm', names])));
    const ct = Buffer.concat([cipher.update(JSON.stringify({ secrets: { LOW_COST: 'cheap-kdf-value' } })), cipher.final()]);
    const envelope = { format: 'orchestrator-secrets', version: 1, kdf, cipher: 'aes-256-gcm', names, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ct.toString('base64') };
    mkdirSync(join(c.repo, '.orchestrator', 'secrets'), { recursive: true });
    writeFileSync(join(c.repo, '.orchestrator', 'secrets', 'store.json'), JSON.stringify(envelope));
    assert.equal(getValue(c, 'LOW_COST'), 'cheap-kdf-value');
    setSecret(c, 'SECOND', 'v');
    assert.equal(JSON.parse(readFileSync(join(c.repo, '.orchestrator', 'secrets', 'store.json'), 'utf8')).kdf.N, 1024, 'a write keeps the parameters');
    assert.equal(getValue(c, 'LOW_COST'), 'cheap-kdf-value');
  });

  test('a wrong passphrase exits 2 and leaves the store and everything else byte-identical', () => {
    const c = fresh();
    setSecret(c, 'KEEP', 'keep-value');
    setSecret(c, 'KEEP', 'global-keep', { global: true });
    const wrong = { ...c.env, ORCHESTRATOR_SECRETS_PASSWORD: 'wrong-passphrase-xyz' };
    const home = snapshotTree(c.home);
    for (const args of [['set', 'NEW'], ['set', 'KEEP'], ['unset', 'KEEP'], ['get', 'KEEP'], ['export']]) {
      const r = refuses(c.repo, ['secrets', ...args], 2, [/wrong passphrase for \.orchestrator\/secrets\/store\.json/, /ORCHESTRATOR_SECRETS_PASSWORD/], { env: wrong, input: 'new-value\n' });
      assert.doesNotMatch(r.stderr, /wrong-passphrase-xyz|new-value/);
    }
    refuses(c.repo, ['secrets', 'set', 'KEEP', '--global'], 2, [/wrong passphrase for .*secrets\/store\.json/], { env: wrong, input: 'new-value\n' });
    assert.deepEqual(diffTrees(home, snapshotTree(c.home)), []);
    assert.equal(getValue(c, 'KEEP'), 'keep-value');
  });

  test('an altered store (names, parameters or bytes) fails authentication; a damaged one is reported, exit 2', () => {
    const c = fresh();
    setSecret(c, 'A_KEY', 'a-value');
    const file = join(c.repo, '.orchestrator', 'secrets', 'store.json');
    const good = readFileSync(file, 'utf8');
    const e = JSON.parse(good);
    for (const altered of [{ ...e, names: ['B_KEY'] }, { ...e, names: ['A_KEY', 'B_KEY'] }, { ...e, kdf: { ...e.kdf, N: 2048 } }]) {
      writeFileSync(file, JSON.stringify(altered));
      const key = altered.names.at(-1);
      refuses(c.repo, ['secrets', 'get', key], 2, [/wrong passphrase for \.orchestrator\/secrets\/store\.json \(or the file was altered\)/], { env: c.env });
    }
    writeFileSync(file, good.slice(0, 40));
    refuses(c.repo, ['secrets', 'get', 'A_KEY'], 2, [/\.orchestrator\/secrets\/store\.json: not a valid secrets store/], { env: c.env });
    refuses(c.repo, ['secrets', 'set', 'A_KEY'], 2, [/not a valid secrets store/], { env: c.env, input: 'x\n' });
  });

  test('without a passphrase and without a terminal, every command that must open a store exits 2 naming the variable', () => {
    const c = fresh();
    setSecret(c, 'LOCKED', 'locked-value');
    const noPw = { ...c.env, ORCHESTRATOR_SECRETS_PASSWORD: undefined };
    for (const args of [['get', 'LOCKED'], ['set', 'LOCKED'], ['set', 'NEW_ONE'], ['unset', 'LOCKED'], ['export']]) {
      refuses(c.repo, ['secrets', ...args], 2, [/no passphrase is set: set ORCHESTRATOR_SECRETS_PASSWORD/], { env: noPw, input: 'v\n' });
    }
    // Also with CI set on a repo without any store: nothing is created.
    const empty = fresh();
    refuses(empty.repo, ['secrets', 'set', 'FIRST'], 2, [/ORCHESTRATOR_SECRETS_PASSWORD/], { env: { ...empty.env, ORCHESTRATOR_SECRETS_PASSWORD: undefined, CI: '1' }, input: 'v\n' });
    assert.deepEqual(readdirSync(empty.repo), ['.git']);
  });

  test('set refuses bad input without echoing it: no value, a bad name, a value on the command line, a NUL byte', () => {
    const c = fresh();
    refuses(c.repo, ['secrets', 'set', 'EMPTY'], 2, [/no value for EMPTY; pipe it in/], { env: c.env, input: '' });
    const badName = refuses(c.repo, ['secrets', 'set', 'sk-looks-like-a-value'], 2, [/a secret name is letters, digits and _/], { env: c.env, input: 'v\n' });
    assert.doesNotMatch(badName.stderr, /sk-looks-like-a-value/);
    const onLine = refuses(c.repo, ['secrets', 'set', 'KEY', 'value-on-the-command-line'], 2, [/usage: orchestrator secrets set KEY/], { env: c.env });
    assert.doesNotMatch(onLine.stderr, /value-on-the-command-line/);
    refuses(c.repo, ['secrets', 'set', 'NUL'], 2, [/NUL byte/], { env: c.env, input: 'a\0b' });
    refuses(c.repo, ['secrets', 'unset', 'NEVER_SET'], 2, [/NEVER_SET is not in \.orchestrator\/secrets\/store\.json/], { env: c.env });
    refuses(c.repo, ['secrets', 'get', 'NEVER_SET'], 2, [/NEVER_SET is not set/, /orchestrator secrets set NEVER_SET/], { env: c.env });
    refuses(c.repo, ['secrets', 'export', '--format', 'yaml'], 2, [/--format yaml: use env .* or dotenv/], { env: c.env });
  });

  test('concurrent sets of different keys all land (the store is re-read under the lock)', async () => {
    const c = fresh();
    setSecret(c, 'K0', 'v0');
    const runs = [1, 2, 3, 4].map(
      (i) =>
        new Promise<number | null>((done) => {
          const child = spawn(process.execPath, [BIN, 'secrets', 'set', `K${i}`], { cwd: c.repo, env: cliEnv(c.env), stdio: ['pipe', 'ignore', 'ignore'] });
          child.stdin.end(`v${i}\n`);
          child.on('close', (code) => done(code));
        }),
    );
    assert.deepEqual(await Promise.all(runs), [0, 0, 0, 0]);
    assert.equal(expectCode(sec(c, ['list']), 0, 'list').stdout, 'K0\nK1\nK2\nK3\nK4\n');
    for (const i of [0, 1, 2, 3, 4]) assert.equal(getValue(c, `K${i}`), `v${i}`);
  });
});

describe('export', () => {
  const NASTY: Record<string, string> = {
    SINGLE_QUOTES: "it's 'quoted'",
    DOUBLE_QUOTES: 'say "hi"',
    SPACES: '  leading and trailing  ',
    NEWLINES: 'line one\nline two\n',
    DOLLAR: '$HOME ${PATH} $(id) $((1+1))',
    BACKTICKS: '`id` and `echo pwned`',
    BACKSLASHES: 'a\\b\\\\c\\n',
    MIXED: `'"\`$\\\n;|&<>*?#~!%`,
    UNICODE: 'päss-wörd ✓',
    DASH: '-n -e',
  };

  test("--format env: eval of the output sets each variable to exactly its value, whatever it holds", () => {
    const c = fresh();
    for (const [k, v] of Object.entries(NASTY)) setSecret(c, k, v);
    for (const [k, v] of Object.entries(NASTY)) {
      const r = spawnSync('sh', ['-c', `eval "$('${process.execPath}' '${BIN}' secrets export)" && printf %s "$${k}"`], { cwd: c.repo, env: cliEnv(c.env), encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, v, `${k} came back changed`);
    }
    // Only the names asked for, and a file to source ($CLAUDE_ENV_FILE) works the same.
    const envFile = join(c.home, 'claude.env');
    const one = expectCode(sec(c, ['export', 'DOLLAR']), 0, 'export DOLLAR');
    assert.equal(one.stdout, `export DOLLAR='$HOME \${PATH} $(id) $((1+1))'\n`);
    writeFileSync(envFile, expectCode(sec(c, ['export']), 0, 'export').stdout);
    const sourced = spawnSync('sh', ['-c', `. '${envFile}' && printf %s "$MIXED"`], { encoding: 'utf8' });
    assert.equal(sourced.stdout, NASTY.MIXED);
  });

  test('--format dotenv: single quotes when literal is safe, else double quotes with \\\\ \\" \\n \\r escapes', () => {
    const c = fresh();
    for (const [k, v] of Object.entries(NASTY)) setSecret(c, k, v);
    const out = expectCode(sec(c, ['export', '--format', 'dotenv']), 0, 'export dotenv').stdout;
    const parsed = new Map<string, string>();
    for (const line of out.split('\n').filter(Boolean)) {
      const m = /^([A-Z_]+)=(?:'([^'\\\n]*)'|"((?:[^"\\\n]|\\[\\"nr])*)")$/.exec(line);
      assert.ok(m, `not a documented dotenv line: ${line}`);
      parsed.set(m[1]!, m[2] ?? m[3]!.replace(/\\(.)/g, (_, ch: string) => ({ n: '\n', r: '\r' })[ch] ?? ch));
    }
    assert.deepEqual(Object.fromEntries(parsed), NASTY);
    assert.match(out, /^DOLLAR='\$HOME \$\{PATH\} \$\(id\) \$\(\(1\+1\)\)'$/m);
  });
});

describe('doctor', () => {
  test('ok for a fresh store; problems (exit 1) for loose modes, a wrong passphrase, a store git tracks', () => {
    const c = fresh();
    setSecret(c, 'DOC_KEY', 'doc-value');
    const good = jsonOf(expectCode(sec(c, ['doctor', '--json']), 0, 'doctor'));
    assert.equal(good.ok, true);
    assert.ok(good.findings.some((f: any) => f.level === 'ok' && f.subject === '.orchestrator/secrets/store.json' && /1 secret; ORCHESTRATOR_SECRETS_PASSWORD opens it/.test(f.message)));

    chmodSync(join(c.repo, '.orchestrator', 'secrets', 'store.json'), 0o644);
    chmodSync(join(c.repo, '.orchestrator', 'secrets'), 0o755);
    const loose = expectCode(sec(c, ['doctor']), 1, 'doctor with loose modes');
    assert.match(loose.stdout, /PROBLEM {2}\.orchestrator\/secrets\/store\.json: mode 0644: others can read it; run: chmod 600 /);
    assert.match(loose.stdout, /PROBLEM {2}\.orchestrator\/secrets: mode 0755: others can list it; run: chmod 700 /);
    // The next write tightens them again.
    setSecret(c, 'DOC_KEY', 'doc-value-2');
    assert.equal(modeOf(join(c.repo, '.orchestrator', 'secrets', 'store.json')), 0o600);
    assert.equal(modeOf(join(c.repo, '.orchestrator', 'secrets')), 0o700);

    const wrong = expectCode(sec(c, ['doctor'], { env: { ORCHESTRATOR_SECRETS_PASSWORD: 'nope' } }), 1, 'doctor, wrong passphrase');
    assert.match(wrong.stdout, /PROBLEM {2}\.orchestrator\/secrets\/store\.json: wrong passphrase/);

    git(c.repo, ['add', '-f', '.orchestrator/secrets/store.json']);
    const tracked = expectCode(sec(c, ['doctor']), 1, 'doctor, tracked');
    assert.match(tracked.stdout, /PROBLEM {2}\.orchestrator\/secrets: tracked by git/);
    assert.doesNotMatch(tracked.stdout + tracked.stderr, /doc-value/);
  });
});

describe('terminal prompts', { skip: !HAS_SCRIPT && 'util-linux script is not installed' }, () => {
  /** Runs the CLI on a pseudo-terminal (script), typing each answer once its prompt has appeared. */
  function onTty(c: Ctx, args: string[], answers: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; out: string }> {
    const cmd = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
    return new Promise((done) => {
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: c.repo, env: cliEnv({ ...c.env, ...env }), stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let answered = 0;
      const pending = [...answers];
      child.stdout.on('data', (d) => {
        out += d;
        const prompts = (out.match(/(Passphrase for [^:]+|New passphrase for [^:]+|The same passphrase again|Value for [A-Z_]+): /g) ?? []).length;
        while (answered < prompts && pending.length) {
          answered++;
          child.stdin.write(pending.shift() + '\r');
        }
      });
      child.on('close', (code) => done({ code, out }));
    });
  }

  test('get and set ask for the passphrase (and the value) without echoing them', async () => {
    const c = fresh({ ORCHESTRATOR_SECRETS_PASSWORD: undefined });
    const created = await onTty(c, ['secrets', 'set', 'TTY_KEY'], ['typed-secret-value', 'typed-passphrase', 'typed-passphrase']);
    assert.equal(created.code, 0, created.out);
    assert.match(created.out, /Value for TTY_KEY: /);
    assert.match(created.out, /New passphrase for \.orchestrator\/secrets\/store\.json: /);
    assert.doesNotMatch(created.out, /typed-secret-value|typed-passphrase/);
    assert.equal(getValue(c, 'TTY_KEY', { ORCHESTRATOR_SECRETS_PASSWORD: 'typed-passphrase' }), 'typed-secret-value');

    const got = await onTty(c, ['secrets', 'get', 'TTY_KEY'], ['typed-passphrase']);
    assert.equal(got.code, 0, got.out);
    assert.match(got.out, /Passphrase for \.orchestrator\/secrets\/store\.json: \r?\ntyped-secret-value\r?\n$/);

    const before = snapshotTree(c.repo);
    const wrong = await onTty(c, ['secrets', 'set', 'TTY_KEY'], ['other-value', 'not-the-passphrase']);
    assert.equal(wrong.code, 2, wrong.out);
    assert.match(wrong.out, /wrong passphrase for \.orchestrator\/secrets\/store\.json/);
    assert.deepEqual(diffTrees(before, snapshotTree(c.repo)), []);
  });

  test('a new store needs the same passphrase twice; otherwise nothing is written', async () => {
    const c = fresh({ ORCHESTRATOR_SECRETS_PASSWORD: undefined });
    const r = await onTty(c, ['secrets', 'set', 'TTY_KEY'], ['v', 'first', 'second']);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /the two passphrases differ; nothing was changed/);
    assert.deepEqual(readdirSync(c.repo), ['.git']);
  });

  test('the legacy file\'s password is asked for on a terminal', async () => {
    const c = fresh({ ORCHESTRATOR_SECRETS_PASSWORD: undefined });
    cpSync(LEGACY_FILE, join(c.repo, '.secrets.enc'));
    const r = await onTty(c, ['secrets', 'get', 'OPENAI_API_KEY'], [FIXTURE_PW]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Passphrase for \.secrets\.enc: \r?\nsk-fixture-not-a-real-key\r?\n$/);
  });
});

describe('no value leaks', () => {
  test('after every secrets command and a workflow, no value is in .orchestrator/ (but the store), the state branch, or any output but get/export', () => {
    const canaries = {
      REPO_CANARY: 'leak-canary-repo-3f9a1c',
      GLOBAL_CANARY: 'leak-canary-global-8d2e4b',
      GH_TOKEN: 'leak-canary-credential-5a7c',
      ENV_CANARY: 'leak-canary-env-0b1d9e',
    };
    const c = fresh({ ...helperConfig(canaries.GH_TOKEN), SECRETS_PASSWORD: FIXTURE_PW, ENV_CANARY: canaries.ENV_CANARY });
    const values = [...Object.values(canaries), ...Object.values(LEGACY_VALUES), PW, FIXTURE_PW];
    const quiet: CliResult[] = [];
    const printing: CliResult[] = [];
    const run = (args: string[], opts: CliOptions = {}, expected = 0) => {
      const r = expectCode(runCli(c.repo, args, { ...opts, env: { ...c.env, ...opts.env } }), expected, args.join(' '));
      ((args[0] === 'secrets' && (args[1] === 'get' || args[1] === 'export')) ? printing : quiet).push(r);
      return r;
    };

    run(['start', 'Leak check task']);
    mkdirSync(join(c.repo, '.orchestrator', 'secrets'), { recursive: true });
    cpSync(LEGACY_FILE, join(c.repo, '.orchestrator', 'secrets', 'secrets.enc'));
    chmodSync(join(c.repo, '.orchestrator', 'secrets', 'secrets.enc'), 0o600);
    run(['secrets', 'set', 'REPO_CANARY'], { input: canaries.REPO_CANARY + '\n' });
    run(['secrets', 'set', 'GLOBAL_CANARY', '--global'], { input: canaries.GLOBAL_CANARY + '\n' });
    run(['secrets', 'set', 'TEMPORARY'], { input: canaries.REPO_CANARY + '-temp\n' });
    run(['secrets', 'unset', 'TEMPORARY']);
    for (const name of [...Object.keys(canaries), ...Object.keys(LEGACY_VALUES)]) run(['secrets', 'get', name]);
    run(['secrets', 'export']);
    run(['secrets', 'export', '--format', 'dotenv', 'GH_TOKEN', 'ENV_CANARY']);
    run(['secrets', 'list']);
    run(['secrets', 'list', '--json']);
    run(['secrets', 'sources']);
    run(['secrets', 'sources', '--json']);
    run(['secrets', 'sources', 'GH_TOKEN', 'ENV_CANARY', 'REPO_CANARY', '--json']);
    run(['secrets', 'doctor']);
    run(['secrets', 'doctor', '--json']);
    run(['secrets', 'get', 'REPO_CANARY'], { env: { ORCHESTRATOR_SECRETS_PASSWORD: 'wrong' } }, 2);
    run(['secrets', 'set', 'REPO_CANARY'], { env: { ORCHESTRATOR_SECRETS_PASSWORD: 'wrong' }, input: 'x\n' }, 2);
    run(['complete', 'understand_task', '--notes', 'done']);
    run(['status']);
    run(['status', '--json']);
    run(['log']);
    run(['doctor']);
    run(['state', 'save']);
    run(['state', 'status']);

    // The checks can fail: get and export did print the values.
    const printed = printing.map((r) => r.stdout).join('\n');
    for (const v of Object.values(canaries)) assert.ok(printed.includes(v), `get/export never printed ${v}`);
    for (const v of Object.values(LEGACY_VALUES)) assert.ok(printed.includes(v));
    for (const r of printing) for (const v of values) assert.ok(!r.stderr.includes(v), `a value on stderr of get/export: ${v}`);

    for (const r of quiet) for (const v of values) assert.ok(!r.stdout.includes(v) && !r.stderr.includes(v), `value ${v} in the output of a command:\n${r.stdout}\n${r.stderr}`);

    const encrypted = new Set(['secrets/store.json', 'secrets/secrets.enc']);
    const scan = (root: string, skip: Set<string>) => {
      const files: string[] = [];
      const walk = (rel: string) => {
        for (const name of readdirSync(join(root, rel))) {
          const r = rel ? `${rel}/${name}` : name;
          if (statSync(join(root, r)).isDirectory()) walk(r);
          else if (!skip.has(r)) files.push(r);
        }
      };
      walk('');
      for (const f of files) {
        const content = readFileSync(join(root, f)).toString('latin1');
        for (const v of values) assert.ok(!content.includes(Buffer.from(v).toString('latin1')), `value ${v} in ${root}/${f}`);
      }
      return files;
    };
    const scanned = scan(join(c.repo, '.orchestrator'), encrypted);
    assert.ok(scanned.some((f) => f.endsWith('log.jsonl')) && scanned.includes('meta.json'), 'the scan saw the workflow files');
    scan(c.home, new Set(['secrets/store.json']));

    // The state branch: no secrets/ path, and no object holding a value.
    const paths = git(c.repo, ['ls-tree', '-r', '--name-only', 'orchestrator-state']).split('\n').filter(Boolean);
    assert.ok(paths.length > 0);
    assert.deepEqual(paths.filter((p) => p.startsWith('secrets') || p.includes('/secrets/')), []);
    const objects = spawnSync('git', ['cat-file', '--batch-all-objects', '--batch'], { cwd: c.repo, maxBuffer: 64 << 20 }).stdout.toString('latin1');
    assert.ok(objects.length > 0);
    for (const v of values) assert.ok(!objects.includes(v), `value ${v} in a git object`);
  });
});
