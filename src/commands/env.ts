// `env`: which machine this is and how state is kept on it.
import { envFacts } from '../env/facts.ts';
import type { CommandInput, CommandResult } from './types.ts';

export function run({ ctx }: CommandInput): CommandResult {
  const f = envFacts(ctx.paths, ctx.env, ctx.config);
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const lines = [
    `environment: ${f.label}${f.ephemeral ? ' (ephemeral: the machine is thrown away)' : ''}`,
    `home:        ${f.home.path} (writable: ${yes(f.home.writable)})`,
    `global dir:  ${f.global_dir.path} (writable: ${yes(f.global_dir.writable)})`,
    `git:         ${f.git.installed ? f.git.version : 'not installed'}${f.git.repository ? '' : ' (this is not a git repository)'}`,
    `remote:      ${f.remote_url ?? 'none'}`,
    `token from:  ${f.token_sources.length ? f.token_sources.join(', ') : 'none set (git credential fill is tried where git exists)'}`,
    `strategy:    ${f.strategy}${f.auto_save ? ` (saves to ${f.state_branch} after every command that writes${f.auto_push ? ', then pushes' : ''})` : ''}`,
  ];
  return { data: { ok: true, ...f }, text: lines.join('\n') };
}
