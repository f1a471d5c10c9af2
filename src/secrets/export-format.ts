// Lines that hand secrets to a shell or to a dotenv reader, quoted so that no value can break out
// of its quotes: `eval "$(orchestrator secrets export)"` must set each variable to exactly its value.

export type ExportFormat = 'env' | 'dotenv';

/** POSIX single quotes: nothing inside is special; a quote is closed, escaped and reopened. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** `export KEY='value'`: for eval, `source`, or appending to $CLAUDE_ENV_FILE. */
export function envLine(name: string, value: string): string {
  return `export ${name}=${shellQuote(value)}`;
}

/**
 * `KEY='value'` when the value has no quote, backslash or line break: single quotes are literal in
 * every dotenv reader (no `$` interpolation). Otherwise `KEY="…"` with backslash escapes for \ "
 * and line breaks (\n, \r), as python-dotenv and docker compose decode them; `$` is left as it
 * is, and some readers interpolate it inside double quotes.
 */
export function dotenvLine(name: string, value: string): string {
  if (!/['\\\n\r]/.test(value)) return `${name}='${value}'`;
  const escaped = value.replace(/[\\"]/g, '\\$&').replaceAll('\n', '\\n').replaceAll('\r', '\\r');
  return `${name}="${escaped}"`;
}

export function exportLine(format: ExportFormat, name: string, value: string): string {
  return format === 'env' ? envLine(name, value) : dotenvLine(name, value);
}
