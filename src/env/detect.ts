// Which kind of machine this is (CONTRACT §7), from environment variables only: no I/O, no cost.
export type EnvironmentKind = 'claude-code-web' | 'codespaces' | 'gitpod' | 'github-actions' | 'ci' | 'local';

export function detectEnvironment(env: NodeJS.ProcessEnv): EnvironmentKind {
  if (env.CLAUDE_CODE_REMOTE === 'true' || env.CLAUDE_CODE_WEB === '1') return 'claude-code-web';
  if (env.CODESPACES === 'true') return 'codespaces';
  if (env.GITPOD_WORKSPACE_ID) return 'gitpod';
  if (env.GITHUB_ACTIONS === 'true') return 'github-actions';
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return 'ci';
  return 'local';
}
