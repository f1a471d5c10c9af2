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
    usage: 'init [--portable] [--force]',
    summary: 'write workflow.yaml (the bundled default) and create .orchestrator/',
    details:
      'Never overwrites an existing workflow.yaml unless --force is given. --portable writes an .orchestrator/.gitignore that keeps workflow state committable (secrets/, cache/, locks/, backups/ stay ignored).',
    flags: {
      portable: { type: 'boolean', help: 'keep state committable (ignore only secrets/, cache/, locks/, backups/)' },
      force: { type: 'boolean', help: 'overwrite an existing workflow.yaml' },
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
      'ITEM must belong to the current phase. file_exists checks a path inside the repo; command runs the command without a shell (exit code and output tail are recorded); a manual_gate item needs approve-item instead. A failed verification exits 1 and changes nothing.',
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
    name: ['validate'],
    usage: 'validate [FILE] [--json]',
    summary: 'check a workflow definition and report every problem with line and column',
    details: 'FILE defaults to the repo\'s workflow.yaml. Exits 1 when problems are found.',
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
    usage: 'doctor [--json] [--reseal]',
    summary: 'check .orchestrator/: layout, metadata, state checksums, logs, locks',
    details:
      'Exits 1 when a problem is found. --reseal accepts a state file edited by hand: it recomputes its checksum (after you have looked at the edit).',
    flags: { reseal: { type: 'boolean', help: 'recompute the checksum of the chosen session\'s state' }, ...json },
    args: { min: 0, max: 0 },
    json: true,
    writes: (args) => bool(args, 'reseal'),
    load: async () => (await import('../commands/doctor.ts')).run,
  },
];

export function findCommand(argv: readonly string[]): { spec: CommandSpec; rest: string[] } | null {
  let best: CommandSpec | null = null;
  for (const c of COMMANDS) {
    if (c.name.every((w, i) => argv[i] === w) && (!best || c.name.length > best.name.length)) best = c;
  }
  return best ? { spec: best, rest: argv.slice(best.name.length) } : null;
}
