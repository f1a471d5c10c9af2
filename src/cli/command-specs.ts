// The command line surface: names, usage, flags and help text of every command. Implementations
// are loaded lazily, so `status` does not pay for the YAML parser that `start` needs.
import type { CommandRun } from '../commands/types.ts';
import { bool, type FlagSpecs, type Parsed } from './args.ts';

export interface CommandSpec {
  /** Words that name it: ['complete'] or ['session', 'list']. */
  name: string[];
  usage: string;
  summary: string;
  details?: string;
  flags: FlagSpecs;
  args: { min: number; max: number };
  /** Takes --json and prints one JSON document. */
  json: boolean;
  /** May write files (takes the repo lock): the CLI then guards against signals and checks the layout. */
  writes: boolean | ((args: Parsed) => boolean);
  load: () => Promise<CommandRun>;
}

const json = { json: { type: 'boolean', help: 'print exactly one JSON document on stdout' } } as const satisfies FlagSpecs;

export const COMMANDS: CommandSpec[] = [
  {
    name: ['init'],
    usage: 'init [--template SRC [--var NAME=VALUE]...] [--portable] [--force]',
    summary: 'write workflow.yaml (the bundled default, or a template\'s) and create .orchestrator/',
    details:
      'Never overwrites an existing workflow.yaml unless --force is given. --portable writes an .orchestrator/.gitignore that keeps workflow state committable (secrets/, cache/, locks/, backups/ stay ignored). ' +
      '--template SRC writes a template instead of the bundled default. SRC is a folder (a path with a /, or starting with . or ~), a name (the folder templates/NAME in the global directory: $ORCHESTRATOR_HOME, else $XDG_CONFIG_HOME/orchestrator, else ~/.config/orchestrator), or a git URL http(s)://HOST/PATH[#REF][:SUBDIR] (REF a branch or tag, SUBDIR the template\'s folder in the repository; #REF comes before :SUBDIR and PATH cannot hold # or :), cloned shallow into a temporary directory that is removed afterwards; a token (ORCHESTRATOR_GIT_TOKEN, GITHUB_TOKEN, GH_TOKEN, else git credential fill) is sent only when the server asks. ' +
      'A template folder holds workflow.yaml, optionally config.yaml (written to .orchestrator/config.yaml) and template.yaml (description, variables: [{name, description, default | required: true}], files: [{from, to}] for more files). {{NAME}} of a declared variable is replaced in every file and in files[].to; other {{...}} stay for the workflow\'s settings. ' +
      'Everything is checked before anything is written: a path that leaves the repo (absolute, .., through a symlink), points into .git or .orchestrator/, a symlink in the template, an unknown or missing --var, or an invalid resulting workflow is refused (exit 2); files that exist with other content are refused (exit 3) unless --force, identical ones are left alone. An unreachable server exits 4, refused credentials 3.',
    flags: {
      template: { type: 'string', value: 'SRC', help: 'a template: folder, name under the global templates/, or http(s) git URL[#REF][:SUBDIR]' },
      var: { type: 'string', value: 'NAME=VALUE', repeatable: true, help: 'a template variable (repeatable)' },
      portable: { type: 'boolean', help: 'keep state committable (ignore only secrets/, cache/, locks/, backups/)' },
      force: { type: 'boolean', help: 'overwrite an existing workflow.yaml (and the template\'s other files)' },
      ...json,
    },
    args: { min: 0, max: 0 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/init.ts')).run,
  },
  {
    name: ['start'],
    usage: 'start "TASK" [--workflow FILE]',
    summary: 'start a workflow for TASK in a new session (works without init)',
    details:
      'Uses --workflow FILE, else the repo\'s workflow.yaml, else the bundled default. The definition is copied into the session state, so later edits to workflow.yaml do not change a running workflow.',
    flags: { workflow: { type: 'string', value: 'FILE', help: 'workflow definition to use' }, ...json },
    args: { min: 1, max: 1 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/start.ts')).run,
  },
  {
    name: ['status'],
    usage: 'status [--json]',
    summary: 'task, phase, progress, every item, blockers and the NEXT command to run',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/status.ts')).run,
  },
  {
    name: ['complete'],
    usage: 'complete ITEM [--notes TEXT]',
    summary: 'run ITEM\'s verification and mark it completed',
    details:
      'ITEM must belong to the current phase. file_exists checks a path inside the repo; command runs the command without a shell (exit code and output tail are recorded); a manual_gate item needs approve-item instead. An item with repo: (a path such as ../api, or a repos.aliases name) runs its check in that repo\'s root, which must exist (else exit 2), and the log records that repo\'s id. A failed verification exits 1 and changes nothing.',
    flags: { notes: { type: 'string', value: 'TEXT', help: 'what was done' }, ...json },
    args: { min: 1, max: 1 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/complete.ts')).run,
  },
  {
    name: ['skip'],
    usage: 'skip ITEM --reason TEXT [--force]',
    summary: 'skip an optional item of the current phase, saying why',
    details:
      'Items with skippable: false (or step_type: required) cannot be skipped. Reasons need 10+ characters (documented and gate steps 50+); gate steps also need --force.',
    flags: {
      reason: { type: 'string', value: 'TEXT', help: 'why the item does not apply (required)' },
      force: { type: 'boolean', help: 'allow skipping a gate step' },
      ...json,
    },
    args: { min: 1, max: 1 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/skip.ts')).run,
  },
  {
    name: ['approve-item'],
    usage: 'approve-item ITEM [--notes TEXT]',
    summary: 'approve a manual_gate item of the current phase (a human decision)',
    flags: { notes: { type: 'string', value: 'TEXT', help: 'what was approved' }, ...json },
    args: { min: 1, max: 1 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/approve-item.ts')).run,
  },
  {
    name: ['advance'],
    usage: 'advance',
    summary: 'move to the next phase once every required item is completed or skipped',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/advance.ts')).run,
  },
  {
    name: ['finish'],
    usage: 'finish [--abandon [--reason TEXT]]',
    summary: 'complete the workflow in its last phase, or abandon it',
    flags: {
      abandon: { type: 'boolean', help: 'end the workflow unfinished' },
      reason: { type: 'string', value: 'TEXT', help: 'why it was abandoned' },
      ...json,
    },
    args: { min: 0, max: 0 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/finish.ts')).run,
  },
  {
    name: ['feedback', 'capture'],
    usage: 'feedback capture [--auto] [--json]',
    summary: "record the session workflow's process and tool feedback (finish does it by itself)",
    details:
      'Derives feedback from the session\'s state and log and appends one line to each of .orchestrator/feedback/process.jsonl (private: task, duration, time per phase, skipped items with their reasons, failed verifications with exit codes, retries) and .orchestrator/feedback/tool.jsonl (anonymous: counts, durations, exit codes, the tool version, and phase/item ids only where the bundled default workflow defines them; never task text, notes, reasons, commands, file names, paths or repo names). In legacy layout mode the Python tool\'s .workflow_process_feedback.jsonl and .workflow_tool_feedback.jsonl are written instead. ' +
      'Capturing a workflow whose state and log have not changed since its last capture writes nothing (each line carries a capture_id of workflow, state checksum and event count). finish and finish --abandon capture by themselves in --auto mode; a failed capture is a notice and never fails finish. --auto prints nothing and treats "no workflow" as nothing to capture. ORCHESTRATOR_SKIP_FEEDBACK=1 turns capture off: nothing is written, and this command says so and exits 0.',
    flags: { auto: { type: 'boolean', help: 'quiet mode (what finish runs): no output, no error when there is no workflow' }, ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/feedback.ts')).capture,
  },
  {
    name: ['feedback', 'review'],
    usage: 'feedback review [--json]',
    summary: 'patterns across captured workflows: items skipped most (and why), checks failing most',
    details:
      'Reads .orchestrator/feedback/process.jsonl (every session of the repo writes there) and the Python tool\'s feedback files, migrated (feedback/workflow.jsonl, its lines in feedback/tool.jsonl) or still in the repo root. A workflow captured more than once counts once, as last captured. Reports workflows by status, average duration, retries, the items skipped most with their most frequent reasons, and the checks (item verifications) failing most with their exit codes. Changes nothing. Lines that are not JSON records are skipped and named: the report is still printed, and the exit code is 2.',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/feedback.ts')).review,
  },
  {
    name: ['validate'],
    usage: 'validate [FILE] [--json]',
    summary: 'check a workflow definition and report every problem with line and column',
    details: 'FILE defaults to the repo\'s workflow.yaml. Exits 1 when problems are found, an item\'s repo: naming an alias that config repos.aliases does not define among them.',
    flags: { ...json },
    args: { min: 0, max: 1 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/validate.ts')).run,
  },
  {
    name: ['log'],
    usage: 'log [-n N] [--json]',
    summary: 'the last N events of the session log (default 20)',
    flags: { n: { type: 'string', short: 'n', value: 'N', help: 'how many events' }, ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/log.ts')).run,
  },
  {
    name: ['checkpoints'],
    usage: 'checkpoints [--json]',
    summary: "the session's checkpoints, oldest first: id, time, phase, message",
    details: 'Reads the Python tool\'s checkpoint files as they are, also before a migration (.workflow_checkpoints/). A file that does not parse is listed with its problem and left alone.',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/checkpoints.ts')).run,
  },
  {
    name: ['checkpoint'],
    usage: 'checkpoint [-m MSG] [--decision TEXT]... [--json]',
    summary: "save a full snapshot of the session's state, the files changed since the start and key decisions",
    details:
      "Writes checkpoints/cp_<id>.json in the session (.workflow_checkpoints/ with layout: legacy) in the Python tool's format: checkpoint_id, workflow_id, phase_id, item_id, timestamp, message, context_summary (task, phase, progress), key_decisions, file_manifest, workflow_state_snapshot and parent_checkpoint_id (the workflow's previous checkpoint). " +
      'file_manifest lists the files git reports changed since the workflow started (committed since, staged, unstaged, and untracked files that are not ignored; .orchestrator/ excluded): the diff is taken against the commit HEAD pointed at when `start` ran, else (workflows started by the Python tool or an earlier version) the last commit before the workflow\'s created_at. Without git the list is empty. ' +
      'The state is not changed; the event checkpoint_created is logged. Restore a checkpoint with: orchestrator resume ID.',
    flags: {
      message: { type: 'string', short: 'm', value: 'MSG', help: 'what this checkpoint marks' },
      decision: { type: 'string', value: 'TEXT', repeatable: true, help: 'a key decision to remember (repeatable)' },
      ...json,
    },
    args: { min: 0, max: 0 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/checkpoint.ts')).run,
  },
  {
    name: ['resume'],
    usage: 'resume [ID] [--json]',
    summary: "restore a checkpoint's state (default: this workflow's newest) and print a prompt to carry on",
    details:
      'First checkpoints the current state (message "Automatic checkpoint before resume to ID"), then replaces the session\'s state with the checkpoint\'s snapshot, sealed with a new checksum, and logs workflow_resumed. ' +
      'The prompt names the task, phase, what is done and skipped, the key decisions, the files changed and the next command. To undo a resume, resume the automatic checkpoint it names; without ID, resume picks the newest checkpoint, which right after a resume is that automatic one. ' +
      'Works on the Python tool\'s checkpoint files. The checkpoint must belong to the session\'s workflow (exit 3 otherwise). An unknown ID, or a checkpoint file that is not valid JSON or holds no valid state, exits 2 and changes nothing.',
    flags: { ...json },
    args: { min: 0, max: 1 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/resume.ts')).run,
  },
  {
    name: ['handoff'],
    usage: 'handoff [--json]',
    summary: 'a Markdown brief for the next agent: task, progress, done, skipped, left, recent events, last checkpoint, next command',
    details:
      'Done items come with their notes, skipped ones with their reasons, open items of the current and later phases of an active workflow with their verification (type and path or command). Recent events are this workflow\'s last 10 in the log. Notes and reasons are cut at 240 characters in the Markdown; --json has them whole. Reads only. Exits 1 when the state\'s checksum does not match, like status.',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/handoff.ts')).run,
  },
  {
    name: ['env'],
    usage: 'env [--json]',
    summary: 'this machine: Claude Code on the web, Codespaces, Gitpod, CI or local; home, git, remote, and how state is kept',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/env.ts')).run,
  },
  {
    name: ['state', 'save'],
    usage: 'state save [--json]',
    summary: 'commit the persisted .orchestrator/ to the state branch (working tree, index, HEAD untouched)',
    details:
      'Writes blobs, trees and a commit straight into git\'s object store and moves refs/heads/<state.branch> (default orchestrator-state) with git\'s lock protocol. Saves everything in .orchestrator/ but secrets/, cache/, locks/ and backups/; refuses a file that looks like a credential. A no-op when nothing changed. Needs no git identity.',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/state.ts')).save,
  },
  {
    name: ['state', 'restore'],
    usage: 'state restore [--json]',
    summary: 'rebuild .orchestrator/ from the state branch (never over newer local work)',
    details: 'Refuses (exit 3) when .orchestrator/ changed here since its last save or restore: run state save first.',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/state.ts')).restore,
  },
  {
    name: ['state', 'push'],
    usage: 'state push [--json]',
    summary: 'fetch, merge if needed, and push the state branch over HTTP(S); never forced',
    details:
      'Remote: state.remote, else origin (ssh forms become https). Token: ORCHESTRATOR_GIT_TOKEN, GITHUB_TOKEN or GH_TOKEN, else git credential fill. .git/config never changes; the remote-tracking ref is refs/orchestrator/remote/<branch>. A push rejected because someone pushed first is fetched, merged and retried (at most 60 rounds, with random growing waits). HTTP 403 means the remote refuses the branch name: set state.branch or state.remote.',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/state.ts')).push,
  },
  {
    name: ['state', 'pull'],
    usage: 'state pull [--json]',
    summary: 'fetch the remote state branch and bring it into the local one (create, fast-forward or merge)',
    details: 'Changes only refs/heads/<state.branch> and the object store; orchestrator state restore then updates .orchestrator/.',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/state.ts')).pull,
  },
  {
    name: ['state', 'log'],
    usage: 'state log [-n N] [--json]',
    summary: 'the saves on the state branch, newest first',
    flags: { n: { type: 'string', short: 'n', value: 'N', help: 'how many saves' }, ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/state.ts')).log,
  },
  {
    name: ['state', 'status'],
    usage: 'state status [--json]',
    summary: 'the state branch against .orchestrator/: saved, or changes not saved yet',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/state.ts')).status,
  },
  // Export only reads state (under the repo lock); the archive it writes is not workflow state.
  {
    name: ['snapshot', 'export'],
    usage: 'snapshot export [FILE] [--include-secrets --passphrase-env VAR] [--force] [--json]',
    summary: 'write the persisted .orchestrator/ and workflow.yaml to one .tar.gz (with a manifest of sha256)',
    details:
      'FILE defaults to orchestrator-snapshot-<repo_id>-<UTC time>.tar.gz in the working directory; an existing FILE is refused (exit 3) unless --force. The archive holds orchestrator-snapshot/manifest.json (format, repo_id, created_at, includes_secrets, each file\'s size and sha256), orchestrator-snapshot/workflow.yaml when the repo has one, and orchestrator-snapshot/orchestrator/: what the state branch saves (everything in .orchestrator/ but secrets/, cache/, locks/ and backups/), read in one moment under the repo lock; links are never followed or packed. ' +
      '--include-secrets adds secrets/ and needs --passphrase-env VAR: the whole archive is then encrypted with AES-256-GCM under a key from scrypt (N=2^15, r=8, p=1, random salt) of the passphrase in $VAR, and written with mode 0600 (default name ...tar.gz.enc). --passphrase-env alone encrypts an archive without secrets. Without --include-secrets, secrets/ is never in the archive. Limits (import checks the same): 256 MiB a file, 1 GiB in all, 100,000 entries. The file is written atomically.',
    flags: {
      'include-secrets': { type: 'boolean', help: 'also pack .orchestrator/secrets/ (needs --passphrase-env)' },
      'passphrase-env': { type: 'string', value: 'VAR', help: 'encrypt with the passphrase held in environment variable VAR' },
      force: { type: 'boolean', help: 'overwrite an existing FILE' },
      ...json,
    },
    args: { min: 0, max: 1 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/snapshot.ts')).exportSnapshot,
  },
  {
    name: ['snapshot', 'import'],
    usage: 'snapshot import FILE [--passphrase-env VAR] [--force] [--json]',
    summary: 'replace the persisted .orchestrator/ (and workflow.yaml) with a snapshot\'s, after checking all of it',
    details:
      'Nothing is written until the whole archive passed: only files and directories under orchestrator-snapshot/ (an absolute path, a ".." component, a link, device, fifo or sparse entry is refused), sizes read from each header within 256 MiB a file and 1 GiB in all (refused before the data is read), at most 100,000 entries, no machine-local or temporary name, and exactly the files of its manifest with their sizes and sha256 (exit 2). ' +
      'An encrypted snapshot needs --passphrase-env VAR (exit 2 naming it when missing or wrong). A snapshot of another repository (its repo_id is not this repo\'s, from .orchestrator/meta.json or derived from git like init does) is refused (exit 3) unless --force; forced, this repo keeps its own meta.json. ' +
      'The archive is then unpacked under .orchestrator/cache/ and swapped in under the repo lock, one rename per top-level entry: the persisted set becomes the snapshot\'s (local sessions it lacks are replaced: export first to keep them). cache/, locks/, backups/ stay; secrets/ stays unless the snapshot carries one. workflow.yaml is written (atomically) when the snapshot has one.',
    flags: {
      'passphrase-env': { type: 'string', value: 'VAR', help: 'environment variable holding the passphrase of an encrypted snapshot' },
      force: { type: 'boolean', help: 'take a snapshot of another repository' },
      ...json,
    },
    args: { min: 1, max: 1 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/snapshot.ts')).importSnapshot,
  },
  {
    name: ['hooks', 'install'],
    usage: 'hooks install [--command CMD] [--json]',
    summary: 'add a SessionStart hook to .claude/settings.json that pulls, restores and shows status',
    details:
      'Merges with what .claude/settings.json holds and is idempotent. The hook runs `<CMD> hooks session-start`; CMD defaults to node on this bundle when it lies inside the repo, else the bootstrap.sh line when ORCHESTRATOR_BASE_URL is set, else `orchestrator` on the PATH.',
    flags: { command: { type: 'string', value: 'CMD', help: 'how the hook runs orchestrator' }, ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/hooks.ts')).install,
  },
  {
    name: ['hooks', 'uninstall'],
    usage: 'hooks uninstall [--json]',
    summary: 'remove only the hook that hooks install added',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/hooks.ts')).uninstall,
  },
  {
    name: ['hooks', 'status'],
    usage: 'hooks status [--json]',
    summary: 'whether the SessionStart hook is installed',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/hooks.ts')).status,
  },
  {
    name: ['hooks', 'session-start'],
    usage: 'hooks session-start',
    summary: 'what the SessionStart hook runs: pull, restore, a short status; silent without orchestrator state',
    flags: {},
    args: { min: 0, max: 0 },
    json: false,
    // Not a writer for the CLI: its layout guard would refuse (exit 3) in a legacy repo, and a hook
    // must never fail a session. The restore takes the repo lock itself.
    writes: false,
    load: async () => (await import('../commands/hooks.ts')).sessionStart,
  },
  // The secrets commands are not writers for the CLI: the store is not workflow state, so the
  // layout guard (which refuses writes in a legacy repo) and the state-branch auto-save do not
  // concern them. `set` and `unset` take the repo lock (or the global one) themselves.
  {
    name: ['secrets', 'get'],
    usage: 'secrets get KEY',
    summary: 'print the value of secret KEY from the first source that has it',
    details:
      'Sources, in order: the environment (KEY, then ORCHESTRATOR_KEY); the repo\'s encrypted store .orchestrator/secrets/store.json; the Python tool\'s openssl-encrypted files .secrets.enc, .orchestrator/secrets/secrets.enc (where migrate puts it) and .manus/secrets.enc; the global store (secrets/store.json in $ORCHESTRATOR_HOME, else $XDG_CONFIG_HOME/orchestrator, else ~/.config/orchestrator); for git-host tokens (GITHUB_TOKEN, GH_TOKEN, GITLAB_TOKEN, ORCHESTRATOR_GIT_TOKEN, GIT_TOKEN) git credential fill, never prompting. An encrypted file is opened only when needed, with ORCHESTRATOR_SECRETS_PASSWORD (legacy files also SECRETS_PASSWORD), else a hidden prompt on a terminal; without a terminal (or with CI set) it exits 2 naming the variable to set. A file that must be opened and cannot be stops the lookup (exit 2): a later source never answers in its place. Not found: exit 2. Prints the value and a newline, nothing else.',
    flags: {},
    args: { min: 1, max: 1 },
    json: false,
    writes: false,
    load: async () => (await import('../commands/secrets.ts')).get,
  },
  {
    name: ['secrets', 'set'],
    usage: 'secrets set KEY [--global]',
    summary: 'store secret KEY, encrypted, in the repo\'s store (or the global one); the value comes from stdin or a hidden prompt',
    details:
      'The value is read from stdin when it is not a terminal (one final line break is dropped: printf \'%s\' "$VALUE" | orchestrator secrets set KEY), else typed at a hidden prompt; never from the command line, where ps would show it. The store is AES-256-GCM with a key from scrypt (N=16384, r=8, p=1, recorded in the file) of ORCHESTRATOR_SECRETS_PASSWORD, else of a passphrase typed at a prompt (twice for a new store). A wrong passphrase exits 2 and changes nothing. Names stay readable in the file (list needs no passphrase); values do not. Files are written atomically with mode 0600 in a 0700 directory, under the repo lock (the global lock with --global).',
    flags: { global: { type: 'boolean', help: 'use the global store (all repos of this user) instead of the repo\'s' } },
    args: { min: 1, max: 1 },
    json: false,
    writes: false,
    load: async () => (await import('../commands/secrets.ts')).set,
  },
  {
    name: ['secrets', 'unset'],
    usage: 'secrets unset KEY [--global]',
    summary: 'remove secret KEY from the repo\'s store (or the global one)',
    details: 'Needs the passphrase like set (the store is re-encrypted without KEY). A KEY the store does not hold exits 2.',
    flags: { global: { type: 'boolean', help: 'remove it from the global store' } },
    args: { min: 1, max: 1 },
    json: false,
    writes: false,
    load: async () => (await import('../commands/secrets.ts')).unset,
  },
  {
    name: ['secrets', 'list'],
    usage: 'secrets list [--json]',
    summary: 'the names of the stored secrets (never their values)',
    details:
      'Names from the repo\'s store, the legacy files and the global store. Stores are listed without a passphrase; a legacy file is read only with ORCHESTRATOR_SECRETS_PASSWORD or SECRETS_PASSWORD set, and one that cannot be read is named on stderr. Never prompts.',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/secrets.ts')).list,
  },
  {
    name: ['secrets', 'sources'],
    usage: 'secrets sources [KEY...] [--json]',
    summary: 'which source serves each secret, and which sources it shadows; values masked',
    details:
      'Without KEY: every stored name. With KEY: those names, and git credential fill is asked for git-host tokens no other source has. A file that cannot be read and comes before the serving source is named (it might hold the key). Never prints a value, never prompts.',
    flags: { ...json },
    args: { min: 0, max: 100 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/secrets.ts')).sources,
  },
  {
    name: ['secrets', 'export'],
    usage: 'secrets export [KEY...] [--format env|dotenv]',
    summary: 'print secrets as shell export lines (for eval or $CLAUDE_ENV_FILE) or dotenv lines',
    details:
      'Without KEY: every stored name, each resolved like get (the environment wins). --format env (default) prints export KEY=\'value\' lines quoted for any POSIX shell: eval "$(orchestrator secrets export)", or orchestrator secrets export >> "$CLAUDE_ENV_FILE". --format dotenv prints KEY=\'value\', or KEY="value" with \\\\ \\" \\n \\r escapes when the value holds a quote, backslash or line break (python-dotenv and docker compose read both; $ is not escaped). Needs the passphrases like get.',
    flags: { format: { type: 'string', value: 'env|dotenv', help: 'output format (default env)' } },
    args: { min: 0, max: 100 },
    json: false,
    writes: false,
    load: async () => (await import('../commands/secrets.ts')).exportSecrets,
  },
  {
    name: ['secrets', 'doctor'],
    usage: 'secrets doctor [--json]',
    summary: 'check every secrets source: readable, passphrase right, file modes, not tracked by git',
    details:
      'Opens the stores only with ORCHESTRATOR_SECRETS_PASSWORD (legacy files also SECRETS_PASSWORD); never prompts, never prints a value. Problems (exit 1): a store or legacy file that does not open or parse, a file others can read (not 0600) or a directory others can list (not 0700), .orchestrator/secrets/ tracked or not ignored by git.',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/secrets-doctor.ts')).run,
  },
  {
    name: ['session', 'list'],
    usage: 'session list [--json]',
    summary: 'every session: id, task, status, which one is current',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/session.ts')).list,
  },
  {
    name: ['session', 'show'],
    usage: 'session show [ID] [--json]',
    summary: 'one session\'s metadata and workflow summary (default: the chosen session)',
    flags: { ...json },
    args: { min: 0, max: 1 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/session.ts')).show,
  },
  {
    name: ['session', 'switch'],
    usage: 'session switch ID',
    summary: 'make ID the current session',
    flags: { ...json },
    args: { min: 1, max: 1 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/session.ts')).switchTo,
  },
  {
    name: ['session', 'new'],
    usage: 'session new',
    summary: 'create an empty session and make it current',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/session.ts')).create,
  },
  {
    name: ['session', 'end'],
    usage: 'session end [ID]',
    summary: 'stop using a session: it is no longer current (its files stay)',
    flags: { ...json },
    args: { min: 0, max: 1 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/session.ts')).end,
  },
  {
    name: ['migrate'],
    usage: 'migrate [--dry-run] [--yes] [--rollback] [--prefer old|new] [--json]',
    summary: "move the Python tool's legacy files into .orchestrator/ (all or nothing), or back",
    details:
      'Legacy files (.workflow_state.json, .workflow_log.jsonl, .workflow_checkpoints/, feedback, secrets, .orchestrator.yaml, .claude/prd_state.json, …) are checked, copied into a staging directory, verified by sha256, switched into place and only then moved to .orchestrator/backups/<timestamp>/. Every step is journalled in .orchestrator/migration.json; after a crash the next command finishes or undoes it. --dry-run lists every move and problem and changes nothing; --yes is required to migrate; --rollback puts the legacy files back byte for byte (refused if the contained state changed since). When both layouts hold the same file, --prefer old or --prefer new decides.',
    flags: {
      'dry-run': { type: 'boolean', help: 'show the plan and every problem; change nothing' },
      yes: { type: 'boolean', help: 'go ahead (there is never a prompt)' },
      rollback: { type: 'boolean', help: 'undo the last migration' },
      prefer: { type: 'string', value: 'old|new', help: 'which side wins when both layouts hold a file' },
      ...json,
    },
    args: { min: 0, max: 0 },
    json: true,
    writes: true,
    load: async () => (await import('../commands/migrate.ts')).run,
  },
  {
    name: ['doctor'],
    usage: 'doctor [--json] [--reseal] [--fix-repo-id]',
    summary: 'check .orchestrator/: layout, metadata, state checksums, logs, locks',
    details:
      'Exits 1 when a problem is found. --reseal accepts a state file edited by hand: it recomputes its checksum (after you have looked at the edit). A meta.json whose repo id belongs to another repository (.orchestrator/ copied from elsewhere: its origin, or its root commit, is not this repo\'s) is a problem; --fix-repo-id derives this repo\'s own id and records it (the old one stays as previous_repo_id), and does nothing when the id is already this repo\'s.',
    flags: {
      reseal: { type: 'boolean', help: 'recompute the checksum of the chosen session\'s state' },
      'fix-repo-id': { type: 'boolean', help: 'give a copied .orchestrator/ this repo\'s own repo id' },
      ...json,
    },
    args: { min: 0, max: 0 },
    json: true,
    writes: (args) => bool(args, 'reseal') || bool(args, 'fix-repo-id'),
    load: async () => (await import('../commands/doctor.ts')).run,
  },
  {
    name: ['repos', 'list'],
    usage: 'repos list [--json]',
    summary: 'every repo orchestrator worked in on this machine: root, repo id, last seen, moved or missing',
    details:
      'Reads repos.json in the global directory ($ORCHESTRATOR_HOME, else $XDG_CONFIG_HOME/orchestrator, else ~/.config/orchestrator). A repo is recorded there after a command that changes something in it (at most once a minute; the 500 most recently seen are kept). Flags: missing (its directory is gone), moved (gone, and the same repo id was seen at another root), changed (the directory holds no .orchestrator/meta.json or another repo id). When the global directory is not writable nothing is recorded, and commands say so once per repo.',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/repos.ts')).list,
  },
  {
    name: ['repos', 'status'],
    usage: 'repos status [--json]',
    summary: "each recorded repo's task, phase, progress and last activity",
    details:
      'Reads each repo\'s current session the way status does, changing nothing anywhere. A repo whose state cannot be read shows the problem (and the listing goes on); flagged repos (missing, moved, changed) show their flag instead. Last activity is the newest of the session log\'s modification time and the state\'s last write.',
    flags: { ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/repos.ts')).status,
  },
  {
    name: ['config', 'get'],
    usage: 'config get KEY [--origin] [--json]',
    summary: 'the effective value of one config key (or settings.NAME), optionally where it came from',
    details:
      'Exits 1 when settings.NAME is set nowhere. Keys, defaults and descriptions: orchestrator config show --effective.',
    flags: { origin: { type: 'boolean', help: 'also print the layer the value came from (file:line, variable, default)' }, ...json },
    args: { min: 1, max: 1 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/config.ts')).get,
  },
  {
    name: ['config', 'set'],
    usage: 'config set KEY VALUE [--global] [--json]',
    summary: 'write KEY in .orchestrator/config.yaml (or the global config.yaml with --global)',
    details:
      'The value is checked against the key\'s type first (exit 2 naming what it takes). Comments and other keys in the file are kept. A higher layer that still wins (ORCHESTRATOR_<KEY>) is named. settings.NAME overrides a workflow {{NAME}} value.',
    flags: { global: { type: 'boolean', help: 'edit the global config.yaml ($ORCHESTRATOR_HOME, $XDG_CONFIG_HOME/orchestrator or ~/.config/orchestrator)' }, ...json },
    args: { min: 2, max: 2 },
    json: true,
    writes: (args) => !bool(args, 'global'),
    load: async () => (await import('../commands/config.ts')).set,
  },
  {
    name: ['config', 'unset'],
    usage: 'config unset KEY [--global] [--json]',
    summary: 'remove KEY from .orchestrator/config.yaml (or the global config.yaml) and print what now applies',
    flags: { global: { type: 'boolean', help: 'edit the global config.yaml' }, ...json },
    args: { min: 1, max: 1 },
    json: true,
    writes: (args) => !bool(args, 'global'),
    load: async () => (await import('../commands/config.ts')).unset,
  },
  {
    name: ['config', 'show'],
    usage: 'config show [--effective] [--origin] [--global] [--json]',
    summary: 'the keys some layer sets; --effective every key; --origin where each value came from',
    details:
      'Layers, lowest first: defaults < the Python tool\'s ~/.orchestrator/config.yaml and ~/.config/orchestrator/config.yaml < global config.yaml < the repo\'s .orchestrator.yaml (Python tool) < .orchestrator/config.yaml < ORCHESTRATOR_<KEY> < flags. --global shows only what the global config.yaml sets. Problems in a file are warnings naming file, line and key.',
    flags: {
      effective: { type: 'boolean', help: 'every key, including those at their default' },
      origin: { type: 'boolean', help: 'the layer each value came from: file:line, variable, default' },
      global: { type: 'boolean', help: 'only what the global config.yaml sets' },
      ...json,
    },
    args: { min: 0, max: 0 },
    json: true,
    writes: false,
    load: async () => (await import('../commands/config.ts')).show,
  },
];

export function findCommand(argv: readonly string[]): { spec: CommandSpec; rest: string[] } | null {
  let best: CommandSpec | null = null;
  for (const c of COMMANDS) {
    if (c.name.every((w, i) => argv[i] === w) && (!best || c.name.length > best.name.length)) best = c;
  }
  return best ? { spec: best, rest: argv.slice(best.name.length) } : null;
}
