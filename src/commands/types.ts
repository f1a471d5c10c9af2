// What a command receives and returns. Commands never print and never exit: the CLI does both.
import type { ExitCodeValue } from '../errors.ts';
import type { Parsed } from '../cli/args.ts';
import type { RepoContext } from '../store/workflow-session.ts';

export interface CommandInput {
  args: Parsed;
  ctx: RepoContext;
  /** True when a human may answer a prompt: stdin is a TTY and CI is not set. */
  interactive: () => boolean;
}

export interface CommandResult {
  /** 0, or the code of what the report found (1 a failed check, 2 a corrupt file it read past). */
  exitCode?: ExitCodeValue;
  /** The one JSON document printed with --json. */
  data: unknown;
  /** Human output for stdout. */
  text: string;
  /** One-line notices for stderr (also shown with --json). */
  notices?: string[];
}

export type CommandRun = (input: CommandInput) => CommandResult | Promise<CommandResult>;
